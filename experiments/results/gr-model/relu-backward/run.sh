#!/usr/bin/env bash
# LibTorch training with TIGER's ReLU backward as one multiply (gr_model::ops::relu)
# against Burn's default (a comparison and PyTorch's scalar masked_fill_), side by
# side: two binaries, the same `specgr bench train` configuration, alternated in
# PAIRS rounds (A B, B A, A B, ...), on the leave-one-out Beauty batches; then one
# short training with each binary on the same 2,560 examples, whose epoch loss and
# weights must be identical (the values are the same; only -0.0 against 0.0 differs).
#
#   OLD=/work/bins/specgr-tch-42c8a2c NEW=/work/bins/specgr-tch-<rev> \
#     experiments/results/gr-model/relu-backward/run.sh
#
# Writes out/<config>-<pair>-<old|new>.json and out/summary.md here.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
. experiments/runs/ab-train.sh
CONFIGS=${CONFIGS:-paper-sorted-1-bf16 paper-sorted-1-f32}
here=experiments/results/gr-model/relu-backward
ab_pairs $here/out "$OLD" "$NEW" "$PAIRS" "$CONFIGS"
{
  python3 experiments/scripts/ab_speed.py $here/out
  echo
  ab_bit_identical /tmp/relu-eq "$OLD" "$NEW"
} | tee $here/out/summary.md
