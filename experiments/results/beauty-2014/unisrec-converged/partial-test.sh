#!/usr/bin/env bash
# The full time-split test of UniSRec's best model so far, while its run goes on: issue
# 19's time-split target compares TIGER's in-sample Recall@50 with UniSRec's on the same
# test set, and the run (restarted from zero on 2026-12-07) is hours from its early
# stop. The model (`unisrec.mpk`, the best epoch on valid so far, written by an atomic
# rename) is copied into a view first, so the run may improve it meanwhile. SemanticKNN
# and Popularity (last 14 days) run beside it in the same process, as in the recorded
# TIGER tests (`../tiger-paper-bs128/`, `../tiger-recent-ts/`), whose numbers they repeat.
#
#   BIN=target/debug/specgr experiments/results/beauty-2014/unisrec-converged/partial-test.sh
#
# (`--allow-unfinished`, 2026-12-07: a binary of that revision or later.)
#
# Report: runs/evals/unisrec-partial-e<epoch>/test (resumable: the same command again
# after a kill; the epoch is the best one's, `best` = [NDCG@10, epoch] in the run's last/state.json).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
BIN=${BIN:?the specgr binary}
. experiments/runs/torch-env.sh
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
. experiments/runs/unisrec-snapshot.sh
unisrec_snapshot runs/eval-view/unisrec-partial
out=runs/evals/unisrec-partial-e$epoch/test
echo "== $(date -u +%FT%TZ) UniSRec best epoch $epoch: full test -> $out"
"$BIN" eval --dataset beauty-2014 --runs $view --part test --methods unisrec,semantic-knn,popularity \
  --popularity-days 14 --k 50 --allow-unfinished --report $out
