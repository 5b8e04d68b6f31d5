#!/usr/bin/env bash
# CUDA on a machine with an NVIDIA GPU: checks Burn's CUDA backend against the CPU on
# a tiny model, then times TIGER training (`small` and the paper shape) on CUDA and on
# the CPU, and writes the results where the project's other results go, ready to be
# committed as they are (docs/backends.md, experiments/results/gr-model/).
#
#   experiments/scripts/cuda-check.sh        # OUT defaults to experiments/results/gr-model/cuda-check/<UTC time>
#
# Steps, each logged under OUT:
#   1. backends-test.log: `cargo test -p gr-model --features test-cuda --test tests backends`
#      with SPECGR_REQUIRE_BACKENDS=cuda: the tiny TIGER saved from Flex and loaded on
#      CUDA must give Flex's encoder states, candidate log-probabilities, beam search,
#      training loss and embedding gradient (within 1e-4); a skip fails.
#   2. backend-timings.{md,json}: the `backend_timings` example: a tiny training step
#      and a beam search on every backend present, as ratios to Flex.
#   3. round<r>-flex-release.json, round<r>-cuda.json, summary.{md,json}: `specgr bench
#      train` (release build with `--features cuda`) on the same real batches with
#      `--device cpu` and `--device cuda`, PRESETS ("small paper") x {shuffled, sorted}
#      batches, 1 shard, ROUNDS rounds (2); summarised by train_throughput_table.py
#      as in train-throughput.md. Needs SPECGR_DATA and runs/<DATASET>/semid/<IDS>/
#      (README.md, "The pipeline"); without them step 3 is skipped, saying so (exit 3).
#
# Environment: OUT, ROUNDS (2), STEPS (2), SORTED_STEPS (4), PRESETS, DATASET
# (beauty-2014), IDS (rqvae), SEED (42), PYTHON (python3), NVIDIA_SMI (nvidia-smi).
# Exit status: 0 all done; 2 no CUDA device or no NVRTC (nothing run); 1 a step failed;
# 3 steps 1-2 done, timing skipped for want of data.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { echo "cuda-check: $*" >&2; }
refuse() { say "$*"; say "nothing was run (docs/backends.md, \"What each backend needs at run time\")"; exit 2; }

# 0. A CUDA device and the libraries CubeCL opens at run time, or refuse before building.
NVIDIA_SMI=${NVIDIA_SMI:-nvidia-smi}
command -v "$NVIDIA_SMI" >/dev/null 2>&1 ||
  refuse "no CUDA device found: $NVIDIA_SMI is not installed (this script needs an NVIDIA GPU and its driver)"
if ! GPUS=$("$NVIDIA_SMI" -L 2>&1) || ! grep -q '^GPU ' <<<"$GPUS"; then
  refuse "no CUDA device found: \`$NVIDIA_SMI -L\` lists no GPU ($(head -n 1 <<<"$GPUS"))"
fi
has_lib() {
  ldconfig -p 2>/dev/null | grep -q "$1" && return 0
  local d
  for d in ${LD_LIBRARY_PATH//:/ }; do compgen -G "$d/$1*" >/dev/null && return 0; done
  return 1
}
has_lib libcuda.so || refuse "no CUDA driver library (libcuda.so) on the loader's path"
has_lib libnvrtc.so ||
  refuse "no NVRTC (libnvrtc.so), which CubeCL compiles its kernels with: install a CUDA 12 toolkit or the nvidia-cuda-nvrtc-cu12 wheel and put its lib/ on LD_LIBRARY_PATH"

ROUNDS=${ROUNDS:-2}
STEPS=${STEPS:-2}
SORTED_STEPS=${SORTED_STEPS:-4}
PRESETS=${PRESETS:-small paper}
DATASET=${DATASET:-beauty-2014}
IDS=${IDS:-rqvae}
SEED=${SEED:-42}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-experiments/results/gr-model/cuda-check/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
LOG="$OUT/driver.log"
step() { echo "== $(date -u +%T) $*" | tee -a "$LOG" >&2; }
SPECGR_GIT_REVISION="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!experiments/results' || echo -dirty)"
export SPECGR_GIT_REVISION

{
  echo "git: $SPECGR_GIT_REVISION"
  echo "date: $(date -u +%FT%TZ)"
  echo "command: $0 $* (ROUNDS=$ROUNDS STEPS=$STEPS SORTED_STEPS=$SORTED_STEPS PRESETS='$PRESETS' DATASET=$DATASET IDS=$IDS SEED=$SEED)"
  echo "nproc: $(nproc)"
  lscpu | grep -E '^(Model name|Socket|Core|Thread)' || true
  echo "gpus:"; sed 's/^/  /' <<<"$GPUS"
  "$NVIDIA_SMI" --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>/dev/null | sed 's/^/  /' || true
  echo "nvidia-smi: $("$NVIDIA_SMI" 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' || echo 'CUDA version unknown')"
  echo "nvcc: $(nvcc --version 2>/dev/null | tail -n 1 || echo 'not installed (cudarc targets the newest CUDA API; CUDARC_CUDA_VERSION pins it)')"
  echo "rustc: $(rustc --version)"
  echo "burn: 0.21.0 (Cargo.lock: cubecl $(grep -A1 '^name = "cubecl-cuda"' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p'), cudarc $(grep -A1 '^name = "cudarc"' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p'))"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >> "$LOG"

step "1. backend-equality tests, CUDA against Flex"
if ! SPECGR_REQUIRE_BACKENDS=cuda cargo test -p gr-model --features test-cuda --test tests backends 2>&1 |
  tee "$OUT/backends-test.log"; then
  say "the backend-equality tests failed: $OUT/backends-test.log"
  exit 1
fi

step "2. tiny training step and beam search on every backend, as ratios to Flex"
cargo run -p gr-model --features test-cuda,backend-timings --example backend_timings -- \
  --json "$OUT/backend-timings.json" 2>>"$LOG" | tee "$OUT/backend-timings.md"

if [ -z "${SPECGR_DATA:-}" ] || [ ! -d "runs/$DATASET/semid/$IDS" ]; then
  say "3. skipped: timing small and paper training needs SPECGR_DATA (now '${SPECGR_DATA:-}') and runs/$DATASET/semid/$IDS/"
  say "   (README.md, \"The pipeline\": specgr embed, then specgr semid fit --dataset $DATASET --method $IDS); results so far in $OUT"
  exit 3
fi
step "3. building specgr (release, --features cuda)"
cargo build --release -p bench --features cuda 2>&1 | tail -n 2 | tee -a "$LOG"
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
cp target/release/specgr "$BIN/specgr"
CONFIGS=()
for p in $PRESETS; do
  for b in shuffled sorted; do CONFIGS+=(--config "$p-$b-1"); done
done
COMMON=(bench train --dataset "$DATASET" --ids "$IDS" --seed "$SEED" --batch-size 256 --sort-window 32
  --steps "$STEPS" --sorted-steps "$SORTED_STEPS" "${CONFIGS[@]}" --rounds 1)
for ((r = 0; r < ROUNDS; r++)); do
  step "round $((r + 1))/$ROUNDS: CPU (Flex, release)"
  "$BIN/specgr" "${COMMON[@]}" --device cpu --json "$OUT/round$r-flex-release.json" >>"$LOG" 2>&1
  step "round $((r + 1))/$ROUNDS: CUDA"
  "$BIN/specgr" "${COMMON[@]}" --device cuda --json "$OUT/round$r-cuda.json" >>"$LOG" 2>&1
done
"$PYTHON" experiments/scripts/train_throughput_table.py "$OUT" | tee "$OUT/summary.md"
step "done: $OUT"
