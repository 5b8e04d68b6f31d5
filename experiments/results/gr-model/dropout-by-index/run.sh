#!/usr/bin/env bash
# LibTorch training with the dropout masks drawn by index from their SplitMix64 stream
# (ea6ac87: `recdata::rng::splitmix64_at`, a loop the compiler vectorises) against the
# sequential loop before it (a45cf71), side by side: two binaries, the same `specgr
# bench train` configuration, alternated in PAIRS rounds (A B, B A, A B, ...), on the
# leave-one-out Beauty batches; then one short training with each binary on the same
# 2,560 examples, whose epoch loss, weights and optimiser state must be bit-identical
# (the masks are the same numbers).
#
#   OLD=/work/bins/specgr-tch-a45cf71 NEW=/work/bins/specgr-tch-ea6ac87 \
#     experiments/results/gr-model/dropout-by-index/run.sh
#
# Writes out/<config>-<pair>-<old|new>.json and out/summary.md here.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
. experiments/runs/ab-train.sh
CONFIGS=${CONFIGS:-paper-sorted-1-bf16}
here=experiments/results/gr-model/dropout-by-index
ab_pairs $here/out "$OLD" "$NEW" "$PAIRS" "$CONFIGS"
{
  python3 experiments/scripts/ab_speed.py $here/out
  echo
  ab_bit_identical /tmp/drop-eq "$OLD" "$NEW"
} | tee $here/out/summary.md
