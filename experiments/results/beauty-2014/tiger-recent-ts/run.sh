#!/usr/bin/env bash
# Does fine-tuning the time split's TIGER on its newest training examples help it on
# valid? The probe of the drift that ../fit-ts/ points at. Unattended and resumable:
#
#   SPECGR_BIN=/work/bins/specgr-tch-e88f4e4 nohup experiments/results/beauty-2014/tiger-recent-ts/run.sh \
#     >> runs/beauty-2014/logs/tiger-recent.log 2>&1 &
#
# 1. Source: the rerun's cool-down run at its end (1,378,640 examples seen; its `last/`,
#    frozen as runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-last).
# 2. Fine-tune (`--init-from` it, `--train-last N`, N = RECENT, default 20,000 of the
#    137,864 training examples: the newest), batch 128, a cosine from LR (default 5e-4)
#    to 0 over EPOCHS (default 2) epochs, one warm-up step; best on valid R@10 over the
#    seeded 2,000 valid examples, as the runs it forks.
# 3. The source's best and the fine-tune's best on another seeded 2,000 valid examples
#    (seed 7: not the ones the fine-tune's best was picked on), TIGER alone, K = 50,
#    β = 50, one process each. Reports: runs/evals/tiger-recent-ts/.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?a binary of e88f4e4 or later (--train-last with --init-from)}
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
N=${RECENT:-20000}
src=runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-last
if [ ! -d $src ]; then
  rm -rf $src.partial && cp -r runs/beauty-2014/tiger-rqvae-paper-cool2-e8/last $src.partial && mv $src.partial $src
fi
run=runs/beauty-2014/tiger-rqvae-paper-recent$N
echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) fine-tune of $src on the newest $N training examples into $run"
LR=${LR:-5e-4} LR_DECAY=cosine WARMUP=1 EPOCHS=${EPOCHS:-2} BATCH=128 VALID_SAMPLE=2000 DEVICE=tch SHARDS=1 OMP_NUM_THREADS=1 \
  experiments/runs/tiger-paper.sh beauty-2014 --init-from $src --train-last $N --out $run
. experiments/runs/torch-env.sh
export OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
view=runs/eval-view/recent$N/beauty-2014
mkdir -p $view
for part in embeddings semid; do [ -e $view/$part ] || ln -s "$PWD/runs/beauty-2014/$part" $view/$part; done
[ -e $view/tiger-rqvae-paper ] || ln -s "$PWD/$run" $view/tiger-rqvae-paper
for which in base recent$N; do
  out=runs/evals/tiger-recent-ts/$which-valid-s7
  [ -f $out/results.json ] && continue
  runs=runs/eval-view/ts-cool2-e8
  [ $which = base ] || runs=runs/eval-view/recent$N
  rm -rf $out.partial
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs $runs --ids rqvae --preset paper --part valid --sample 2000 --seed 7 \
    --methods tiger --k 50 --beam-size 50 --report $out.partial
  rm -rf $out && mv $out.partial $out
done
echo "== $(date -u +%FT%TZ) done: runs/evals/tiger-recent-ts/"
