#!/usr/bin/env bash
# SpecGR_Aux and SpecGR++ with all-digits normalisation (`specgr eval --normalisation
# all-digits`, ours: ../specgr-knn-recent-ts/README.md, "All-digits normalisation"),
# beside the paper's rule in Table 1, unattended. SpecGR-KNN's own search and full test
# with it are ../specgr-knn-recent-ts/all-digits.sh.
#
# 1. After each paper-rule search on valid has ended (its search.log ends in `TUNED …`:
#    ../specgr-aux-ts/chain.sh, ../specgr-pp-ts/chain.sh), the same search with
#    all-digits normalisation on the same seeded 2,000 valid examples
#    (experiments/runs/tune-specgr.sh): runs/evals/ts-recent-specgr-{aux,pp}-all/.
#    TIGER and the drafters alone on those examples are in the paper-rule reports.
# 2. After Table 1 (../table1-ts/chain.sh) has ended, SpecGR_Aux and SpecGR++ with
#    all-digits normalisation, each at its own tuned γ, δ and β, on the full test, one
#    process: runs/evals/ts-recent-table1-all/test. Then breakdown.md there: Table 1's
#    SpecGR rows, these, and SpecGR-KNN's all-digits test (when it exists), each beside
#    TIGER and its drafter alone, split by subset (experiments/scripts/subset_breakdown.py).
#
# Needs a binary of 592d457 or later (--normalisation). Resumes (each report is kept):
#
#   SPECGR_BIN=/work/bins/specgr-tch-c78310b nohup experiments/results/beauty-2014/all-digits-ts/chain.sh \
#     >> runs/beauty-2014/logs/all-digits-chain.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
experiments/results/beauty-2014/tiger-recent-ts/view.sh
E=runs/evals
. experiments/runs/tuned.sh
# 1. The searches, each as soon as its paper-rule search has ended.
while :; do
  left=0
  for m in aux pp; do
    [ -n "$(tuned $E/ts-recent-specgr-$m-all/search.log || true)" ] && continue
    left=1
    [ -n "$(tuned $E/ts-recent-specgr-$m/search.log || true)" ] || continue
    echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) specgr-$m all-digits search ($SPECGR_BIN)"
    experiments/runs/tune-specgr.sh specgr-$m $E/ts-recent-specgr-$m-all --dataset beauty-2014 --normalisation all-digits \
      --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part valid --sample 2000 --seed 42 --k 50
    echo "== $(date -u +%FT%TZ) tuned: specgr-$m all-digits $(tail -n 1 $E/ts-recent-specgr-$m-all/search.log)"
  done
  [ $left = 0 ] && break
  sleep 60
done
read -r g_aux d_aux b_aux <<<"$(tuned $E/ts-recent-specgr-aux-all/search.log)"
read -r g_pp d_pp b_pp <<<"$(tuned $E/ts-recent-specgr-pp-all/search.log)"
# 2. The full test, after Table 1 (so that it never slows Table 1 down).
table1=$E/ts-recent-table1/test
until [ -f $table1/results.json ]; do sleep 60; done
out=$E/ts-recent-table1-all/test
if [ ! -f $out/results.json ]; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) full test, all-digits: SpecGR_Aux γ $g_aux δ $d_aux β $b_aux; SpecGR++ γ $g_pp δ $d_pp β $b_pp ($SPECGR_BIN)"
  . experiments/runs/torch-env.sh
  mkdir -p "$(dirname $out)"
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part test \
    --methods specgr-aux,specgr-pp --normalisation all-digits --k 50 \
    --method-threshold "specgr-aux=$g_aux,specgr-pp=$g_pp" \
    --method-draft-size "specgr-aux=$d_aux,specgr-pp=$d_pp" \
    --method-beam-size "specgr-aux=$b_aux,specgr-pp=$b_pp" \
    --report $out.partial
  rm -rf $out && mv $out.partial $out
fi
knn=$E/ts-recent-specgr-knn-all/test
python3 experiments/scripts/subset_breakdown.py $table1 $out:all-digits \
  $([ -f $knn/results.json ] && echo $knn:all-digits) > $out/breakdown.md
echo "== $(date -u +%FT%TZ) done: $out, $out/breakdown.md"
