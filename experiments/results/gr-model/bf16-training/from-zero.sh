#!/usr/bin/env bash
# bf16 against float32 from the first step (where updates are largest): two runs of
# the paper TIGER from the same seeded initialisation on a seeded sample of 20,000
# time-split training examples, 2 epochs of batch 128 at the campaign's constant rate
# (1e-3, 100 warm-up steps), the same batches and dropout masks; validated (float32)
# on the same seeded 1,000 validation examples after each epoch. Only the precision of
# the linear maps' products differs. One LibTorch thread each, run at the same time.
#
#   BIN=/work/bins/specgr-tch-<rev> experiments/results/gr-model/bf16-training/from-zero.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${BIN:?a LibTorch build with --matmul}
for p in f32 bf16; do
  BATCH=128 WARMUP=100 LR_DECAY=constant EPOCHS=2 VALID_SAMPLE=1000 DEVICE=tch SHARDS=1 OMP_NUM_THREADS=1 MATMUL=$p \
    experiments/runs/tiger-paper.sh beauty-2014 --train-sample 20000 --out runs/beauty-2014/prec-zero-$p \
    > runs/beauty-2014/logs/prec-zero-$p.log 2>&1 &
done
wait
