#!/usr/bin/env bash
# Wait until a TIGER run's `last/` is the checkpoint at the end of epoch EPOCH, stop the
# run there, and freeze a copy of that checkpoint as FROZEN, for a fork such as the
# cool-down of the recipe (`tiger-paper.sh ... --init-from FROZEN --out NEW_RUN`):
#
#   experiments/runs/freeze-at-epoch.sh runs/beauty-2014/tiger-rqvae-paper 8 \
#     runs/beauty-2014/frozen/tiger-rqvae-paper-e8-b0
#
# The run writes `last/` at the end of each epoch and every few minutes within one; the
# copy is taken only from an epoch boundary (`batches_done` 0), after the run's process
# (the PID in RUN/.lock) has exited and released the run's lock, so that nothing changes under it. It fails, and
# leaves the run alone, if the run is already past that boundary, or stops without
# reaching it (a run that holds its lock again after a pause of POLL seconds, such as
# one started just before this script, is waited for). The copy is written beside FROZEN and renamed, so FROZEN is whole or
# absent. Exits 0 at once if FROZEN exists.
set -euo pipefail
RUN=${1:?usage: freeze-at-epoch.sh RUN_DIR EPOCH FROZEN_DIR}
EPOCH=${2:?usage: freeze-at-epoch.sh RUN_DIR EPOCH FROZEN_DIR}
FROZEN=${3:?usage: freeze-at-epoch.sh RUN_DIR EPOCH FROZEN_DIR}
POLL=${POLL:-20}
[ -d "$FROZEN" ] && { echo "freeze: $FROZEN exists; nothing to do"; exit 0; }
state=$RUN/last/state.json
# "EPOCHS BATCHES" of the checkpoint in last/, or nothing while it is being replaced.
progress() {
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["epochs_done"], s["batches_done"])' "$state" 2>/dev/null || true
}
. "$(dirname "$0")/run-lock.sh"
running() { run_held "$RUN"; }
while :; do
  read -r e b <<<"$(progress)" || true
  if [ -n "${e:-}" ]; then
    if [ "$e" -gt "$EPOCH" ] || { [ "$e" -eq "$EPOCH" ] && [ "$b" -gt 0 ]; }; then
      echo "freeze: $RUN is already at epoch $e batch $b, past the end of epoch $EPOCH; not stopped" >&2
      exit 1
    fi
    if [ "$e" -eq "$EPOCH" ] && [ "$b" -eq 0 ]; then
      if running; then
        pid=$(run_pid "$RUN")
        echo "freeze: $(date -u +%FT%TZ) $RUN reached the end of epoch $EPOCH; stopping PID $pid"
        kill -TERM "$pid"
        while running; do sleep 1; done
      fi
      read -r e b <<<"$(progress)"
      if [ "$e" -ne "$EPOCH" ] || [ "$b" -ne 0 ]; then
        echo "freeze: $RUN wrote a checkpoint at epoch $e batch $b before it stopped; not frozen" >&2
        exit 1
      fi
      mkdir -p "$(dirname "$FROZEN")"
      rm -rf "$FROZEN.partial"
      cp -r "$RUN/last" "$FROZEN.partial"
      mv "$FROZEN.partial" "$FROZEN"
      echo "freeze: $(date -u +%FT%TZ) $RUN/last (epoch $EPOCH, batch 0) frozen as $FROZEN"
      exit 0
    fi
  fi
  if ! running && [ -n "${e:-}" ]; then
    # Checked again after a pause: the run may have exited just after its checkpoint.
    sleep "$POLL"
    read -r e2 b2 <<<"$(progress)" || true
    if [ "${e2:-}" = "$EPOCH" ] && [ "${b2:-}" = 0 ]; then continue; fi
    # A run started just before this script (in the background by the same caller)
    # takes its lock a few seconds after it starts: not yet running is not stopped.
    if running; then continue; fi
    echo "freeze: $RUN is not running and stopped at epoch ${e2:-?} batch ${b2:-?}, before the end of epoch $EPOCH" >&2
    exit 1
  fi
  sleep "$POLL"
done
