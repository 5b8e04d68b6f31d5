#!/usr/bin/env bash
# Training samples/s with and without the allocator settings, side by side (two processes at once).
cd "$(dirname "$0")/../../../.."
TORCH_LIB="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH=$TORCH_LIB OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 SPECGR_DATA=../shared/data
OUT=${OUT:-runs/evals/bf16-inference/allocator-train}; mkdir -p $OUT
B=${BIN:?the LibTorch build}
C="$B bench train --dataset beauty-2014 --ids rqvae --device tch --config paper-sorted-1-bf16 --batch-size 128 --rounds 5 --steps 6"
for rep in 1 2 3 4 5; do
  $C --json $OUT/plain-$rep.json > $OUT/plain-$rep.log 2>&1 &
  MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=268435456 $C --json $OUT/malloc-$rep.json > $OUT/malloc-$rep.log 2>&1 &
  wait
done
