#!/usr/bin/env bash
# SpecGR++ with a longer stage 1, on the Beauty time split: does its drafter improve
# with steps? Stage 1 of Table 1's SpecGR++ ran 4 epochs (2,156 steps of 256, 1 % of
# the reference's steps) and its encoder retrieves at valid R@50 0.0325, a third of
# SemanticKNN's; its loss and gradient equal a Hugging Face oracle's and the reference's
# optimiser settings change nothing (../specgr-pp-memorise/), so what is left to test
# is the budget. Here: the same recipe as Table 1's SpecGR++ (../specgr-pp-ts/, "Second
# rerun": from the cool-down fork's best, embedding batch 256, generation batch 64,
# bf16), with 20 stage-1 epochs (10,780 steps; the cosine decay spans them) and patience
# 8 validations, then stage 2's 2 epochs; then the encoder's retrieval curve is in its
# state; then the recency fine-tune TIGER alone has (2 stage-2 epochs on the newest
# 20,000 training examples at 5e-4, as ../specgr-pp-recent-ts/; added 2026-12-08), and
# SpecGR++'s γ, δ, β search on the seeded 2,000 valid examples beside its encoder alone
# (runs/evals/pp-long-specgr-pp/), the twin of ../specgr-pp-recent-ts/search.sh's.
#
# It waits for Table 1 (../table1-ts/) to finish, then runs at nice 10 (behind Table 4):
#
#   SPECGR_BIN=/work/bins/specgr-tch-dd13332 nohup nice -n 10 experiments/results/beauty-2014/specgr-pp-long-ts/chain.sh \
#     >> runs/beauty-2014/logs/specgr-pp-long-chain.log 2>&1 &
#
# (`../resume.sh` starts it.) Resumable: the training from its 5-minute checkpoints, the
# search from its reports. Run root runs/pp-long-ts; view runs/eval-view/pp-long.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?a LibTorch build, dd13332 or later (--patience)} SPECGR_DATA=${SPECGR_DATA:-../shared/data}
export MATMUL=${MATMUL-bf16} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
. experiments/runs/run-lock.sh
. experiments/runs/tuned.sh
R=runs/pp-long-ts
P=$R/beauty-2014/specgr-pp-rqvae-paper
INIT=runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-best
[ -d $INIT ] || { echo "specgr-pp-long: no $INIT (../tiger-paper-bs128/rerun-2026-12-06/chain.sh freezes it)" >&2; exit 1; }
until [ -f runs/evals/ts-recent-table1/test/results.json ] || [ -d $P/stage1/last ]; do sleep 60; done
mkdir -p $R/logs
if [ -z "$(tuned runs/evals/pp-long-specgr-pp/search.log || true)" ]; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) SpecGR++, 20 + 2 epochs, from $INIT ($SPECGR_BIN)"
  # Resumes an unfinished run; on a finished one it only reports it.
  RUNS=$R STAGE1_EPOCHS=20 STAGE2_EPOCHS=2 DEVICE=tch experiments/runs/specgr-pp.sh beauty-2014 $INIT \
    --emb-batch-size 256 --gen-batch-size 64 --patience 8 >> $R/logs/specgr-pp.log 2>&1
fi
experiments/results/beauty-2014/tiger-recent-ts/view.sh
v=runs/eval-view/pp-long/beauty-2014
mkdir -p $v
for part in embeddings semid tiger-rqvae-paper; do
  [ -e $v/$part ] || ln -s "$(readlink -f runs/eval-view/ts-recent/beauty-2014/$part)" $v/$part
done
PR=$R/recent/beauty-2014/specgr-pp-rqvae-paper
if [ -z "$(tuned runs/evals/pp-long-specgr-pp/search.log || true)" ] && [ ! -f $PR/done ]; then
  echo "== $(date -u +%FT%TZ) recency fine-tune from $P/stage2/best"
  mkdir -p $R/recent/logs
  RUNS=$R/recent STAGE1_EPOCHS=0 STAGE2_EPOCHS=2 DEVICE=tch experiments/runs/specgr-pp.sh beauty-2014 $P/stage2/best \
    --train-last 20000 --stage2-lr 5e-4 >> $R/recent/logs/specgr-pp.log 2>&1
  touch $PR/done
fi
[ -e $v/specgr-pp-rqvae-paper ] || ln -s "$PWD/$PR" $v/specgr-pp-rqvae-paper
. experiments/runs/torch-env.sh
DELTA_MAX=${DELTA_MAX:-1600} FIRST_METHODS=specgr-pp-drafter experiments/runs/tune-specgr.sh specgr-pp runs/evals/pp-long-specgr-pp --dataset beauty-2014 \
  --runs runs/eval-view/pp-long --ids rqvae --preset paper --part valid --sample 2000 --seed 42 --k 50 ${MATMUL:+--matmul $MATMUL}
echo "== $(date -u +%FT%TZ) done: $(tail -n 1 runs/evals/pp-long-specgr-pp/search.log)"
