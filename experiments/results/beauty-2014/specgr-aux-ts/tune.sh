#!/usr/bin/env bash
# γ of SpecGR_Aux on a seeded random 2,000 valid examples of the beauty-2014 time split
# (K = 50, δ = 50, β = 50): UniSRec (trained to its early-stopping point,
# ../unisrec-converged/) drafts, TIGER = the cool-down fork's best (runs/eval-view/ts-cool2-e8,
# 1,378,640 examples) verifies. The first γ also runs UniSRec and TIGER_C alone on the
# same examples (TIGER and SemanticKNN alone on them: ../specgr-knn-ts/valid-tune/).
# The view needs `unisrec` linked in: ln -s $(pwd)/runs/beauty-2014/unisrec runs/eval-view/ts-cool2-e8/beauty-2014/unisrec
set -euo pipefail
cd "$(dirname "$0")/../../../.."
. experiments/runs/torch-env.sh
export SPECGR_DATA=../shared/data OMP_NUM_THREADS=1
S=${SPECGR_BIN:-/work/bins/specgr-tch-pp}
methods=${FIRST_METHODS:-unisrec,tiger-c,specgr-aux}
for g in ${GAMMAS:--3 -1.4 -6 -10}; do
  out=runs/evals/ts-specgr-aux/valid-g$g
  if [ ! -f $out/results.json ]; then
    echo "== $(date -u +%FT%TZ) gamma $g"
    $S eval --dataset beauty-2014 --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper --part valid --sample 2000 --seed 42 \
      --methods $methods --k 50 --beam-size 50 --threshold=$g --report $out.partial
    rm -rf $out && mv $out.partial $out
  fi
  methods=specgr-aux
done
