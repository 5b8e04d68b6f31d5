"""The speed table of `ab_pairs` (experiments/runs/ab-train.sh): for each config, each
pair's samples/s of the old and new binary, their ratio, and the median ratio.

    python3 experiments/scripts/ab_speed.py OUT_DIR
"""
import glob
import json
import re
import statistics
import sys

rows = {}
for f in sorted(glob.glob(f"{sys.argv[1]}/*-[0-9]*-*.json")):
    m = re.match(r".*/(.+)-(\d+)-(old|new)\.json$", f)
    if not m:
        continue
    sps = json.load(open(f))["runs"][0]["median_samples_per_sec"]
    rows.setdefault(m.group(1), {}).setdefault(int(m.group(2)), {})[m.group(3)] = sps
out = ["| config | pair | old samples/s | new samples/s | new/old |", "| --- | ---: | ---: | ---: | ---: |"]
for config, pairs in rows.items():
    ratios = []
    for p, v in sorted(pairs.items()):
        if v.get("old") and v.get("new"):
            r = v["new"] / v["old"]
            ratios.append(r)
            out.append(f"| {config} | {p} | {v['old']:.1f} | {v['new']:.1f} | {r:.2f}x |")
    if ratios:
        out.append(f"| {config} | median | | | **{statistics.median(ratios):.2f}x** (min {min(ratios):.2f}, max {max(ratios):.2f}) |")
print("\n".join(out))
