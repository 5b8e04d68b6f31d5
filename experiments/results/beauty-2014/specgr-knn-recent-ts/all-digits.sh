#!/usr/bin/env bash
# SpecGR-KNN with the recency fine-tuned TIGER, scores normalised by the full ID length
# (`specgr eval --normalisation all-digits`, ours: README.md here, "All-digits
# normalisation"), tuned and tested exactly as run.sh does with the paper's rule:
# 1. γ, then δ and β, on the seeded 2,000 valid examples of seed 42 (K = 50; TIGER and
#    SemanticKNN alone on them are in run.sh's reports): runs/evals/ts-recent-specgr-knn-all/.
# 2. The full test at the tuned settings, SpecGR-KNN only (TIGER, SemanticKNN and
#    Popularity on the same examples: run.sh's test/): runs/evals/ts-recent-specgr-knn-all/test.
# Needs a binary of 592d457 or later. Resumes as run.sh does:
#
#   SPECGR_BIN=/work/bins/specgr-tch-c78310b nohup experiments/results/beauty-2014/specgr-knn-recent-ts/all-digits.sh \
#     >> runs/beauty-2014/logs/specgr-knn-all.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
experiments/results/beauty-2014/tiger-recent-ts/view.sh
dir=runs/evals/ts-recent-specgr-knn-all
tuned() { [ -f $dir/search.log ] && tail -n 1 $dir/search.log | sed -n 's/^TUNED gamma=\([^ ]*\) delta=\([^ ]*\) beta=\([^ ]*\)$/\1 \2 \3/p'; }
t=$(tuned || true)
if [ -z "$t" ]; then
  experiments/runs/tune-specgr.sh specgr-knn $dir --dataset beauty-2014 --normalisation all-digits \
    --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part valid --sample 2000 --seed 42 --k 50
  t=$(tuned)
fi
read -r g d b <<<"$t"
out=$dir/test
if [ ! -f $out/results.json ]; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) full test: SpecGR-KNN all-digits γ $g δ $d β $b ($SPECGR_BIN)"
  . experiments/runs/torch-env.sh
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part test \
    --methods specgr-knn --normalisation all-digits --k 50 \
    --threshold="$g" --draft-size "$d" --beam-size "$b" --report $out.partial
  rm -rf $out && mv $out.partial $out
fi
echo "== $(date -u +%FT%TZ) done: $out"
