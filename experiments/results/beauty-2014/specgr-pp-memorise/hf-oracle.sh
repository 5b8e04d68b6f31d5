#!/usr/bin/env bash
# Stage 1 on the same 2,000 training examples with Hugging Face T5 in PyTorch
# (crates/gr-model/tools/hf_specgr_pp_stage1_train.py), from the same TIGER weights, to
# set its per-epoch InfoNCE beside ours (run.sh with MATMUL= for float32, 40 epochs).
# The batches are TIGER's sampler's (`specgr tiger trace --export-only`, batch 256,
# 28 passes over the sampled 2,000); the schedule is ours for 40 epochs (320 steps,
# 5 % warm-up, cosine); PyTorch's AdamW (eps 1e-8), global clipping, dropout 0.1, one
# thread. Needs `pip install -r crates/gr-model/tools/requirements.txt`.
#
#   SPECGR_BIN=/work/bins/specgr-tch-dd13332 experiments/results/beauty-2014/specgr-pp-memorise/hf-oracle.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?a LibTorch build, dd13332 or later} SPECGR_DATA=${SPECGR_DATA:-../shared/data}
. experiments/runs/torch-env.sh
S=${SCRATCH:-/work/scratch/memo}
mkdir -p $S
INIT=runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-best
"$SPECGR_BIN" tiger export-hf --model $INIT --out $S/tiger.safetensors
"$SPECGR_BIN" tiger trace --dataset beauty-2014 --ids rqvae --preset paper --init-from $INIT --train-sample 2000 \
  --seed 42 --batch-size 256 --epochs 28 --init-hf $S/unused-init.safetensors --export-batches $S/batches.safetensors \
  --export-only --out $S/trace-out
cd crates/gr-model/tools
python3 hf_specgr_pp_stage1_train.py --init $S/tiger.safetensors --batches $S/batches.safetensors --steps 224 \
  --total-steps 320 --steps-per-epoch 8 --loss-csv $S/hf-stage1.csv
