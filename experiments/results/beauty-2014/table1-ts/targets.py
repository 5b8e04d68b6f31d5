#!/usr/bin/env python3
"""The issues' targets, checked against a Table 1 report (`specgr eval --report`'s
results.json), and the breakdown each miss asks for, as Markdown on stdout:

    python3 experiments/results/beauty-2014/table1-ts/targets.py runs/evals/ts-recent-table1/test/results.json

Targets (SpecGR-on-Beauty issue; TIGER issue, time split):
- SpecGR_Aux and SpecGR++ overall NDCG@50 >= 1.10 x the better of TIGER and their own
  drafter alone (UniSRec; the SpecGR++ encoder), with unseen Recall@50 >= 0.03;
- SpecGR++ overall NDCG@50 >= 1.15 x TIGER's;
- TIGER's in-sample Recall@50 >= UniSRec's.
The breakdown of each SpecGR method: what its drafter alone reaches (recall it can
keep at most when every draft is accepted), what the method keeps, acceptance by
round (from the report's notes), the in-sample ranking against TIGER's and the
drafter's, and the gap to the target split by subset with the routing ceiling
(experiments/scripts/subset_breakdown.py). Only what the report holds is used; a method
it lacks is said to be missing.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../scripts"))
import subset_breakdown  # noqa: E402

DRAFTER = subset_breakdown.DRAFTER


def main(path):
    report = json.load(open(path))
    if any("id" not in r for r in report["rows"]):
        sys.exit(f"{path}: its rows carry no method ids (a report older than the ids); nothing to check")
    rows = {(r["id"], r["subset"]): r for r in report["rows"]}
    names = {r["id"]: r["method"] for r in report["rows"]}

    def get(method, subset, metric):
        row = rows.get((method, subset))
        return None if row is None else row[metric]

    def fmt(x):
        return "–" if x is None else f"{x:.4f}"

    print(f"# Targets against `{path}`\n")
    print(f"{report.get('title', '')}; revision {report['provenance'].get('git_revision')}\n")
    print("| target | measured | met |")
    print("| --- | --- | --- |")
    tiger = get("tiger", "overall", "ndcg@50")
    for method, factor in (("specgr-aux", 1.10), ("specgr-pp", 1.10)):
        n = get(method, "overall", "ndcg@50")
        d = get(DRAFTER[method], "overall", "ndcg@50")
        if n is None or tiger is None or d is None:
            print(f"| {method}: N@50 >= {factor:.2f} x max(TIGER, drafter) | missing from the report | – |")
        else:
            best = max(tiger, d)
            print(f"| {names[method]}: N@50 >= {factor:.2f} x max(TIGER {fmt(tiger)}, {names[DRAFTER[method]]} {fmt(d)}) "
                  f"| {fmt(n)} ({n / best:.3f} x) | {'yes' if n >= factor * best else 'no'} |")
        u = get(method, "unseen", "recall@50")
        if u is not None:
            print(f"| {names[method]}: unseen R@50 >= 0.03 | {fmt(u)} | {'yes' if u >= 0.03 else 'no'} |")
    n = get("specgr-pp", "overall", "ndcg@50")
    if n is not None and tiger is not None:
        print(f"| SpecGR++: N@50 >= 1.15 x TIGER ({fmt(tiger)}) | {fmt(n)} ({n / tiger:.3f} x) | {'yes' if n >= 1.15 * tiger else 'no'} |")
    t, u = get("tiger", "in-sample", "recall@50"), get("unisrec", "in-sample", "recall@50")
    if t is not None and u is not None:
        print(f"| TIGER in-sample R@50 >= UniSRec's ({fmt(u)}) | {fmt(t)} ({t / u:.3f} x) | {'yes' if t >= u else 'no'} |")

    print("\n## Breakdown of each SpecGR method\n")
    print("| method | subset | drafter alone R@50 | method R@50 | drafter alone N@50 | method N@50 | TIGER N@50 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for method, drafter in DRAFTER.items():
        if (method, "overall") not in rows:
            continue
        for subset in ("overall", "in-sample", "unseen"):
            print(f"| {names[method]} | {subset} | {fmt(get(drafter, subset, 'recall@50'))} | {fmt(get(method, subset, 'recall@50'))} "
                  f"| {fmt(get(drafter, subset, 'ndcg@50'))} | {fmt(get(method, subset, 'ndcg@50'))} | {fmt(get('tiger', subset, 'ndcg@50'))} |")
    print("\nAcceptance by round (the report's notes):\n")
    for note in report.get("notes", []):
        m = re.match(r"(SpecGR[^:]*): (r0: .*?); per query", note)
        if m:
            rounds = re.findall(r"(r\d+): (\d+) drafted, (\d+) accepted \(([\d.]+)%\)", m.group(2))
            print(f"- {m.group(1)}: " + ", ".join(f"{r} {pct} %" for r, _, _, pct in rounds))
    print("\n## The gap to the target by subset, and the routing ceiling\n")
    subset_breakdown.breakdown(*subset_breakdown.merge([path]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
