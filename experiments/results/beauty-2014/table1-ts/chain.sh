#!/usr/bin/env bash
# Tables 1 and 2 on the full beauty-2014 time-split test (19,544 examples), one process,
# every method side by side, as soon as the γ of SpecGR_Aux and of SpecGR++ are tuned
# on valid; unattended.
#
# 1. Wait until the searches of ../specgr-knn-recent-ts/run.sh, ../specgr-aux-ts/chain.sh
#    and ../specgr-pp-ts/chain.sh have printed their result: the line
#    `TUNED gamma=… delta=… beta=…` that ends runs/evals/ts-recent-specgr-{knn,aux,pp}/search.log
#    (each on the same seeded 2,000 valid examples).
# 2. `specgr eval --part test` on the time-split view runs/eval-view/ts-recent
#    (../tiger-recent-ts/view.sh; TIGER = the cool-down fork fine-tuned on the newest
#    20,000 training examples, 1,418,640 examples seen; UniSRec trained to its early stop;
#    SpecGR++ from the cool-down fork, both stages): TIGER, TIGER_C, SemanticKNN, UniSRec,
#    SpecGR-KNN, SpecGR_Aux, SpecGR++, the SpecGR++ encoder alone, the rank and 2-stage
#    ensembles of TIGER and UniSRec, and Popularity over the last 14 days, each SpecGR
#    method at its own γ, δ and β (`--method-draft-size`, `--method-beam-size`; the
#    others at δ 50, β 50), with the overlap of every pair's top 50 (K = 50, batch 32,
#    the authors' second code version's choices). It needs a binary of ac90c61 or later.
#
# The report lands in runs/evals/ts-recent-table1/test (moved there whole when the run
# ends), with targets.md. A killed run resumes: with a binary of `specgr eval
# --checkpoint-every` (cb61a6c+), each method's lists are saved in test.partial/checkpoint
# every 1,024 examples, and the run again computes only what is missing (settings or
# models that differ are refused, never mixed in); an older binary starts over:
# targets.py here checks the issues' targets against it. Same command to resume:
#
#   SPECGR_BIN=/work/bins/specgr-tch-<rev> nohup experiments/results/beauty-2014/table1-ts/chain.sh \
#     >> runs/beauty-2014/logs/table1-chain.log 2>&1 &
# Inference with bfloat16 products (MATMUL, default bf16 since 2026-12-07; MATMUL= runs
# float32): as the reference's autocast inference; on this verifier the same lists as
# float32 to within one hit in 1,300 valid examples, at 1.3-2x the speed
# (../../gr-model/bf16-inference/).
set -euo pipefail
MATMUL=${MATMUL-bf16}
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
. experiments/runs/tuned.sh
while :; do
  knn=$(tuned runs/evals/ts-recent-specgr-knn/search.log || true)
  aux=$(tuned runs/evals/ts-recent-specgr-aux/search.log || true)
  pp=$(tuned runs/evals/ts-recent-specgr-pp/search.log || true)
  [ -n "$knn" ] && [ -n "$aux" ] && [ -n "$pp" ] && break
  sleep 60
done
read -r g_knn d_knn b_knn <<<"$knn"
read -r g_aux d_aux b_aux <<<"$aux"
read -r g_pp d_pp b_pp <<<"$pp"
out=runs/evals/ts-recent-table1/test
if [ ! -f $out/results.json ]; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) full test (${MATMUL:-f32}): SpecGR-KNN γ $g_knn δ $d_knn β $b_knn; SpecGR_Aux γ $g_aux δ $d_aux β $b_aux; SpecGR++ γ $g_pp δ $d_pp β $b_pp ($SPECGR_BIN)"
  . experiments/runs/torch-env.sh
  mkdir -p "$(dirname $out)"
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part test \
    --methods tiger,tiger-c,semantic-knn,unisrec,specgr-knn,specgr-aux,specgr-pp,specgr-pp-drafter,ensemble-rank,ensemble-2stage,popularity \
    --popularity-days 14 --overlap --k 50 --beam-size 50 \
    --method-threshold "specgr-knn=$g_knn,specgr-aux=$g_aux,specgr-pp=$g_pp" \
    --method-draft-size "specgr-knn=$d_knn,specgr-aux=$d_aux,specgr-pp=$d_pp" \
    --method-beam-size "specgr-knn=$b_knn,specgr-aux=$b_aux,specgr-pp=$b_pp" \
    ${MATMUL:+--matmul $MATMUL} --report $out.partial
  rm -rf $out && mv $out.partial $out
fi
# The issues' targets against it, with the breakdown each miss asks for.
python3 experiments/results/beauty-2014/table1-ts/targets.py $out/results.json > $out/targets.md
echo "== $(date -u +%FT%TZ) Tables 1 and 2 in $out, the targets in $out/targets.md"
