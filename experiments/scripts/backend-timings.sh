#!/usr/bin/env bash
# Per-backend timings of a tiny TIGER training step and beam search, as ratios to Flex
# in one run (gr-model's `backend_timings` example), with the machine and the driver
# versions recorded beside them. A check that each backend runs the real workload at
# all, and roughly how fast, not a benchmark: correctness is the backend-equality
# tests' job (docs/backends.md).
#
#   experiments/scripts/backend-timings.sh                       # Flex, NdArray, WGPU if a Vulkan adapter
#   FEATURES=test-tch experiments/scripts/backend-timings.sh     # + LibTorch (torch 2.9.0 in PYTHON)
#   FEATURES=test-cuda experiments/scripts/backend-timings.sh    # + CUDA (cuda-check.sh runs this)
#
# Environment: OUT (experiments/results/gr-model/backend-timings/<UTC time>), FEATURES
# (gr-model features, comma-separated), ARGS (passed to the example, e.g.
# "--preset small --repeats 9"), PYTHON (python3, for LibTorch's libraries),
# OMP_NUM_THREADS (LibTorch's threads; default nproc, the cores Flex uses too).
# Writes OUT/timings.md (the table), OUT/timings.json (rows and provenance),
# OUT/machine.txt and OUT/run.log. BIN=<path> runs that already built example binary
# instead of `cargo run` (e.g. while another build holds the target directory).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-experiments/results/gr-model/backend-timings/$(date -u +%Y%m%dT%H%M%SZ)}
FEATURES=${FEATURES:-}
ARGS=${ARGS:-}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
CARGO_ARGS=(run -p gr-model --example backend_timings --features "backend-timings${FEATURES:+,$FEATURES}")
if [[ ",$FEATURES," == *,test-tch,* ]]; then
  # The torch wheel's libraries, at build (LIBTORCH_USE_PYTORCH) and at run time.
  export LIBTORCH_USE_PYTORCH=1
  TORCH_LIB="$($PYTHON -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
  export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
fi
{
  echo "command: FEATURES='$FEATURES' ARGS='$ARGS' $0"
  echo "run: ${BIN:-cargo ${CARGO_ARGS[*]} --} --json $OUT/timings.json $ARGS"
  echo "git: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!experiments/results' || echo -dirty)"
  echo "date: $(date -u +%FT%TZ)"
  echo "nproc: $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  lscpu | grep -E '^Model name' || true
  echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "rustc: $(rustc --version)"
  for p in mesa-vulkan-drivers libvulkan1; do
    echo "$p: $(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || echo 'not installed (dpkg)')"
  done
  echo "vulkan drivers: $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | grep json | tr '\n' ' ')"
  if [[ ",$FEATURES," == *,test-tch,* ]]; then
    echo "torch: $($PYTHON -c 'import torch; print(torch.__version__)'); OMP_NUM_THREADS=$OMP_NUM_THREADS"
  fi
  if [[ ",$FEATURES," == *,test-cuda,* ]]; then
    echo "gpu: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo none)"
  fi
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2
# shellcheck disable=SC2086
if [ -n "${BIN:-}" ]; then RUN=("$BIN"); else RUN=(cargo "${CARGO_ARGS[@]}" --); fi
"${RUN[@]}" --json "$OUT/timings.json" $ARGS 2> >(grep -v XDG_RUNTIME_DIR | tee "$OUT/run.log" >&2) | tee "$OUT/timings.md"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
