#!/usr/bin/env bash
# Quality per sample of bf16 training (`specgr train tiger --matmul bf16`) against
# float32, side by side: two forks of the same checkpoint (the time-split paper TIGER
# frozen at the end of its epoch 8, runs/beauty-2014/frozen/tiger-rqvae-paper-e8-b0,
# 1,102,912 examples seen), each trained one more epoch at the source's constant rate
# on the very same batches (same seed, same shuffles, one LibTorch thread each), then
# validated on the same seeded 2,000 validation examples (in float32, both). They
# differ only in the precision of the linear maps' products.
#
#   BIN=/work/bins/specgr-tch-<rev> experiments/results/gr-model/bf16-training/run.sh
#
# UniSRec's training (if it runs) is paused meanwhile (SIGSTOP) and continued after.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${BIN:?the LibTorch build (with --matmul) that trains the forks}
FROZEN=runs/beauty-2014/frozen/tiger-rqvae-paper-e8-b0
[ -d $FROZEN ] || { echo "no $FROZEN" >&2; exit 1; }
pkill -STOP -f 'train unisrec' || true
trap "pkill -CONT -f 'train unisrec' || true" EXIT
for p in f32 bf16; do
  BATCH=128 WARMUP=1 LR_DECAY=constant EPOCHS=1 VALID_SAMPLE=2000 DEVICE=tch SHARDS=1 OMP_NUM_THREADS=1 \
    experiments/runs/tiger-paper.sh beauty-2014 --init-from $FROZEN --out runs/beauty-2014/prec-e8-$p --matmul $p \
    > runs/beauty-2014/logs/prec-e8-$p.log 2>&1 &
done
wait
