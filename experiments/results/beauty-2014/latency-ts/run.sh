#!/usr/bin/env bash
# Table A6-style latency on the beauty-2014 time split with the recency fine-tuned TIGER
# (the view of ../tiger-recent-ts/view.sh): TIGER alone, SemanticKNN alone and SpecGR-KNN
# at GAMMA (default −6, where every draft passes in round 0 and the query exits after
# one scoring pass) with NORMALISATION (default all-digits), interleaved REPEAT times
# (default 3; the report keeps the median), at batch 32 on a seeded 1,000 test examples
# and at batch 1 on a seeded 300 (seed 1), K 50, δ 50, β 50, one thread. Reports:
# runs/evals/ts-recent-latency/batch-<B>. A diagnostic of speed at a γ valid did not
# choose (valid chose −1.4: ../specgr-knn-recent-ts/). Resumes (each report is kept):
#
#   SPECGR_BIN=/work/bins/specgr-tch-c78310b experiments/results/beauty-2014/latency-ts/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary (592d457 or later)} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
experiments/results/beauty-2014/tiger-recent-ts/view.sh
. experiments/runs/torch-env.sh
g=${GAMMA:--6}
for spec in "32 1000" "1 300"; do
  read -r b n <<<"$spec"
  out=runs/evals/ts-recent-latency/batch-$b
  [ -f $out/results.json ] && continue
  mkdir -p "$(dirname $out)"
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) batch $b, $n examples, γ $g"
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part test \
    --sample $n --seed 1 --k 50 --draft-size 50 --beam-size 50 --threshold="$g" \
    --normalisation "${NORMALISATION:-all-digits}" --methods tiger,semantic-knn,specgr-knn \
    --batch-size $b --repeat "${REPEAT:-3}" --report $out.partial 2>&1 | { grep -v elapsed || true; }
  rm -rf $out && mv $out.partial $out
done
