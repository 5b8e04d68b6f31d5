#!/usr/bin/env bash
# The allocator settings of experiments/runs/torch-env.sh against glibc's defaults, side
# by side: the same bf16 SpecGR-KNN evaluation (160 seeded valid examples) as two
# processes started together, one with MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_
# / MALLOC_TOP_PAD_ set; twice, with two seeds. Compare the "per query" lines.
#
#   BIN=/work/bins/specgr-tch-1a882af experiments/results/gr-model/bf16-inference/allocator.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
B=${BIN:?the LibTorch build of specgr with eval --matmul}
TORCH_LIB="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH=$TORCH_LIB OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
OUT=runs/evals/bf16-inference/allocator
mkdir -p $OUT
for seed in 3 5; do
  E="$B eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --device tch --part valid \
    --sample 160 --seed $seed --k 50 --methods specgr-knn --threshold=-1.4 --draft-size 100 --beam-size 50 --matmul bf16"
  $E > $OUT/glibc-default-$seed.log 2>&1 &
  MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=2147483648 MALLOC_TOP_PAD_=268435456 $E > $OUT/kept-$seed.log 2>&1 &
  wait
  grep -H -o "per query.*total" $OUT/glibc-default-$seed.log $OUT/kept-$seed.log
done
