#!/usr/bin/env bash
# The Beauty time split's TIGER recipe on other semantic IDs, unattended and resumable:
# the paper-shape T5 trained as the time split's verifier was
# (experiments/results/beauty-2014/tiger-paper-bs128/, "Rerun";
# experiments/results/beauty-2014/tiger-recent-ts/), on the IDs in
# ROOT/beauty-2014/semid/IDS, everything in the runs root ROOT:
#
# 1. the constant-rate run (batch 128, Adam 1e-3, 256 warm-up steps, best on the seeded
#    2,000 valid examples), stopped and frozen at the end of epoch 8 (1,102,912
#    examples): ROOT/beauty-2014/tiger-IDS-paper-const, frozen/tiger-IDS-paper-e8-b0;
# 2. the 2-epoch cosine cool-down fork from it: tiger-IDS-paper-cool2-e8;
# 3. the recency fine-tune of the fork's last checkpoint on the newest 20,000 training
#    examples (2 epochs, cosine from 5e-4): tiger-IDS-paper-recent20000;
# 4. the view VIEW/beauty-2014 for `specgr eval --runs VIEW --ids IDS --preset paper`:
#    ROOT's embeddings and IDs, and the fine-tune as TIGER.
#
#   SPECGR_BIN=<LibTorch build> experiments/runs/ts-backbone.sh ROOT IDS VIEW
#
# Each step is skipped when its output exists, and a stopped training resumes from its
# last checkpoint, so the same command resumes after a kill. One LibTorch thread
# (DEVICE=tch, SHARDS 1); MATMUL (e.g. bf16) is passed to every training
# (experiments/runs/tiger-paper.sh). Logs: ROOT/beauty-2014/logs/tiger-*.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
R=${1:?usage: ts-backbone.sh ROOT IDS VIEW}
IDS=${2:?usage: ts-backbone.sh ROOT IDS VIEW}
VIEW=${3:?usage: ts-backbone.sh ROOT IDS VIEW}
export SPECGR_BIN=${SPECGR_BIN:?a LibTorch build, e88f4e4 or later (--train-last with --init-from)}
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
. experiments/runs/run-lock.sh
D=$R/beauty-2014
L=$D/logs
mkdir -p $L
[ -f $D/semid/$IDS/ids.json ] || { echo "ts-backbone: no $D/semid/$IDS/ids.json (fit the IDs first)" >&2; exit 1; }
RUN=$D/tiger-$IDS-paper-const
FROZEN=$D/frozen/tiger-$IDS-paper-e8-b0
COOL=$D/tiger-$IDS-paper-cool2-e8
RECENT=$D/tiger-$IDS-paper-recent20000
train() { IDS=$IDS VALID_SAMPLE=2000 DEVICE=tch SHARDS=${SHARDS:-1} OMP_NUM_THREADS=1 experiments/runs/tiger-paper.sh beauty-2014 --runs $R "$@"; }
if [ ! -d $FROZEN ]; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) constant-rate run $RUN ($SPECGR_BIN${MATMUL:+, --matmul $MATMUL})"
  if ! run_held $RUN; then
    BATCH=128 WARMUP=256 train --out $RUN >> $L/tiger-const.log 2>&1 &
  fi
  experiments/runs/freeze-at-epoch.sh $RUN 8 $FROZEN
  wait || true
fi
echo "== $(date -u +%FT%TZ) cool-down fork from $FROZEN"
BATCH=128 WARMUP=1 LR_DECAY=cosine EPOCHS=2 train --init-from $FROZEN --out $COOL >> $L/tiger-cool.log 2>&1
src=$D/frozen/tiger-$IDS-paper-cool2-e8-last
if [ ! -d $src ]; then
  rm -rf $src.partial && cp -r $COOL/last $src.partial && mv $src.partial $src
fi
echo "== $(date -u +%FT%TZ) recency fine-tune of $src"
LR=5e-4 LR_DECAY=cosine WARMUP=1 EPOCHS=2 BATCH=128 train --init-from $src --train-last 20000 --out $RECENT >> $L/tiger-recent.log 2>&1
view=$VIEW/beauty-2014
mkdir -p $view
for part in embeddings semid; do [ -e $view/$part ] || ln -s "$PWD/$D/$part" $view/$part; done
[ -e $view/tiger-$IDS-paper ] || ln -s "$PWD/$RECENT" $view/tiger-$IDS-paper
echo "== $(date -u +%FT%TZ) backbone ready: $view/tiger-$IDS-paper"
