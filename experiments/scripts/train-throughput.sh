#!/usr/bin/env bash
# TIGER training throughput, Burn/Flex against Hugging Face T5 on PyTorch, side by side
# on the same real Beauty batches (experiments/results/gr-model/train-throughput.md).
#
# Builds `specgr` twice (the dev profile, what `cargo run` gives and the baseline, and
# release), snapshots both binaries, exports the token batches of both batchings
# (`shuffled`, `sorted`), then runs ROUNDS rounds; each round times, one process
# after the other and all on the same batches (those `specgr bench train` picks: the
# middle batch of each of STEPS or SORTED_STEPS length strata):
#   1. Flex, dev build:      <preset>-shuffled-2 (the baseline)
#   2. Flex, release build:  <preset>-{shuffled,sorted}-{1,2} (batching x shards)
#   2b. with AVX512=1: the same, release build with `--features avx512` (gemm's
#      AVX-512 matmul kernels, picked at run time on CPUs with AVX-512F)
#   2c. with TCH=1: Burn's LibTorch backend (`--features tch`, `--device tch`), release:
#      <preset>-{shuffled,sorted}-1 at 1 and at 2 LibTorch threads, and -2 (2 shards)
#      at 1 thread each; OMP_WAIT_POLICY=PASSIVE as for PyTorch
#   3. HF T5 (PyTorch):      <preset> x {shuffled,sorted} x {1,2} threads, OMP_WAIT_POLICY=PASSIVE
# and finally writes summary.md / summary.json (train_throughput_table.py) in OUT.
#
#   experiments/scripts/train-throughput.sh            # OUT defaults to a dated directory
#
# Environment: ROUNDS (3), STEPS (2: steps of 256 examples per configuration and
# round, shuffled batches), SORTED_STEPS (4: the same for length-sorted batches, which
# differ far more in length: one batch of each quartile per round), PRESETS ("small
# paper"), DATASET (beauty-2014-loo), IDS (rqvae), SEED (42), OUT, PYTHON (python3),
# WAIT_IDLE (1800 s), WAIT_FOR (see below), SKIP_BUILD=1 (use the binaries in target/
# as they are), PAUSE=1 (default): stop the `specgr train tiger` processes of this machine with
# SIGSTOP while measuring and continue them afterwards (also on error or Ctrl-C), so
# the measurement has the cores to itself; AVX512=1 (default 0): also the avx512 build;
# DEV=0 skips the dev build (and its baseline rows); HF=0 skips PyTorch. Needs SPECGR_DATA and
# runs/<DATASET>/semid/<IDS>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-2}
SORTED_STEPS=${SORTED_STEPS:-4}
PRESETS=${PRESETS:-small paper}
DATASET=${DATASET:-beauty-2014-loo}
IDS=${IDS:-rqvae}
SEED=${SEED:-42}
PYTHON=${PYTHON:-python3}
PAUSE=${PAUSE:-1}
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
OUT=${OUT:-experiments/results/gr-model/train-throughput/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
LOG="$OUT/driver.log"
say() { echo "== $(date -u +%T) $*" | tee -a "$LOG" >&2; }

# The revision the binaries are built from (others may commit while this runs); the
# binaries report it instead of asking git when they run.
SPECGR_GIT_REVISION="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!experiments/results' || echo -dirty)"
export SPECGR_GIT_REVISION
AVX512=${AVX512:-0}
TCH=${TCH:-0}
if [ "$TCH" = 1 ]; then
  # The torch wheel is a CUDA build: its libraries must be found at run time too.
  TORCH_LIB="$($PYTHON -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
  export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
DEV=${DEV:-1}
HF=${HF:-1}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
# Snapshots: other builds may replace target/*/specgr while this runs. The exported
# batches live beside them and go with them.
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "building (release$([ "$AVX512" = 1 ] && echo ', release avx512')$([ "$DEV" = 1 ] && echo ', dev'))"
  if [ "$AVX512" = 1 ]; then
    cargo build --release -p bench --features avx512 2>&1 | tail -n 2
    cp target/release/specgr "$BIN/specgr-release-avx512"
  fi
  if [ "$TCH" = 1 ]; then
    LIBTORCH_USE_PYTORCH=1 cargo build --release -p bench --features tch 2>&1 | tail -n 2
    cp target/release/specgr "$BIN/specgr-release-tch"
  fi
  cargo build --release -p bench 2>&1 | tail -n 2
  [ "$DEV" = 1 ] && cargo build -p bench 2>&1 | tail -n 2
else
  # SKIP_BUILD=1: the binaries as they are (RELEASE_AVX512_BIN names the avx512 one).
  [ "$AVX512" = 1 ] && cp "${RELEASE_AVX512_BIN:?SKIP_BUILD=1 AVX512=1 needs RELEASE_AVX512_BIN}" "$BIN/specgr-release-avx512"
  [ "$TCH" = 1 ] && cp "${RELEASE_TCH_BIN:?SKIP_BUILD=1 TCH=1 needs RELEASE_TCH_BIN}" "$BIN/specgr-release-tch"
fi
cp "${RELEASE_BIN:-target/release/specgr}" "$BIN/specgr-release"
[ "$DEV" = 1 ] && cp target/debug/specgr "$BIN/specgr-dev"

{
  echo "git: $SPECGR_GIT_REVISION (built from; $(git status --porcelain --untracked-files=no | wc -l) modified tracked files of other sessions' work in progress)"
  echo "date: $(date -u +%FT%TZ)"
  echo "nproc: $(nproc)"
  lscpu | head -n 20
  echo "rustc: $(rustc --version)"
  echo "python: $($PYTHON -c 'import sys,torch,transformers;print(sys.version.split()[0], "torch", torch.__version__, "transformers", transformers.__version__)')"
  echo "ROUNDS=$ROUNDS STEPS=$STEPS SORTED_STEPS=$SORTED_STEPS PRESETS='$PRESETS' DATASET=$DATASET IDS=$IDS SEED=$SEED"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >> "$LOG"

COMMON=(bench train --dataset "$DATASET" --ids "$IDS" --seed "$SEED" --batch-size 256 --sort-window 32
  --steps "$STEPS" --sorted-steps "$SORTED_STEPS")
for b in shuffled sorted; do
  say "exporting the timed $b batches"
  "$BIN/specgr-release" "${COMMON[@]}" --rounds 0 --export-batching "$b" \
    --export-batches "$BIN/batches-$b.safetensors" 2>>"$LOG"
done

RELEASE=() DEVCONF=()
for p in $PRESETS; do
  DEVCONF+=(--config "$p-shuffled-2")
  for b in shuffled sorted; do
    for s in 1 2; do RELEASE+=(--config "$p-$b-$s"); done
  done
done

# Other sessions' compilers would share the cores too: wait (up to WAIT_IDLE seconds,
# default 1800) until no rustc runs, and log what else is busy in each round.
busy() { top -b -n 1 -w 200 | awk 'NR > 7 && $9 + 0 >= 20 { printf "%s(%s%%) ", $12, $9 }'; }
# WAIT_FOR, a `pgrep -f` pattern, names other work to wait for the same way (e.g.
# another session's benchmark).
others() { pgrep -x rustc >/dev/null || { [ -n "${WAIT_FOR:-}" ] && pgrep -f "$WAIT_FOR" >/dev/null; }; }
waited=0
while others && [ "$waited" -lt "${WAIT_IDLE:-1800}" ]; do
  [ $((waited % 60)) = 0 ] && say "waiting for other builds (rustc) or WAIT_FOR='${WAIT_FOR:-}' to finish"
  sleep 10; waited=$((waited + 10))
done

PIDS=""
resume() {
  if [ -n "$PIDS" ]; then
    # shellcheck disable=SC2086
    kill -CONT $PIDS 2>/dev/null || true
    say "continued $PIDS after $(( $(date +%s) - PAUSED_AT )) s"
    PIDS=""
  fi
}
trap 'resume; rm -rf "$BIN"' EXIT
trap 'exit 130' INT TERM
if [ "$PAUSE" = 1 ]; then
  PIDS=$(pgrep -f "specgr[^ /]* train tiger" | tr '\n' ' ' || true)
  PAUSED_AT=$(date +%s)
  if [ -n "$PIDS" ]; then
    # shellcheck disable=SC2086
    kill -STOP $PIDS
    say "stopped $PIDS (specgr train tiger) while measuring"
  fi
fi

for ((r = 0; r < ROUNDS; r++)); do
  say "round $((r + 1)): load $(cut -d' ' -f1-3 /proc/loadavg); rustc processes: $(pgrep -c -x rustc || true); busy: $(busy)"
  if [ "$DEV" = 1 ]; then
    say "round $((r + 1))/$ROUNDS: Flex dev"
    "$BIN/specgr-dev" "${COMMON[@]}" "${DEVCONF[@]}" --rounds 1 \
      --json "$OUT/round$r-flex-dev.json" >>"$LOG" 2>&1
  fi
  say "round $((r + 1))/$ROUNDS: Flex release"
  "$BIN/specgr-release" "${COMMON[@]}" "${RELEASE[@]}" --rounds 1 \
    --json "$OUT/round$r-flex-release.json" >>"$LOG" 2>&1
  if [ "$AVX512" = 1 ]; then
    say "round $((r + 1))/$ROUNDS: Flex release, gemm AVX-512 kernels"
    "$BIN/specgr-release-avx512" "${COMMON[@]}" "${RELEASE[@]}" --rounds 1 \
      --json "$OUT/round$r-flex-release-avx512.json" >>"$LOG" 2>&1
  fi
  if [ "$TCH" = 1 ]; then
    # LibTorch's own threads: OMP_NUM_THREADS (1 shard at 1 and 2 threads; 2 shards at 1 each).
    TCH1=() TCH2=()
    for p in $PRESETS; do
      for b in shuffled sorted; do TCH1+=(--config "$p-$b-1" --config "$p-$b-2"); TCH2+=(--config "$p-$b-1"); done
    done
    say "round $((r + 1))/$ROUNDS: LibTorch, 1 thread per shard"
    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 "$BIN/specgr-release-tch" "${COMMON[@]}" "${TCH1[@]}" --device tch \
      --rounds 1 --json "$OUT/round$r-libtorch-t1.json" >>"$LOG" 2>&1
    say "round $((r + 1))/$ROUNDS: LibTorch, 2 threads"
    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 "$BIN/specgr-release-tch" "${COMMON[@]}" "${TCH2[@]}" --device tch \
      --rounds 1 --json "$OUT/round$r-libtorch-t2.json" >>"$LOG" 2>&1
  fi
  [ "$HF" = 1 ] || continue
  say "round $((r + 1))/$ROUNDS: HF T5 (PyTorch)"
  # shellcheck disable=SC2086
  OMP_WAIT_POLICY=PASSIVE "$PYTHON" crates/gr-model/tools/hf_t5_train_bench.py \
    --batches "$BIN/batches-shuffled.safetensors" "$BIN/batches-sorted.safetensors" \
    --preset $PRESETS --threads 1 2 --rounds 1 \
    --seed "$SEED" --json "$OUT/round$r-hf.json" >/dev/null 2>>"$LOG"
done
say "after the rounds: load $(cut -d' ' -f1-3 /proc/loadavg); rustc processes: $(pgrep -c -x rustc || true)"
resume
"$PYTHON" experiments/scripts/train_throughput_table.py "$OUT" | tee "$OUT/summary.md"
