#!/usr/bin/env bash
# A brief learning-rate x batch-size sweep of TIGER in the paper's shape, on a fixed
# budget of training examples, before (or beside) the long run of tiger-paper.sh.
#
# Every configuration trains the same model from the same seed for EPOCHS epochs (one
# epoch of beauty-2014-loo: 131,413 examples) with the recipe of tiger-paper.sh
# (constant-rate Adam after warm-up, dropout 0.1, length-sorted batches) and is
# validated after each epoch with constrained beam search on a seeded random sample
# of VALID users. Warm-up is fixed in *examples* (WARMUP_EXAMPLES, default 32,768:
# 128 steps at batch 256) so that a small batch does not spend more of the budget
# warming up than a large one.
#
#   experiments/runs/tiger-sweep.sh beauty-2014-loo
#
# Each configuration has its own run directory (runs/<DATASET>/sweep/tiger-lr<LR>-bs<BS>);
# run the same command again after a kill and it resumes the unfinished one and skips
# the finished ones. At the end (and after each configuration) it prints the table of
# every configuration's validation results (experiments/scripts/tiger_sweep_table.py).
#
# Environment: LRS ("5e-4 1e-3 2e-3"), BATCHES ("128 256 512"), EPOCHS (1), VALID
# (2000), WARMUP_EXAMPLES (32768), SEED (42), DEVICE (cpu, or tch: see tiger-paper.sh),
# SHARDS (1), SPECGR_BIN, PYTHON. A short budget favours fast early learning (large
# rates, small batches); read it as a screen for the long run, not as its result.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATASET=${1:?usage: tiger-sweep.sh DATASET}
LRS=${LRS:-5e-4 1e-3 2e-3}
BATCHES=${BATCHES:-128 256 512}
EPOCHS=${EPOCHS:-1}
VALID=${VALID:-2000}
WARMUP_EXAMPLES=${WARMUP_EXAMPLES:-32768}
SEED=${SEED:-42}
# SORT_WINDOW 0 trains on plain shuffled batches (the A/B of length-sorted batches against
# shuffled ones); a configuration off the defaults (window 32, seed 42) gets its own
# run directory, suffixed -sw<N> and -seed<N>.
SORT_WINDOW=${SORT_WINDOW:-32}
SHARDS=${SHARDS:-1}
DEVICE=${DEVICE:-cpu}
PYTHON=${PYTHON:-python3}
S=${SPECGR_BIN:-./target/release/specgr}
[ -x "$S" ] || cargo build --release -p bench --features avx512
if [ "$DEVICE" = tch ]; then
  . experiments/runs/torch-env.sh
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
fi
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
SWEEP=runs/$DATASET/sweep
mkdir -p "$SWEEP/logs"
for bs in $BATCHES; do
  for lr in $LRS; do
    name="tiger-lr$lr-bs$bs"
    [ "$SORT_WINDOW" = 32 ] || name="$name-sw$SORT_WINDOW"
    [ "$SEED" = 42 ] || name="$name-seed$SEED"
    out="$SWEEP/$name"
    log="$SWEEP/logs/$name.log"
    warmup=$(( (WARMUP_EXAMPLES + bs - 1) / bs ))
    echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(uname -n): lr $lr, batch $bs, warm-up $warmup steps, sort window $SORT_WINDOW, seed $SEED, $DEVICE ($S)" | tee -a "$log"
    "$S" train tiger --dataset "$DATASET" --ids rqvae --preset paper \
      --epochs "$EPOCHS" --batch-size "$bs" --lr "$lr" --lr-decay constant --warmup-steps "$warmup" \
      --weight-decay 0 --dropout 0.1 --sort-window "$SORT_WINDOW" --shards "$SHARDS" --select-by recall \
      --eval-every 1 --valid-sample "$VALID" --patience 100 --checkpoint-minutes 5 --seed "$SEED" \
      --device "$DEVICE" --out "$out" >> "$log" 2>&1
    "$PYTHON" experiments/scripts/tiger_sweep_table.py "$SWEEP"
  done
done
