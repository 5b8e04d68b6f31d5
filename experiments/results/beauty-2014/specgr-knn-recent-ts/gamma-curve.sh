#!/usr/bin/env bash
# SpecGR-KNN's trade-off between in-sample and unseen targets on the time split's TEST
# as γ varies (the paper's Figure 3, left; a diagnostic, not a selection: γ is chosen
# on valid by run.sh), with the recency fine-tuned TIGER as verifier. A seeded random
# 2,000 test examples (seed 0), K 50, δ 50, β 50 (the settings tuned on valid), γ over
# GAMMAS; the first γ also runs TIGER and SemanticKNN alone on the same examples.
# Waits for run.sh's full test first (one core at a time). Reports:
# runs/evals/ts-recent-specgr-knn/test-curve/g<γ>; each kept, so the same command resumes:
#
#   SPECGR_BIN=/work/bins/specgr-tch-e88f4e4 nohup experiments/results/beauty-2014/specgr-knn-recent-ts/gamma-curve.sh \
#     >> runs/beauty-2014/logs/specgr-knn-recent.log 2>&1 &
#
# NORMALISATION=all-digits (a binary of 592d457 or later) draws the same curve with
# all-digits normalisation instead, SpecGR-KNN only (TIGER and SemanticKNN alone are in
# the curve above), after all-digits.sh's full test: runs/evals/ts-recent-specgr-knn-all/test-curve/g<γ>.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
dir=runs/evals/ts-recent-specgr-knn
norm=()
first=1
if [ "${NORMALISATION:-scored-digits}" != scored-digits ]; then
  dir=$dir-${NORMALISATION%-digits}
  norm=(--normalisation "$NORMALISATION")
  first=0
fi
until [ -f $dir/test/results.json ]; do sleep 60; done
. experiments/runs/torch-env.sh
for g in ${GAMMAS:--1.4 -2.2 -3 -4 -6 -10}; do
  out=$dir/test-curve/g$g
  methods=specgr-knn
  [ $first = 1 ] && methods=tiger,semantic-knn,specgr-knn
  first=0
  [ -f $out/results.json ] && continue
  echo "== $(date -u +%FT%TZ) test curve: SpecGR-KNN γ $g ${norm[*]}"
  mkdir -p $dir/test-curve
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part test \
    --sample 2000 --seed 0 --k 50 --draft-size 50 --beam-size 50 --threshold="$g" --methods $methods "${norm[@]}" \
    --report $out.partial 2>&1 | { grep -v "elapsed" || true; }
  rm -rf $out && mv $out.partial $out
done
echo "== $(date -u +%FT%TZ) test curve done: $dir/test-curve"
