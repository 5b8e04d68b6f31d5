#!/usr/bin/env bash
# Inference with attention's products in bfloat16 too: three processes side by side,
# one LibTorch thread each, started together on the same seeded validation examples of
# the Beauty time split with its verifier (the recency fine-tuned TIGER, view
# runs/eval-view/ts-recent, as ../bf16-inference/run.sh): float32 (OLD), bf16 with the
# attention products float32 (OLD), bf16 with them bf16 (NEW); TIGER, SemanticKNN and
# SpecGR-KNN (γ −1.4, δ 50, β 50, K 50: the searched settings).
#
#   OLD=/work/bins/specgr-tch-de453f1 NEW=/work/bins/specgr-tch-a45cf71 \
#     experiments/results/gr-model/bf16-attention/eval.sh
#
# Reports: runs/evals/bf16-attention/<f32-old|bf16-old|bf16-new>/, their results.md
# copied to out/eval-*.md here.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
OLD=${OLD:?the binary before} NEW=${NEW:?the binary after} SAMPLE=${SAMPLE:-1000} SEED=${SEED:-42}
. experiments/runs/torch-env.sh
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
here=experiments/results/gr-model/bf16-attention
OUT=runs/evals/bf16-attention
mkdir -p $OUT $here/out
for run in "f32-old $OLD f32" "bf16-old $OLD bf16" "bf16-new $NEW bf16"; do
  set -- $run
  rm -rf $OUT/$1
  $2 eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --device tch \
    --part valid --sample $SAMPLE --seed $SEED --k 50 --methods tiger,semantic-knn,specgr-knn \
    --threshold=-1.4 --draft-size 50 --beam-size 50 --matmul $3 --report $OUT/$1 > $OUT/$1.log 2>&1 &
done
wait
for r in f32-old bf16-old bf16-new; do cp $OUT/$r/results.md $here/out/eval-$r.md; done
