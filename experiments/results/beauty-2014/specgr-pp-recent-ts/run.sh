#!/usr/bin/env bash
# SpecGR++ with the recency fine-tune that TIGER alone has (../tiger-recent-ts/): Table
# 1's SpecGR++ (runs/pp256-beauty-2014/…/specgr-pp-rqvae-paper, stage 1 4 epochs then
# stage 2 2 epochs from the cool-down fork) trained 2 more epochs of stage 2 (its own
# objective: the full-softmax ranking loss beside generation) on the newest 20,000
# training examples at TIGER's recency rate, 5e-4 (warm-up, cosine; bf16), best on the
# encoder's valid retrieval Recall@50. Then SpecGR++ at Table 1's tuned γ, δ, β on
# Table 3's seeded 2,000 test examples (seed 1), beside TIGER alone (the recency
# fine-tuned TIGER) and the encoder alone, so that SpecGR++'s backbone and TIGER alone
# have seen the same recent examples; and on valid's seeded 2,000 (seed 42, the
# searches' sample), in float32 as Table 3. Training in bf16. Nice 5. Resumes:
#
#   SPECGR_BIN=/work/bins/specgr-tch-dd13332 experiments/results/beauty-2014/specgr-pp-recent-ts/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?a LibTorch build, dd13332 or later} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} MATMUL=${MATMUL-bf16}
. experiments/runs/tuned.sh
. experiments/runs/run-lock.sh
R=runs/pp-recent-ts
P=$R/beauty-2014/specgr-pp-rqvae-paper
FROM=runs/pp256-beauty-2014/beauty-2014/specgr-pp-rqvae-paper/stage2/best
[ -d $FROM ] || { echo "specgr-pp-recent: no $FROM (../tiger-paper-bs128/rerun-2026-12-06/chain.sh trains it)" >&2; exit 1; }
mkdir -p $R/logs
if [ ! -f $P/done ]; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) stage 2 on the newest 20,000 from $FROM ($SPECGR_BIN)"
  RUNS=$R STAGE1_EPOCHS=0 STAGE2_EPOCHS=2 DEVICE=tch experiments/runs/specgr-pp.sh beauty-2014 $FROM \
    --train-last 20000 --stage2-lr 5e-4 >> $R/logs/specgr-pp.log 2>&1
  touch $P/done
fi
read -r g d b <<<"$(tuned runs/evals/ts-recent-specgr-pp/search.log)"
experiments/results/beauty-2014/tiger-recent-ts/view.sh
v=runs/eval-view/pp-recent
mkdir -p $v/beauty-2014
for part in embeddings semid tiger-rqvae-paper; do
  [ -e $v/beauty-2014/$part ] || ln -s "$(readlink -f runs/eval-view/ts-recent/beauty-2014/$part)" $v/beauty-2014/$part
done
[ -e $v/beauty-2014/specgr-pp-rqvae-paper ] || ln -s "$PWD/$P" $v/beauty-2014/specgr-pp-rqvae-paper
. experiments/runs/torch-env.sh
for spec in "test 1" "valid 42"; do
  read -r part seed <<<"$spec"
  out=runs/evals/pp-recent-ts/$part
  [ -f $out/results.json ] && continue
  mkdir -p "$(dirname $out)"
  echo "== $(date -u +%FT%TZ) $part, 2,000 examples (seed $seed): SpecGR++ γ $g δ $d β $b"
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs $v --ids rqvae --preset paper --part $part --sample 2000 --seed $seed \
    --k 50 --methods tiger,specgr-pp-drafter,specgr-pp --method-threshold="specgr-pp=$g" --method-draft-size "specgr-pp=$d" \
    --method-beam-size "specgr-pp=$b" --report $out.partial 2>&1 | { grep -v ' WARN \|elapsed' || true; }
  rm -rf $out && mv $out.partial $out
done
echo "== $(date -u +%FT%TZ) done: runs/evals/pp-recent-ts"
