#!/usr/bin/env bash
# Table 3 on the Beauty time split with the paper-shape SpecGR++ (../specgr-pp-ts/),
# unattended and resumable, on a seeded 2,000 test examples (seed 1), each row one
# `specgr eval` process at SpecGR++'s γ, δ and β tuned on valid
# (runs/evals/ts-recent-specgr-pp/search.log; TIGER alone at β 50, as in Table 1):
#
# 1. Inference ablations (Table 3, 1.x): the full SpecGR++ (with TIGER, the fine-tuned
#    time-split verifier, and the SpecGR++ encoder alone beside it), then SpecGR++ with
#    one component off at a time (`--without inductive-drafting | likelihood-adjustment |
#    guided-redrafting | rerank | adaptive-exit`).
# 2. Training ablations (Table 3, 2.x), each from the same TIGER as the full SpecGR++
#    (the cool-down fork's best, runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-best):
#    (2.1) TIGER's own encoder as the drafter (nothing trained: `--stage1-epochs 0
#    --stage2-epochs 0`, an identity head over the mean-pooled encoder states); (2.2)
#    without contrastive pre-training (stage 2 alone, its 2 epochs, `--stage1-epochs 0`);
#    (2.3) without the learning-to-rank fine-tuning (the full run's stage 1 best alone).
#    Each variant lives in its own runs root under runs/t3-ts/ and is evaluated through
#    a view runs/eval-view/t3-<variant> (the IDs, embeddings and fine-tuned TIGER of the
#    time-split view, that variant as SpecGR++).
#
# Reports: runs/evals/t3-ts/<row>/ (each moved there whole; a stopped eval resumes from
# its checkpoint with a binary of cb61a6c or later), then results.md here
# (`summary.py`). It waits for SpecGR++'s search; run it at nice 10 beside the main
# jobs (`../resume.sh` does):
#
#   SPECGR_BIN=/work/bins/specgr-tch-299ea37 nohup nice -n 10 experiments/results/beauty-2014/table3-ts/chain.sh \
#     >> runs/beauty-2014/logs/table3-chain.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?a binary of cb61a6c or later} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
. experiments/runs/tuned.sh
. experiments/runs/run-lock.sh
here=experiments/results/beauty-2014/table3-ts
E=runs/evals/t3-ts
until [ -n "$(tuned runs/evals/ts-recent-specgr-pp/search.log || true)" ]; do sleep 60; done
read -r g d b <<<"$(tuned runs/evals/ts-recent-specgr-pp/search.log)"
experiments/results/beauty-2014/tiger-recent-ts/view.sh
P=runs/pp256-beauty-2014/beauty-2014/specgr-pp-rqvae-paper
INIT=runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-best
[ -d $INIT ] || { echo "table3: no $INIT (../tiger-paper-bs128/rerun-2026-12-06/chain.sh freezes it)" >&2; exit 1; }
echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) Table 3 with SpecGR++ at γ $g δ $d β $b ($SPECGR_BIN)"
. experiments/runs/torch-env.sh
mkdir -p $E
row() { # NAME VIEW METHODS [specgr eval options]
  local name=$1 view=$2 methods=$3 out=$E/$1
  shift 3
  [ -f $out/results.json ] && return 0
  echo "== $(date -u +%FT%TZ) $name"
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs "$view" --ids rqvae --preset paper --part test --sample 2000 --seed 1 \
    --k 50 --methods "$methods" --method-threshold="specgr-pp=$g" --method-draft-size "specgr-pp=$d" \
    --method-beam-size "specgr-pp=$b" "$@" \
    --report $out.partial 2>&1 | { grep -v ' WARN \|elapsed' || true; }
  rm -rf $out && mv $out.partial $out
}
# 1.x: inference ablations on the time-split view's SpecGR++.
V=runs/eval-view/ts-recent
[ -e $V/beauty-2014/specgr-pp-rqvae-paper ] || ln -s "$PWD/$P" $V/beauty-2014/specgr-pp-rqvae-paper
row full $V tiger,specgr-pp-drafter,specgr-pp
for c in inductive-drafting likelihood-adjustment guided-redrafting rerank adaptive-exit; do
  row without-$c $V specgr-pp --without $c
done
# 2.x: training ablations, each a view with its own SpecGR++.
view() { # VARIANT SPECGR_PP_DIR -> prints the view's runs root
  local v=runs/eval-view/t3-$1
  mkdir -p $v/beauty-2014
  for part in embeddings semid tiger-rqvae-paper; do
    [ -e $v/beauty-2014/$part ] || ln -s "$(readlink -f $V/beauty-2014/$part)" $v/beauty-2014/$part
  done
  [ -e $v/beauty-2014/specgr-pp-rqvae-paper ] || ln -s "$PWD/$2" $v/beauty-2014/specgr-pp-rqvae-paper
  echo $v
}
train() { # VARIANT STAGE1_EPOCHS STAGE2_EPOCHS
  local R=runs/t3-ts/$1
  [ -f $R/beauty-2014/specgr-pp-rqvae-paper/done ] && return 0
  mkdir -p $R/logs
  RUNS=$R STAGE1_EPOCHS=$2 STAGE2_EPOCHS=$3 DEVICE=tch SPECGR_BIN=$SPECGR_BIN experiments/runs/specgr-pp.sh beauty-2014 $INIT \
    --emb-batch-size 256 --gen-batch-size 64 >> $R/logs/specgr-pp.log 2>&1
  touch $R/beauty-2014/specgr-pp-rqvae-paper/done
}
# (2.1) TIGER's encoder: nothing trained.
train tiger-encoder 0 0
row tiger-encoder "$(view tiger-encoder runs/t3-ts/tiger-encoder/beauty-2014/specgr-pp-rqvae-paper)" specgr-pp-drafter,specgr-pp
# (2.3) without fine-tuning: the full run's stage 1 alone.
mkdir -p runs/t3-ts/no-finetune/specgr-pp-rqvae-paper
[ -e runs/t3-ts/no-finetune/specgr-pp-rqvae-paper/stage1 ] || ln -s "$PWD/$P/stage1" runs/t3-ts/no-finetune/specgr-pp-rqvae-paper/stage1
row no-finetune "$(view no-finetune runs/t3-ts/no-finetune/specgr-pp-rqvae-paper)" specgr-pp-drafter,specgr-pp
# (2.2) without contrastive pre-training: stage 2 alone from the TIGER (hours of a core).
train no-contrastive 0 2
row no-contrastive "$(view no-contrastive runs/t3-ts/no-contrastive/beauty-2014/specgr-pp-rqvae-paper)" specgr-pp-drafter,specgr-pp
python3 $here/summary.py $E > $here/results.md.partial && mv $here/results.md.partial $here/results.md
mkdir -p $here/reports
for r in $E/*/; do n=$(basename $r); mkdir -p $here/reports/$n && cp $r/results.md $r/results.json $here/reports/$n/; done
echo "== $(date -u +%FT%TZ) done: $here/results.md"
