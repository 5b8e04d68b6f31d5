#!/usr/bin/env bash
# SpecGR-KNN on the beauty-2014 time split with the recency fine-tuned TIGER as verifier
# (the view of ../tiger-recent-ts/view.sh), unattended and resumable:
# 1. γ, then δ and β, on the seeded random 2,000 valid examples of seed 42 (K = 50;
#    experiments/runs/tune-specgr.sh; the first γ also runs TIGER and SemanticKNN alone on
#    the same examples). Reports and search.log: runs/evals/ts-recent-specgr-knn/.
# 2. The full test (19,544 examples) at the tuned settings: TIGER, SemanticKNN, SpecGR-KNN
#    and Popularity over the last 14 days, side by side in one process, with the overlap of
#    every pair's top 50: runs/evals/ts-recent-specgr-knn/test (moved there whole when it
#    ends, so a killed run starts over).
#
#   SPECGR_BIN=/work/bins/specgr-tch-e88f4e4 nohup experiments/results/beauty-2014/specgr-knn-recent-ts/run.sh \
#     >> runs/beauty-2014/logs/specgr-knn-recent.log 2>&1 &
#
# NORMALISATION=all-digits (`specgr eval --normalisation all-digits`, ours: README.md
# here, "All-digits normalisation"; a binary of 592d457 or later) tunes and tests the
# same way with that normalisation, SpecGR-KNN alone (the other methods are in the
# reports above, on the same examples): runs/evals/ts-recent-specgr-knn-all/
# (`all-digits.sh` here).
#
# MATMUL=bf16 (a binary of 1a882af or later) runs the full test with `--matmul bf16`:
# TIGER's linear maps as bfloat16 products, as the reference's autocast inference,
# 1.3-2x faster with the same lists (../../gr-model/bf16-inference/). The search on
# valid ran in float32.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
experiments/results/beauty-2014/tiger-recent-ts/view.sh
dir=runs/evals/ts-recent-specgr-knn
first=tiger,semantic-knn
test_methods=tiger,semantic-knn,specgr-knn,popularity
norm=()
case ${NORMALISATION:-scored-digits} in
  scored-digits) ;;
  all-digits)
    dir=$dir-all first="" test_methods=specgr-knn norm=(--normalisation all-digits) ;;
  *) echo "run.sh: NORMALISATION must be scored-digits or all-digits, not $NORMALISATION" >&2; exit 2 ;;
esac
. experiments/runs/tuned.sh
t=$(tuned $dir/search.log)
if [ -z "$t" ]; then
  FIRST_METHODS=$first experiments/runs/tune-specgr.sh specgr-knn $dir --dataset beauty-2014 "${norm[@]}" \
    --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part valid --sample 2000 --seed 42 --k 50
  t=$(tuned $dir/search.log)
fi
read -r g d b <<<"$t"
out=$dir/test
if [ ! -f $out/results.json ]; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) full test: SpecGR-KNN ${norm[*]} γ $g δ $d β $b ($SPECGR_BIN)"
  . experiments/runs/torch-env.sh
  extra=()
  [ $test_methods = specgr-knn ] || extra=(--popularity-days 14 --overlap)
  [ -z "${MATMUL:-}" ] || extra+=(--matmul "$MATMUL")
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part test \
    --methods $test_methods "${extra[@]}" "${norm[@]}" --k 50 \
    --threshold="$g" --draft-size "$d" --beam-size "$b" --report $out.partial
  rm -rf $out && mv $out.partial $out
fi
echo "== $(date -u +%FT%TZ) done: $out"
