#!/usr/bin/env bash
# Can SpecGR++'s stage 1 fit a small training set? Stage 1 alone (contrastive InfoNCE
# at τ 0.07, λ 6, plus the generation loss) from the time split's TIGER (the cool-down
# fork's best, as Table 1's SpecGR++), on a seeded 2,000 of the 137,864 training
# examples (seed 42), embedding batch 256 (8 steps an epoch), no early stop
# (`--patience 100`, 771b862+), bfloat16 products, one LibTorch thread. LR is the stage-1
# learning rate (the reference's 3e-4, or 10x); EPOCHS the epochs (the cosine decay
# spans them). The run root is runs/pp-memo-<LR>; its stage1/last/state.json has every
# epoch's mean losses (`epoch_losses`: InfoNCE, generation).
#
#   SPECGR_BIN=/work/bins/specgr-tch-771b862 LR=3e-4 EPOCHS=40 experiments/results/beauty-2014/specgr-pp-memorise/run.sh
#   SPECGR_BIN=/work/bins/specgr-tch-771b862 LR=3e-3 EPOCHS=20 experiments/results/beauty-2014/specgr-pp-memorise/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?a LibTorch build, 771b862 or later}
LR=${LR:?stage-1 learning rate} EPOCHS=${EPOCHS:?stage-1 epochs}
R=runs/pp-memo-$LR
mkdir -p $R/logs
RUNS=$R DEVICE=tch MATMUL=bf16 STAGE1_EPOCHS=$EPOCHS STAGE2_EPOCHS=0 VALID_SAMPLE=200 \
  experiments/runs/specgr-pp.sh beauty-2014 runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-best \
  --emb-batch-size 256 --gen-batch-size 64 --train-sample 2000 --patience 100 --stage1-lr $LR >> $R/logs/specgr-pp.log 2>&1
