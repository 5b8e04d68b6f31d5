# Sourced by the run scripts here whose runs share the cores with others (UniSRec,
# SpecGR++): the binary S (SPECGR_BIN, else a release build with `--features avx512`,
# built if missing), DEVICE (default cpu), both backends capped at THREADS threads
# (default 1; LibTorch's library path when DEVICE=tch), and SPECGR_DATA (default
# ../shared/data).
S=${SPECGR_BIN:-./target/release/specgr}
[ -x "$S" ] || cargo build --release -p bench --features avx512
DEVICE=${DEVICE:-cpu}
export RAYON_NUM_THREADS=${THREADS:-1}
if [ "$DEVICE" = tch ]; then
  . experiments/runs/torch-env.sh
  export OMP_NUM_THREADS=${THREADS:-1}
fi
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
