#!/usr/bin/env bash
# bfloat16 inference (`specgr eval --matmul bf16`) against float32, side by side: two
# processes, one LibTorch thread each, started together on the same seeded validation
# examples of the Beauty time split with its verifier (the recency fine-tuned TIGER of
# ../../beauty-2014/tiger-recent-ts/, through the view runs/eval-view/ts-recent), each
# evaluating TIGER, SemanticKNN and SpecGR-KNN (γ −1.4, δ 100, β 50, K 50: the running
# SpecGR-KNN search's neighbourhood). They differ only in the precision of TIGER's
# linear maps' products. Repeat 1 (1,000 examples) compares the lists' quality and the
# time per query; repeat 2 (300 other examples) the time again.
#
#   BIN=/work/bins/specgr-tch-<rev> experiments/results/gr-model/bf16-inference/run.sh
#
# Reports: runs/evals/bf16-inference/<repeat>/<precision>/ (results.md/json), copied
# here by the session that ran it.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
B=${BIN:?the LibTorch build of specgr with eval --matmul}
. experiments/runs/torch-env.sh
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
experiments/results/beauty-2014/tiger-recent-ts/view.sh
OUT=runs/evals/bf16-inference
for rep in "repeat-1 1000 42" "repeat-2 300 7"; do
  set -- $rep
  for p in f32 bf16; do
    mkdir -p $OUT/$1
    $B eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --device tch \
      --part valid --sample $2 --seed $3 --k 50 --methods tiger,semantic-knn,specgr-knn \
      --threshold=-1.4 --draft-size 100 --beam-size 50 --matmul $p --report $OUT/$1/$p \
      > $OUT/$1/$p.log 2>&1 &
  done
  wait
done
