#!/usr/bin/env bash
# TIGER, the paper's shape (4+4 layers, d_model 128, 6 heads of 64, d_ff 1024), on a
# Beauty split, with the recipe of the published reproductions: Adam at a constant
# 1e-3 after 500 warm-up steps, batch 256, dropout 0.1, every prefix of a user's
# sequence as a sample, best checkpoint on valid Recall@10 (constrained beam search,
# beam 20, on the first 2,000 validation examples), patience 8 epochs. Length-sorted
# batches (runs of 32 batches) cut the padding; a checkpoint every 5 minutes; one
# shard, so that two such runs (leave-one-out and the time split) share the two
# cores without waiting on each other.
#
# Run it again, after a kill or on another machine with the same runs/, and it
# resumes from the last checkpoint with the same numbers:
#
#   nohup experiments/runs/tiger-paper.sh beauty-2014-loo >> runs/beauty-2014-loo/logs/tiger-paper.log 2>&1 &
#   nohup experiments/runs/tiger-paper.sh beauty-2014     >> runs/beauty-2014/logs/tiger-paper.log 2>&1 &
#
# Needs SPECGR_DATA (the Beauty CSVs) and, once per dataset, `specgr embed` and
# `specgr semid fit --method rqvae`. Extra arguments go to `specgr train tiger`
# (flags it already passes cannot be given twice: for those, use LR, GRAD_CLIP,
# ADAM_EPSILON, LR_DECAY and EPOCHS, defaults 1e-3, per-tensor, 1e-5, constant and 50,
# and BATCH, WARMUP, VALID_SAMPLE below; a variant also needs its own
# `--out`; IDS picks the semantic IDs, default rqvae, each in its own run directory).
# The A/B variant with PyTorch's optimiser defaults at the learning rate of
# cornac's GRID_CONFIG (experiments/results/beauty-2014-loo/tiger-paper-ab/):
#
#   LR=5e-4 GRAD_CLIP=global ADAM_EPSILON=1e-8 nohup experiments/runs/tiger-paper.sh beauty-2014-loo \
#     --out runs/beauty-2014-loo/tiger-rqvae-paper-lr5e-4-torch >> runs/beauty-2014-loo/logs/tiger-paper-lr5e-4-torch.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
DATASET=${1:?usage: tiger-paper.sh DATASET [specgr train tiger options]}
shift
# With gemm's AVX-512 matmul kernels (`--features avx512`): 1.17-1.2x the samples/s of
# the plain release build on this model (experiments/results/gr-model/train-throughput.md,
# repeat 4); the kernels are picked at run time, so the binary runs on any x86-64.
S=${SPECGR_BIN:-./target/release/specgr}
[ -x "$S" ] || cargo build --release -p bench --features avx512
# SHARDS (default 1) splits each batch over that many threads; a run resumes with
# another value (same updates up to rounding and dropout draws). With one run on the
# machine, DEVICE=tch SHARDS=2 OMP_NUM_THREADS=1 is the fastest CPU training measured
# (2.0x LibTorch's 1 shard, 1.39x Flex's best; repeats 5-6 of train-throughput.md).
# DEVICE=tch trains on Burn's LibTorch backend (a binary built with `--features tch`,
# e.g. `LIBTORCH_USE_PYTORCH=1 cargo build --release -p bench --features tch,avx512`,
# named in SPECGR_BIN): at one shard and OMP_NUM_THREADS=2 it measured 1.40x the
# samples/s of Flex's one shard (experiments/results/gr-model/train-throughput.md,
# repeat 5). The device is not part of the run's settings, so a run resumes on either;
# float sums then run in another order (close, not bit-identical, numbers).
DEVICE=${DEVICE:-cpu}
if [ "$DEVICE" = tch ]; then
  . experiments/runs/torch-env.sh
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
fi
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
# On a new machine, a run carried over from the last one (experiments/runs/carry.sh) is
# put back first, so that this command resumes it; a no-op where runs/ has it.
experiments/runs/carry.sh restore
mkdir -p "runs/$DATASET/logs"
echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(uname -n) $(getconf _NPROCESSORS_ONLN) cores (OMP_NUM_THREADS ${OMP_NUM_THREADS:-unset}, ${SHARDS:-1} shards): $DATASET on $DEVICE ($S)"
# BATCH (default 256) and WARMUP (steps, default 500) are the recipe of the runs recorded
# so far; the one-epoch sweep (experiments/results/beauty-2014-loo/tiger-sweep/) favours
# BATCH=128 WARMUP=256 (the same 32,768 warm-up examples) at rate 1e-3. VALID_SAMPLE=N
# validates on a seeded random N validation users instead of the first 2,000 (which are
# easier than average: tiger-paper/README.md).
# A cool-down fork of a run (experiments/results/beauty-2014-loo/tiger-cooldown/): a copy of
# the run's last/ frozen aside, then LR_DECAY=cosine WARMUP=1 EPOCHS=2 and
# `--init-from COPY --out NEW_RUN_DIR` (the cosine decay runs from the peak rate to zero
# over EPOCHS epochs, starting from the copy's model and optimiser).
VALIDATION=(--valid-limit 2000)
[ -n "${VALID_SAMPLE:-}" ] && VALIDATION=(--valid-sample "$VALID_SAMPLE")
# MATMUL=bf16: bfloat16 products (`--matmul`, binaries of 2026-12-07 on; a run resumes
# in either precision; experiments/results/gr-model/bf16-training/).
[ -n "${MATMUL:-}" ] && set -- "$@" --matmul "$MATMUL"
exec "$S" train tiger --dataset "$DATASET" --ids "${IDS:-rqvae}" --preset paper \
  --epochs "${EPOCHS:-50}" --batch-size "${BATCH:-256}" --lr "${LR:-1e-3}" --grad-clip "${GRAD_CLIP:-per-tensor}" \
  --adam-epsilon "${ADAM_EPSILON:-1e-5}" --lr-decay "${LR_DECAY:-constant}" --warmup-steps "${WARMUP:-500}" \
  --weight-decay 0 --dropout 0.1 --sort-window 32 --shards "${SHARDS:-1}" --select-by recall \
  --eval-every 1 "${VALIDATION[@]}" --patience 8 --checkpoint-minutes 5 --seed 42 --device "$DEVICE" "$@"
