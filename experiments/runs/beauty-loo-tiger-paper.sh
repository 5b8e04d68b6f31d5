#!/usr/bin/env bash
# TIGER, the paper's shape (4+4 layers, d_model 128, 6 heads of 64, d_ff 1024), on
# Beauty 2014 leave-one-out, with the recipe of the published reproductions: Adam at
# a constant 1e-3 after 500 warm-up steps, batch 256, dropout 0.1, every prefix of a
# user's sequence as a sample, best checkpoint on valid Recall@10 (constrained beam
# search, beam 20, on the first 2,000 validation users), patience 8 epochs.
# Length-sorted batches (runs of 32 batches) cut the padding; a checkpoint every 5
# minutes. Run it again, after a kill or on another machine with the same runs/, and
# it resumes from the last checkpoint with the same numbers.
#
#   nohup experiments/runs/beauty-loo-tiger-paper.sh >> runs/beauty-2014-loo/logs/tiger-paper.log 2>&1 &
#
# Needs SPECGR_DATA (the Beauty CSVs) and, once, `specgr embed` and
# `specgr semid fit --method rqvae` for beauty-2014-loo.
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${SPECGR_BIN:-./target/release/specgr}
[ -x "$S" ] || cargo build --release -p bench
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
mkdir -p runs/beauty-2014-loo/logs
echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(uname -n) $(nproc) cores"
exec "$S" train tiger --dataset beauty-2014-loo --ids rqvae --preset paper \
  --epochs 50 --batch-size 256 --lr 1e-3 --lr-decay constant --warmup-steps 500 \
  --weight-decay 0 --dropout 0.1 --sort-window 32 --select-by recall \
  --eval-every 1 --valid-limit 2000 --patience 8 --checkpoint-minutes 5 --seed 42 "$@"
