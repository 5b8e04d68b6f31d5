#!/usr/bin/env bash
# LibTorch training with attention's score and context products in bfloat16
# (gr_model::ops::matmul4 under --matmul bf16, as torch.autocast runs matmul) against
# the binary that kept them float32, side by side: two binaries, the same
# `specgr bench train` configuration, alternated in PAIRS rounds (A B, B A, ...), on the
# leave-one-out Beauty batches; then one short training with each binary on the same
# first TRAIN_LIMIT training examples (the paper shape, bf16, dropout 0.1, seed 42),
# whose epoch losses and valid Recall@10 are compared (rounding differs, so they are
# near, not equal).
#
#   OLD=/work/bins/specgr-tch-de453f1 NEW=/work/bins/specgr-tch-<rev> \
#     experiments/results/gr-model/bf16-attention/run.sh
#
# Writes out/<config>-<pair>-<old|new>.json, out/train-<old|new>-state.json and
# out/summary.md here.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
. experiments/runs/ab-train.sh
CONFIGS=${CONFIGS:-paper-sorted-1-bf16}
here=experiments/results/gr-model/bf16-attention
ab_pairs $here/out "$OLD" "$NEW" "$PAIRS" "$CONFIGS"
TRAIN_LIMIT=${TRAIN_LIMIT:-25600} EPOCHS=${EPOCHS:-2}
# The short trainings run side by side (one core each), so their times compare too.
ab_short_training /tmp/bf16-attn-old "$OLD" $TRAIN_LIMIT $EPOCHS 2000 &
ab_short_training /tmp/bf16-attn-new "$NEW" $TRAIN_LIMIT $EPOCHS 2000 &
wait
for which in old new; do
  cp /tmp/bf16-attn-$which/last/state.json $here/out/train-$which-state.json
  cp /tmp/bf16-attn-$which.log $here/out/train-$which.log
done
{
  python3 experiments/scripts/ab_speed.py $here/out
  echo
  python3 - "$here" <<'PY'
import json, sys
print("| short training | epoch losses | best valid (metric, epoch) |\n| --- | --- | --- |")
for w in ("old", "new"):
    s = json.load(open(f"{sys.argv[1]}/out/train-{w}-state.json"))
    print(f"| {w} | {', '.join(f'{x:.4f}' for x in s['epoch_losses'])} | {s.get('best')} |")
PY
} | tee $here/out/summary.md
