#!/usr/bin/env bash
# Each configuration of a tiger-sweep.sh sweep on a larger validation sample than the
# sweep's own 2,000 users: a seeded uniform sample of SAMPLE (default 10,000) users of
# the valid part, the same users for every configuration, constrained beam search β 20,
# K 10, with `specgr eval` on the configuration's best checkpoint. One report a
# configuration under runs/<DATASET>/sweep-valid-<SAMPLE>/<run>/; configurations that
# have one are skipped, so the command can be run again as the sweep goes on. Then the
# sweep's table with these columns added (experiments/scripts/tiger_sweep_table.py).
#
#   experiments/runs/tiger-sweep-eval.sh beauty-2014-loo                      # every configuration
#   experiments/runs/tiger-sweep-eval.sh beauty-2014-loo tiger-lr1e-3-bs128   # some
#
# Environment: SAMPLE (10000), SEED (42), IDS (rqvae), DEVICE (cpu: Flex's beam search
# is faster than LibTorch's, docs/backends.md), SPECGR_BIN, PYTHON. A build with
# `--features tch` needs LibTorch's lib directory on LD_LIBRARY_PATH (set here when
# torch is importable).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATASET=${1:?usage: tiger-sweep-eval.sh DATASET [RUN ...]}
shift
SAMPLE=${SAMPLE:-10000}
SEED=${SEED:-42}
IDS=${IDS:-rqvae}
PYTHON=${PYTHON:-python3}
S=${SPECGR_BIN:-./target/release/specgr}
[ -x "$S" ] || cargo build --release -p bench --features avx512
if TORCH_LIB="$($PYTHON -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)"; then
  export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
SWEEP=runs/$DATASET/sweep
OUT=runs/$DATASET/sweep-valid-$SAMPLE
RUNS=("$@")
if [ ${#RUNS[@]} -eq 0 ]; then
  for d in "$SWEEP"/tiger-lr*-bs*/best; do [ -d "$d" ] && RUNS+=("$(basename "$(dirname "$d")")"); done
fi
mkdir -p "$OUT"
for run in "${RUNS[@]}"; do
  [ -f "$OUT/$run/results.json" ] && { echo "-- $run: evaluated already"; continue; }
  [ -d "$SWEEP/$run/best" ] || { echo "-- $run: no best checkpoint yet, skipped"; continue; }
  # `specgr eval` finds TIGER at <runs>/<dataset>/tiger-<ids>-paper: a run directory of
  # links to the dataset's IDs and embeddings and to this configuration.
  view="runs/sweep-eval-view/$run"
  rm -rf "$view"
  mkdir -p "$view/$DATASET"
  for part in semid embeddings; do ln -s "$PWD/runs/$DATASET/$part" "$view/$DATASET/$part"; done
  ln -s "$PWD/$SWEEP/$run" "$view/$DATASET/tiger-$IDS-paper"
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(uname -n): $run on $SAMPLE valid users"
  "$S" eval --dataset "$DATASET" --runs "$view" --ids "$IDS" --preset paper --device "${DEVICE:-cpu}" \
    --part valid --sample "$SAMPLE" --seed "$SEED" --methods tiger --k 10 --beam-size 20 \
    --report "$OUT/$run.partial"
  rm -rf "$OUT/$run" && mv "$OUT/$run.partial" "$OUT/$run"
done
"$PYTHON" experiments/scripts/tiger_sweep_table.py "$SWEEP" "$OUT"
