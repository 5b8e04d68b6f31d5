#!/usr/bin/env bash
# SpecGR++ from a trained TIGER on a Beauty split: stage 1 (contrastive pre-training,
# InfoNCE at τ 0.07 with in-batch negatives, λ 6, embedding batch 1024 of which the
# first 256 also feed the generation loss, AdamW 3e-4 with 5 % warm-up and cosine
# decay), then stage 2 (learning to rank: softmax over every in-sample item against
# stage 1's frozen item vectors, λ 20, batch 256, 3e-5), each keeping its best epoch on
# the encoder's retrieval Recall@50 over all items on a seeded random VALID_SAMPLE
# (default 2,000) validation examples, early stopping after 5 validations without a
# better one. The reference runs 80 + 15 epochs on 4 GPUs; STAGE1_EPOCHS and
# STAGE2_EPOCHS (defaults 4 and 2) scale that to this CPU (the cosine decay spans the
# epochs given, so they are part of the run's settings). Encoder micro-batches of 128
# length-sorted rows (the same losses and gradients, without the padding of shuffled
# batches) and a checkpoint every 5 minutes.
#
# Run it again, after a kill or on another machine with the same runs/, and it resumes
# from the last checkpoint:
#
#   DEVICE=tch SPECGR_BIN=... nohup experiments/runs/specgr-pp.sh beauty-2014 runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-best \
#     >> runs/pp-beauty-2014/logs/specgr-pp.log 2>&1 &
#
# RUNS (default runs/pp-<dataset>) is the run directory: the TIGER's semantic IDs are
# linked into it from runs/<dataset>/semid, and the model lands in
# RUNS/<dataset>/specgr-pp-<IDS>-paper/. Extra arguments go to `specgr train specgr++`.
# DEVICE (default cpu, Burn's Flex) picks the backend; DEVICE=tch needs a binary built
# with `--features tch` (`cargo xtask libtorch --build`) named in SPECGR_BIN.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATASET=${1:?usage: specgr-pp.sh DATASET TIGER_CHECKPOINT [specgr train specgr++ options]}
INIT=${2:?usage: specgr-pp.sh DATASET TIGER_CHECKPOINT [specgr train specgr++ options]}
shift 2
. experiments/runs/one-thread-env.sh
RUNS=${RUNS:-runs/pp-$DATASET}
mkdir -p "$RUNS/$DATASET" "$RUNS/logs"
# The TIGER's semantic IDs (the run checks that --init was trained on them): IDS
# (default rqvae) under SEMID (default runs/<dataset>/semid), linked into RUNS.
[ -e "$RUNS/$DATASET/semid" ] || ln -s "$(pwd)/${SEMID:-runs/$DATASET/semid}" "$RUNS/$DATASET/semid"
echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(uname -n) $(getconf _NPROCESSORS_ONLN) cores (${THREADS:-1} threads): SpecGR++ on $DATASET from $INIT, $DEVICE ($S)"
# MATMUL=bf16: the TIGER's linear maps as bfloat16 products (`--matmul`, binaries of
# 2026-12-07 on); a run resumes in either precision.
MATMUL_ARGS=()
[ -n "${MATMUL:-}" ] && MATMUL_ARGS=(--matmul "$MATMUL")
exec "$S" train specgr++ --dataset "$DATASET" --ids "${IDS:-rqvae}" --preset paper --init "$INIT" \
  --stage1-epochs "${STAGE1_EPOCHS:-4}" --stage2-epochs "${STAGE2_EPOCHS:-2}" \
  --valid-sample "${VALID_SAMPLE:-2000}" --micro-batch 128 --checkpoint-minutes 5 \
  --seed 42 --device "$DEVICE" --runs "$RUNS" "${MATMUL_ARGS[@]}" "$@"
