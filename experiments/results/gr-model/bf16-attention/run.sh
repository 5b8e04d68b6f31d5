#!/usr/bin/env bash
# LibTorch training with attention's score and context products in bfloat16
# (gr_model::ops::matmul4 under --matmul bf16, as torch.autocast runs matmul) against
# the binary that kept them float32, side by side: two binaries, the same
# `specgr bench train` configuration, alternated in PAIRS rounds (A B, B A, ...), on the
# leave-one-out Beauty batches; then one short training with each binary on the same
# first TRAIN_LIMIT training examples (the paper shape, bf16, dropout 0.1, seed 42),
# whose epoch losses and valid Recall@10 are compared (rounding differs, so they are
# near, not equal).
#
#   OLD=/work/bins/specgr-tch-de453f1 NEW=/work/bins/specgr-tch-<rev> \
#     experiments/results/gr-model/bf16-attention/run.sh
#
# Writes out/<config>-<pair>-<old|new>.json, out/train-<old|new>-state.json and
# out/summary.md here.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
. experiments/runs/torch-env.sh
export OMP_NUM_THREADS=1 SPECGR_DATA=${SPECGR_DATA:-../shared/data}
OLD=${OLD:?the binary before} NEW=${NEW:?the binary after}
PAIRS=${PAIRS:-5} CONFIGS=${CONFIGS:-paper-sorted-1-bf16} TRAIN_LIMIT=${TRAIN_LIMIT:-25600} EPOCHS=${EPOCHS:-2}
here=experiments/results/gr-model/bf16-attention
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
# The short trainings run side by side (one core each), so their times compare too.
for which in old new; do
  rm -rf /tmp/bf16-attn-$which
  "$( [ $which = old ] && echo $OLD || echo $NEW )" train tiger --dataset beauty-2014-loo --runs runs --ids rqvae \
    --preset paper --matmul bf16 --dropout 0.1 --batch-size 256 --train-limit $TRAIN_LIMIT --valid-limit 2000 \
    --epochs $EPOCHS --lr 1e-3 --device tch --seed 42 --out /tmp/bf16-attn-$which > $here/out/train-$which.log 2>&1 &
done
wait
for which in old new; do cp /tmp/bf16-attn-$which/last/state.json $here/out/train-$which-state.json; done
python3 - "$here" <<'PY'
import glob, json, re, statistics, sys
here = sys.argv[1]
rows = {}
for f in sorted(glob.glob(f"{here}/out/*-[0-9]*-*.json")):
    m = re.match(r".*/(.+)-(\d+)-(old|new)\.json", f)
    d = json.load(open(f))
    rows.setdefault(m.group(1), {}).setdefault(int(m.group(2)), {})[m.group(3)] = d["runs"][0]["median_samples_per_sec"]
out = ["| config | pair | old samples/s | new samples/s | new/old |", "| --- | ---: | ---: | ---: | ---: |"]
for config, pairs in rows.items():
    ratios = []
    for p, v in sorted(pairs.items()):
        if v.get("old") and v.get("new"):
            r = v["new"] / v["old"]; ratios.append(r)
            out.append(f"| {config} | {p} | {v['old']:.1f} | {v['new']:.1f} | {r:.2f}x |")
    if ratios:
        out.append(f"| {config} | median | | | **{statistics.median(ratios):.2f}x** (min {min(ratios):.2f}, max {max(ratios):.2f}) |")
out += ["", "| short training | epoch losses | best valid (metric, epoch) |", "| --- | --- | --- |"]
for w in ("old", "new"):
    s = json.load(open(f"{here}/out/train-{w}-state.json"))
    out.append(f"| {w} | {', '.join(f'{x:.4f}' for x in s['epoch_losses'])} | {s.get('best')} |")
open(f"{here}/out/summary.md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
