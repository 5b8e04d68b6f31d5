#!/usr/bin/env bash
# LibTorch training samples/s under three allocators, side by side (three processes at
# once, REPS times): glibc with the settings of experiments/runs/torch-env.sh, jemalloc
# and tcmalloc (Debian's libjemalloc2 and libtcmalloc-minimal4, put in front with
# LD_PRELOAD). glibc cannot keep blocks above 32 MiB on its heap (its mmap threshold's
# ceiling on 64-bit), and a batch of long histories has feed-forward activations of
# 30-90 MB, which it maps and the kernel zero-fills anew at each step.
#
#   BIN=/work/bins/specgr-tch-<rev> experiments/results/gr-model/allocator-preload/run.sh
#
# Writes out/<allocator>-<rep>.json here and out/summary.md.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
# glibc as the baseline: torch-env.sh itself now puts tcmalloc in front when installed.
export TCMALLOC=
. experiments/runs/torch-env.sh
export OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 SPECGR_DATA=${SPECGR_DATA:-../shared/data}
B=${BIN:?the LibTorch build} REPS=${REPS:-3}
here=experiments/results/gr-model/allocator-preload
LIBDIR=/usr/lib/x86_64-linux-gnu
for lib in libjemalloc.so.2 libtcmalloc_minimal.so.4; do
  [ -f $LIBDIR/$lib ] || { echo "no $LIBDIR/$lib: apt-get install libjemalloc2 libtcmalloc-minimal4" >&2; exit 1; }
done
mkdir -p $here/out
C="$B bench train --dataset beauty-2014-loo --runs runs --ids rqvae --device tch --config ${CONFIG:-paper-sorted-1-bf16} --dropout 0.1 --seed 42 --rounds 3 --steps 3"
for rep in $(seq 1 $REPS); do
  $C --json $here/out/glibc-$rep.json > $here/out/glibc-$rep.log 2>&1 &
  LD_PRELOAD=$LIBDIR/libjemalloc.so.2 $C --json $here/out/jemalloc-$rep.json > $here/out/jemalloc-$rep.log 2>&1 &
  LD_PRELOAD=$LIBDIR/libtcmalloc_minimal.so.4 $C --json $here/out/tcmalloc-$rep.json > $here/out/tcmalloc-$rep.log 2>&1 &
  wait
done
python3 - $here $REPS <<'PY'
import json, statistics, sys
here, reps = sys.argv[1], int(sys.argv[2])
sps = lambda a, r: json.load(open(f"{here}/out/{a}-{r}.json"))["runs"][0]["median_samples_per_sec"]
out = ["| rep | glibc (torch-env.sh) samples/s | jemalloc | tcmalloc | jemalloc / glibc | tcmalloc / glibc |",
       "| ---: | ---: | ---: | ---: | ---: | ---: |"]
rj, rt = [], []
for r in range(1, reps + 1):
    g, j, t = sps("glibc", r), sps("jemalloc", r), sps("tcmalloc", r)
    rj.append(j / g); rt.append(t / g)
    out.append(f"| {r} | {g:.1f} | {j:.1f} | {t:.1f} | {j/g:.2f}x | {t/g:.2f}x |")
out.append(f"| median | | | | **{statistics.median(rj):.2f}x** | **{statistics.median(rt):.2f}x** |")
open(f"{here}/out/summary.md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
