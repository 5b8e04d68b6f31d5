#!/usr/bin/env bash
# Table A6 on the Beauty 2014 time split with every method at the settings Table 1 used
# (`../table1-ts/`: the tuned γ, δ, β of each SpecGR method from its search's TUNED
# line; the view runs/eval-view/ts-recent; bf16 products): TIGER, SemanticKNN, UniSRec,
# SpecGR-KNN, SpecGR_Aux and SpecGR++ in one process, interleaved REPEAT times
# (default 3; the report keeps each method's median time), at batch 32 on a seeded 500
# test examples and at batch 1 on a seeded 100 (seed 1), K 50, one thread. Each report
# splits a query's time into encoding, drafting, verification and beam steps. It waits
# for Table 1's report (so the two do not share a core) and resumes: a finished report
# is kept, a partial one is resumed by the same command.
#
#   SPECGR_BIN=/work/bins/specgr-tch-de453f1 experiments/results/beauty-2014/tableA6-ts/run.sh
#
# Reports: runs/evals/ts-recent-tableA6/batch-<B>. DEVICE=tch runs every method on
# LibTorch (bfloat16 kernels) instead of Flex (Table 1's backend, whose bf16 products are
# emulated through float32 and slower than its float32 ones): reports in
# runs/evals/ts-recent-tableA6-tch/.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary (de453f1, as Table 1)} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
MATMUL=${MATMUL-bf16}
. experiments/runs/tuned.sh
until [ -f runs/evals/ts-recent-table1/test/results.json ]; do sleep 60; done
read -r g_knn d_knn b_knn <<<"$(tuned runs/evals/ts-recent-specgr-knn/search.log)"
read -r g_aux d_aux b_aux <<<"$(tuned runs/evals/ts-recent-specgr-aux/search.log)"
read -r g_pp d_pp b_pp <<<"$(tuned runs/evals/ts-recent-specgr-pp/search.log)"
. experiments/runs/torch-env.sh
for spec in "32 500" "1 100"; do
  read -r b n <<<"$spec"
  out=runs/evals/ts-recent-tableA6${DEVICE:+-$DEVICE}/batch-$b
  [ -f $out/results.json ] && continue
  mkdir -p "$(dirname $out)"
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) batch $b, $n examples (${MATMUL:-f32}, ${DEVICE:-cpu}): SpecGR-KNN γ $g_knn δ $d_knn β $b_knn; SpecGR_Aux γ $g_aux δ $d_aux β $b_aux; SpecGR++ γ $g_pp δ $d_pp β $b_pp ($SPECGR_BIN)"
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part test \
    --sample $n --seed 1 --k 50 --beam-size 50 \
    --methods tiger,semantic-knn,unisrec,specgr-knn,specgr-aux,specgr-pp \
    --method-threshold "specgr-knn=$g_knn,specgr-aux=$g_aux,specgr-pp=$g_pp" \
    --method-draft-size "specgr-knn=$d_knn,specgr-aux=$d_aux,specgr-pp=$d_pp" \
    --method-beam-size "specgr-knn=$b_knn,specgr-aux=$b_aux,specgr-pp=$b_pp" \
    ${MATMUL:+--matmul $MATMUL} ${DEVICE:+--device $DEVICE} --batch-size $b --repeat "${REPEAT:-3}" --report $out.partial 2>&1 | { grep -v elapsed || true; }
  rm -rf $out && mv $out.partial $out
done
echo "== $(date -u +%FT%TZ) Table A6 in runs/evals/ts-recent-tableA6${DEVICE:+-$DEVICE}"
