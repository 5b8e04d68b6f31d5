#!/usr/bin/env bash
# The rest of the time-split TIGER rerun's recipe, unattended: stop the constant-rate
# run at the end of epoch 8 and freeze that checkpoint, run the 2-epoch cosine cool-down
# fork from it, then the full test of the fork's best beside SemanticKNN and Popularity
# (last 14 days) in one process, the γ grid of SpecGR-KNN on valid with it
# (../../specgr-knn-ts/tune.sh), and then SpecGR++ from a frozen copy of the fork's best
# (experiments/runs/specgr-pp.sh, embedding batch 256, as ../../specgr-pp-ts/). Each step
# is skipped when its output exists, so the same command resumes after a kill. SHARDS
# (default 1) is the cool-down's: 2 while UniSRec's rerun is paused (SIGSTOP), 1 beside
# it; after the cool-down a paused UniSRec is continued (SIGCONT). SpecGR++ trains with
# bfloat16 products (MATMUL, default bf16 since 2026-12-07 11:30 UTC: the same loss and
# valid Recall per sample as float32 at ~2x the samples/s,
# ../../../gr-model/bf16-training/; SPECGR_BIN must then know `--matmul`; MATMUL=
# leaves it out).
#
#   SPECGR_BIN=/work/bins/specgr-tch-5c6eecf nohup experiments/results/beauty-2014/tiger-paper-bs128/rerun-2026-12-06/chain.sh \
#     >> runs/beauty-2014/logs/tiger-paper-chain.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the LibTorch build that trains the run}
RUNS=runs/beauty-2014
FROZEN=$RUNS/frozen/tiger-rqvae-paper-e8-b0
COOL=$RUNS/tiger-rqvae-paper-cool2-e8
experiments/runs/freeze-at-epoch.sh $RUNS/tiger-rqvae-paper 8 $FROZEN
echo "== $(date -u +%FT%TZ) cool-down fork from $FROZEN"
BATCH=128 WARMUP=1 LR_DECAY=cosine EPOCHS=2 VALID_SAMPLE=2000 DEVICE=tch SHARDS=${SHARDS:-1} OMP_NUM_THREADS=1 \
  experiments/runs/tiger-paper.sh beauty-2014 --init-from $FROZEN --out $COOL >> $RUNS/logs/tiger-paper-cool2-e8.log 2>&1
pkill -CONT -f 'train unisrec' || true
# One thread for each evaluation below (Burn's Flex backend: rayon), beside UniSRec.
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
view=runs/eval-view/ts-cool2-e8/beauty-2014
mkdir -p $view
for part in embeddings semid; do [ -e $view/$part ] || ln -s "$PWD/$RUNS/$part" $view/$part; done
[ -e $view/tiger-rqvae-paper ] || ln -s "$PWD/$COOL" $view/tiger-rqvae-paper
out=runs/evals/ts-cool2-e8-rerun/test
if [ ! -f $out/results.json ]; then
  echo "== $(date -u +%FT%TZ) full test of $COOL/best"
  . experiments/runs/torch-env.sh
  SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 "$SPECGR_BIN" eval --dataset beauty-2014 \
    --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper --part test \
    --methods tiger,semantic-knn,popularity --popularity-days 14 --k 50 --beam-size 50 --report $out.partial
  rm -rf $out && mv $out.partial $out
fi
echo "== $(date -u +%FT%TZ) SpecGR-KNN γ grid on valid"
experiments/results/beauty-2014/specgr-knn-ts/tune.sh
best=$RUNS/frozen/tiger-rqvae-paper-cool2-e8-best
if [ ! -d $best ]; then
  rm -rf $best.partial && cp -r $COOL/best $best.partial && mv $best.partial $best
fi
pp=runs/pp256-beauty-2014
mkdir -p $pp/logs
echo "== $(date -u +%FT%TZ) SpecGR++ from $best"
RUNS=$pp DEVICE=tch MATMUL=${MATMUL-bf16} exec experiments/runs/specgr-pp.sh beauty-2014 $best --emb-batch-size 256 --gen-batch-size 64 \
  >> $pp/logs/specgr-pp.log 2>&1
