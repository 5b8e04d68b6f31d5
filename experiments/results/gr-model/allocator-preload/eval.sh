#!/usr/bin/env bash
# The same bf16 SpecGR-KNN evaluation (160 seeded valid examples of the Beauty time
# split, as ../bf16-inference/allocator.sh) under glibc with torch-env.sh's settings
# and under tcmalloc (LD_PRELOAD), two processes started together; seeds 3 and 5.
# Compare the "per query" lines in out/eval-*.log.
#
#   BIN=/work/bins/specgr-tch-<rev> experiments/results/gr-model/allocator-preload/eval.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
# glibc as the baseline: torch-env.sh itself now puts tcmalloc in front when installed.
export TCMALLOC=
. experiments/runs/torch-env.sh
export OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 SPECGR_DATA=${SPECGR_DATA:-../shared/data}
B=${BIN:?the LibTorch build} here=experiments/results/gr-model/allocator-preload
mkdir -p $here/out
for seed in 3 5; do
  E="$B eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --device tch --part valid \
    --sample 160 --seed $seed --k 50 --methods tiger,specgr-knn --threshold=-1.4 --draft-size 100 --beam-size 50 --matmul bf16"
  $E > $here/out/eval-glibc-$seed.log 2>&1 &
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 $E > $here/out/eval-tcmalloc-$seed.log 2>&1 &
  wait
  grep -H -o "per query.*total" $here/out/eval-glibc-$seed.log $here/out/eval-tcmalloc-$seed.log || true
done
