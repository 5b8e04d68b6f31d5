#!/usr/bin/env bash
# γ of SpecGR-KNN on a seeded random 2,000 valid examples of the beauty-2014 time split
# (K = 50, δ = 50, β = 50). TIGER = the cool-down fork's best (runs/eval-view/ts-cool2-e8,
# 1,378,640 examples). The first γ also runs TIGER and SemanticKNN alone on the same examples.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_DATA=../shared/data LD_LIBRARY_PATH=$(python3 -c 'import os,torch;print(os.path.dirname(torch.__file__)+"/lib")' 2>/dev/null)
S=${SPECGR_BIN:-/work/bins/specgr-tch-unisrec}
methods=tiger,semantic-knn,specgr-knn
for g in ${GAMMAS:--3 -1.4 -6 -10}; do
  out=runs/evals/ts-specgr-knn/valid-g$g
  if [ ! -f $out/results.json ]; then
    echo "== $(date -u +%FT%TZ) gamma $g"
    $S eval --dataset beauty-2014 --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper --part valid --sample 2000 --seed 42 \
      --methods $methods --k 50 --beam-size 50 --threshold=$g --report $out.partial
    rm -rf $out && mv $out.partial $out
  fi
  methods=specgr-knn
done
