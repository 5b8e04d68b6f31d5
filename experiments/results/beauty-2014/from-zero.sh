#!/usr/bin/env bash
# Starts the Beauty time-split campaign from nothing, on a machine that has neither its
# runs/ nor its carried copies (`../carry/`, experiments/runs/carry.sh) nor the binaries under /work/bins: what happened
# on 2026-12-06 and again on 2026-12-07, when each new machine came without them.
#
#   experiments/results/beauty-2014/from-zero.sh
#
# In order, each step skipped when its output exists (so running it again, after a kill
# or in a later session on the same machine, starts nothing twice):
# 1. the binary: BIN, else target/release/specgr built with LibTorch (`pip install
#    torch==2.9.0` first; about 15 minutes on 2 cores) when it is missing;
# 2. the inputs: MiniLM title embeddings and RQ-VAE semantic IDs of beauty-2014 (about
#    2.5 minutes; the embeddings' float sums differ between CPUs, so the IDs, and every
#    number after them, are this machine's, not bit-identical with the lost runs');
# 3. in the background, one core each (nice 0), the two longest paths to Tables 1 and 2:
#    - the paper-shaped TIGER at constant rate, batch 128 (`tiger-paper-bs128/`'s recipe,
#      into runs/beauty-2014/tiger-rqvae-paper), followed by its chain
#      (`tiger-paper-bs128/rerun-2026-12-06/chain.sh`: stop at epoch 8, cool-down, full
#      test, SpecGR-KNN's γ grid, SpecGR++), which waits for it;
#    - UniSRec to its early stop (`experiments/runs/unisrec.sh`).
# Everything else of the campaign (`resume.sh`) needs one of these models: until the
# cool-down's best exists, `resume.sh` hands over to this script; then it takes over.
# Run again in a later session, it resumes each run from its checkpoint (the run
# scripts first restore a copy `experiments/runs/carry.sh save` left in ../carry/).
# Logs: runs/beauty-2014/logs/.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. experiments/runs/run-lock.sh
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
export SPECGR_MODELS=${SPECGR_MODELS:-$(dirname "$SPECGR_DATA")/models}
BIN=${BIN:-target/release/specgr}
# The LibTorch build needs the wheel's libraries on the loader's path to start at all.
. experiments/runs/torch-env.sh
if [ ! -x "$BIN" ]; then
  echo "from-zero: building $BIN (LibTorch backend, from the torch wheel)"
  LIBTORCH_USE_PYTORCH=1 cargo build --release -p bench --features tch,avx512
fi
BIN=$(realpath "$BIN")
RUNS=runs/beauty-2014
L=$RUNS/logs
mkdir -p $L
if [ ! -d $RUNS/embeddings ]; then
  echo "== $(date -u +%FT%TZ) embeddings"
  "$BIN" embed --dataset beauty-2014 --encoder "$SPECGR_MODELS/all-MiniLM-L6-v2"
fi
if [ ! -d $RUNS/semid/rqvae ]; then
  echo "== $(date -u +%FT%TZ) RQ-VAE semantic IDs"
  "$BIN" semid fit --dataset beauty-2014 --method rqvae
fi
if run_held $RUNS/tiger-rqvae-paper; then echo "from-zero: the constant-rate TIGER runs already"
elif [ -d $RUNS/frozen/tiger-rqvae-paper-e8-b0 ]; then echo "from-zero: the constant-rate TIGER is done (frozen at epoch 8)"
else
  BATCH=128 WARMUP=256 VALID_SAMPLE=2000 DEVICE=tch SHARDS=1 OMP_NUM_THREADS=1 SPECGR_BIN=$BIN \
    nohup experiments/runs/tiger-paper.sh beauty-2014 >> $L/tiger-paper-bs128.log 2>&1 &
  echo "from-zero: started the constant-rate TIGER ($L/tiger-paper-bs128.log)"
  sleep 30 # its lock held, so that the chain's freeze step waits for it
fi
if pgrep -f rerun-2026-12-06/chain.sh > /dev/null; then echo "from-zero: the TIGER chain runs already"; else
  SPECGR_BIN=$BIN nohup experiments/results/beauty-2014/tiger-paper-bs128/rerun-2026-12-06/chain.sh \
    >> $L/tiger-paper-chain.log 2>&1 &
  echo "from-zero: started the TIGER chain ($L/tiger-paper-chain.log)"
fi
if run_held $RUNS/unisrec; then echo "from-zero: UniSRec runs already"; else
  DEVICE=tch SPECGR_BIN=$BIN nohup experiments/runs/unisrec.sh beauty-2014 >> $L/unisrec.log 2>&1 &
  echo "from-zero: started UniSRec ($L/unisrec.log)"
fi
