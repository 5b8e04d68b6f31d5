#!/usr/bin/env bash
# UniSRec, the reference recipe, trained to its early-stopping point on a Beauty split:
# Adam 1e-3, batch 2048, up to 300 epochs, early stopping after 40 epochs without a
# better validation NDCG@10 (the reference's patience; `specgr train unisrec` defaults
# to 10), the best epoch kept. Validation on 5,000 evenly strided validation examples
# after each epoch (the CLI's default; the reference validates on all of them). A
# checkpoint every 5 minutes within an epoch as well as at its end.
#
# Run it again, after a kill or on another machine with the same runs/, and it resumes
# from the last checkpoint with the same numbers (same device):
#
#   nohup experiments/runs/unisrec.sh beauty-2014 >> runs/beauty-2014/logs/unisrec.log 2>&1 &
#
# Needs SPECGR_DATA (the Beauty CSVs) and, once per dataset, `specgr embed`. Extra
# arguments go to `specgr train unisrec`. DEVICE (default cpu, Burn's Flex) picks the
# backend: DEVICE=tch needs a binary built with `--features tch` (`cargo xtask libtorch
# --build`) named in SPECGR_BIN; the device is not part of the run's settings, but float
# sums then run in another order, so resume a run on the device it started on to keep
# its numbers. THREADS (default 1) caps the threads of either backend, so that the run
# shares the two cores with a TIGER run.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATASET=${1:?usage: unisrec.sh DATASET [specgr train unisrec options]}
shift
. experiments/runs/one-thread-env.sh
# On a new machine, a run carried over from the last one (experiments/runs/carry.sh) is
# put back first, so that this command resumes it; a no-op where runs/ has it.
experiments/runs/carry.sh restore
mkdir -p "runs/$DATASET/logs"
echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(uname -n) $(getconf _NPROCESSORS_ONLN) cores (${THREADS:-1} threads): UniSRec on $DATASET, $DEVICE ($S)"
exec "$S" train unisrec --dataset "$DATASET" --epochs 300 --batch-size 2048 --patience 40 \
  --checkpoint-minutes 5 --seed 42 --device "$DEVICE" "$@"
