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
RUN=runs/beauty-2014/unisrec
epoch=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["best"][1])' $RUN/last/state.json)
view=runs/eval-view/unisrec-partial-e$epoch
# The view's copy holds the model and its run's last/state.json (which the report
# records: the epochs and samples seen); copied again if the run found a new best
# meanwhile, so that the two belong together.
if [ ! -d $view ]; then
  for try in 1 2 3; do
    rm -rf $view.partial && mkdir -p $view.partial/beauty-2014/unisrec/last
    for part in embeddings semid; do ln -s "$PWD/runs/beauty-2014/$part" $view.partial/beauty-2014/$part; done
    cp $RUN/last/state.json $view.partial/beauty-2014/unisrec/last/
    cp $RUN/unisrec.mpk $RUN/unisrec-config.json $RUN/inputs-stamp.json $view.partial/beauty-2014/unisrec/
    now=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["best"][1])' $RUN/last/state.json)
    [ "$now" = "$epoch" ] && break
    epoch=$now view=runs/eval-view/unisrec-partial-e$now
  done
  mv $view.partial $view
fi
out=runs/evals/unisrec-partial-e$epoch/test
echo "== $(date -u +%FT%TZ) UniSRec best epoch $epoch: full test -> $out"
"$BIN" eval --dataset beauty-2014 --runs $view --part test --methods unisrec,semantic-knn,popularity \
  --popularity-days 14 --k 50 --allow-unfinished --report $out
