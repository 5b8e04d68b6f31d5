#!/usr/bin/env bash
# `--matmul bf16` on Flex against f32 on Flex and both on LibTorch: the same 64 seeded
# test examples (seed 3) of the Beauty time split, TIGER and SpecGR++ (γ −1.4, δ 400,
# β 50, K 50, batch 32), one thread, the four configurations one after another in the
# ORDER given (default: cpu-bf16 tch-bf16 cpu-f32 tch-f32), each a process of its own;
# prints each process's wall time and the methods' seconds per query.
#
#   BIN=/work/bins/specgr-tch-de453f1 experiments/results/gr-model/bf16-flex/run.sh
#   ORDER="tch-f32 cpu-f32 tch-bf16 cpu-bf16" BIN=... experiments/results/gr-model/bf16-flex/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
B=${BIN:?a LibTorch build of specgr}
. experiments/runs/torch-env.sh
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
experiments/results/beauty-2014/tiger-recent-ts/view.sh
for cfg in ${ORDER:-cpu-bf16 tch-bf16 cpu-f32 tch-f32}; do
  device=${cfg%-*} precision=${cfg#*-}
  start=$(date +%s.%N)
  out=$("$B" eval --dataset beauty-2014 --runs runs/eval-view/ts-recent --ids rqvae --preset paper --part test \
    --sample 64 --seed 3 --k 50 --methods tiger,specgr-pp --method-threshold=specgr-pp=-1.4 \
    --method-draft-size specgr-pp=400 --beam-size 50 --matmul "$precision" --device "$device" --batch-size 32 2>&1)
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  echo "$cfg wall ${wall%???????} s; s/query: $(echo "$out" | awk '/ overall /{printf "%s %s  ", $1, $NF}')"
done
