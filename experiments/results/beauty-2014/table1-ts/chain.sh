#!/usr/bin/env bash
# Tables 1 and 2 on the full beauty-2014 time-split test (19,544 examples), one process,
# every method side by side, as soon as the γ of SpecGR_Aux and of SpecGR++ are tuned
# on valid; unattended.
#
# 1. Wait until the γ searches of ../specgr-aux-ts/chain.sh and ../specgr-pp-ts/chain.sh
#    have printed their result (the last line of runs/evals/ts-specgr-{aux,pp}/search.log).
#    SpecGR-KNN's γ (−10) was tuned on the same 2,000 valid examples in
#    ../specgr-knn-ts/valid-tune-rerun/ (GAMMA_KNN overrides it).
# 2. `specgr eval --part test` on the time-split view runs/eval-view/ts-cool2-e8 (TIGER =
#    the rerun's cool-down fork's best, 1,378,640 examples; UniSRec trained to its early
#    stop; SpecGR++ from that TIGER, both stages): TIGER, TIGER_C, SemanticKNN, UniSRec,
#    SpecGR-KNN, SpecGR_Aux, SpecGR++, the SpecGR++ encoder alone, the rank and 2-stage
#    ensembles of TIGER and UniSRec, and Popularity over the last 14 days, each SpecGR
#    method at its own γ, with the overlap of every pair's top 50 (K = 50, δ = 50,
#    β = 50, batch 32, the authors' second code version's choices).
#
# The report lands in runs/evals/ts-table1/test (moved there whole when the run ends;
# a killed run starts over, so the report never mixes two runs). Same command to resume:
#
#   SPECGR_BIN=/work/bins/specgr-tch-11aac0f nohup experiments/results/beauty-2014/table1-ts/chain.sh \
#     >> runs/beauty-2014/logs/table1-chain.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
tuned() { # the γ a search printed last, or nothing while it has not finished
  [ -f "$1" ] && tail -n 1 "$1" | sed -n 's/^GAMMA=\([^ ]*\).*/\1/p'
}
until [ -n "$(tuned runs/evals/ts-specgr-aux/search.log)" ] && [ -n "$(tuned runs/evals/ts-specgr-pp/search.log)" ]; do
  sleep 60
done
g_knn=${GAMMA_KNN:--10}
g_aux=$(tuned runs/evals/ts-specgr-aux/search.log)
g_pp=$(tuned runs/evals/ts-specgr-pp/search.log)
out=runs/evals/ts-table1/test
if [ ! -f $out/results.json ]; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) full test: γ SpecGR-KNN $g_knn, SpecGR_Aux $g_aux, SpecGR++ $g_pp ($SPECGR_BIN)"
  . experiments/runs/torch-env.sh
  mkdir -p "$(dirname $out)"
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper --part test \
    --methods tiger,tiger-c,semantic-knn,unisrec,specgr-knn,specgr-aux,specgr-pp,specgr-pp-drafter,ensemble-rank,ensemble-2stage,popularity \
    --popularity-days 14 --overlap --k 50 --beam-size 50 \
    --method-threshold "specgr-knn=$g_knn,specgr-aux=$g_aux,specgr-pp=$g_pp" --report $out.partial
  rm -rf $out && mv $out.partial $out
fi
echo "== $(date -u +%FT%TZ) Tables 1 and 2 in $out"
