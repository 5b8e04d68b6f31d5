#!/usr/bin/env bash
# LibTorch training with the dropout masks drawn by index from their SplitMix64 stream
# (ea6ac87: `recdata::rng::splitmix64_at`, a loop the compiler vectorises) against the
# sequential loop before it (a45cf71), side by side: two binaries, the same `specgr
# bench train` configuration, alternated in PAIRS rounds (A B, B A, A B, ...), on the
# leave-one-out Beauty batches; then one short training with each binary on the same
# 2,560 examples, whose epoch loss, weights and optimiser state must be bit-identical
# (the masks are the same numbers).
#
#   OLD=/work/bins/specgr-tch-a45cf71 NEW=/work/bins/specgr-tch-ea6ac87 \
#     experiments/results/gr-model/dropout-by-index/run.sh
#
# Writes out/<config>-<pair>-<old|new>.json and out/summary.md here.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
. experiments/runs/torch-env.sh
export OMP_NUM_THREADS=1 SPECGR_DATA=${SPECGR_DATA:-../shared/data}
OLD=${OLD:?the binary before} NEW=${NEW:?the binary after}
PAIRS=${PAIRS:-5} CONFIGS=${CONFIGS:-paper-sorted-1-bf16}
here=experiments/results/gr-model/dropout-by-index
mkdir -p $here/out
one() { # config pair which binary
  "$4" bench train --dataset beauty-2014-loo --runs runs --config "$1" --rounds 1 --steps 3 --device tch \
    --dropout 0.1 --seed 42 --json $here/out/$1-$2-$3.json 2>&1 | grep "^round"
}
for pair in $(seq 1 $PAIRS); do
  for config in $CONFIGS; do
    if [ $((pair % 2)) = 1 ]; then one $config $pair old $OLD; one $config $pair new $NEW
    else one $config $pair new $NEW; one $config $pair old $OLD; fi
  done
done
for which in old new; do
  rm -rf /tmp/drop-eq-$which
  "$( [ $which = old ] && echo $OLD || echo $NEW )" train tiger --dataset beauty-2014-loo --runs runs --ids rqvae \
    --preset paper --matmul bf16 --dropout 0.1 --batch-size 256 --train-limit 2560 --valid-limit 100 --epochs 1 \
    --lr 1e-3 --device tch --seed 42 --out /tmp/drop-eq-$which > /tmp/drop-eq-$which.log 2>&1
done
python3 - "$here" <<'PY'
import glob, json, re, statistics, sys
here = sys.argv[1]
rows = {}
for f in sorted(glob.glob(f"{here}/out/*.json")):
    m = re.match(r".*/(.+)-(\d+)-(old|new)\.json", f)
    d = json.load(open(f))
    sps = d["runs"][0]["median_samples_per_sec"]
    rows.setdefault(m.group(1), {}).setdefault(int(m.group(2)), {})[m.group(3)] = (sps, d)
out = ["| config | pair | old samples/s | new samples/s | new/old |", "| --- | ---: | ---: | ---: | ---: |"]
for config, pairs in rows.items():
    ratios = []
    for p, v in sorted(pairs.items()):
        if "old" in v and "new" in v and v["old"][0] and v["new"][0]:
            r = v["new"][0] / v["old"][0]; ratios.append(r)
            out.append(f"| {config} | {p} | {v['old'][0]:.1f} | {v['new'][0]:.1f} | {r:.2f}x |")
    if ratios:
        out.append(f"| {config} | median | | | **{statistics.median(ratios):.2f}x** (min {min(ratios):.2f}, max {max(ratios):.2f}) |")
st = [json.load(open(f"/tmp/drop-eq-{w}/last/state.json"))["epoch_losses"] for w in ("old", "new")]
out.append("")
out.append(f"Short training on the same 2,560 examples, epoch loss: old {st[0]}, new {st[1]}: {'identical' if st[0] == st[1] else 'DIFFERENT'}")
open(f"{here}/out/summary.md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
# The two weight files differ in their parameters' random ids; compare the tensors
# themselves (Python's msgpack: `pip install msgpack`).
python3 - <<'PY' | tee -a $here/out/summary.md
import msgpack
def tensors(path):
    def walk(o):
        if isinstance(o, dict):
            if isinstance(o.get("bytes"), (bytes, bytearray)):
                yield bytes(o["bytes"])
            for v in o.values():
                yield from walk(v)
        elif isinstance(o, list):
            for v in o:
                yield from walk(v)
    # The optimiser's records are keyed by those ids: compare the tensors as sorted lists.
    return sorted(walk(msgpack.unpackb(open(path, "rb").read(), raw=False, strict_map_key=False)))
for f in ("model-1.mpk", "optim-1.mpk"):
    a, b = tensors(f"/tmp/drop-eq-old/last/{f}"), tensors(f"/tmp/drop-eq-new/last/{f}")
    print(f"{f}: {len(a)} and {len(b)} tensors, {'all bit-identical' if a == b else 'DIFFERENT'}")
PY
