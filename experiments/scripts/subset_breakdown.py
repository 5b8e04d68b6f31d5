#!/usr/bin/env python3
"""Where a SpecGR method's overall score comes from, and how far it is from issue 22's
target, split by target kind: in-sample examples (the target was seen in training) and
unseen ones. Read from `specgr eval` reports (`results.json`) of the same examples.

    python3 experiments/scripts/subset_breakdown.py REPORT[:LABEL] ... [--metric ndcg@50]

Several reports may be given when they rank the same examples (same part, sample, seed,
limit, and subset sizes; checked); LABEL, if given, is added to the names of that
report's methods, so one method run two ways can stand side by side.

For every SpecGR method (SpecGR-KNN, SpecGR_Aux, SpecGR++) beside TIGER and its own
drafter alone (SemanticKNN, UniSRec, the SpecGR++ drafter) it prints, in Markdown:
- each method's metric on in-sample and unseen examples and overall (overall is the
  examples-weighted mean of the two, checked against the report);
- the routing ceiling: the best in-sample score of the three plus the best unseen score,
  weighted: what a list that knew each target's kind and took the better list for it
  would score. It is not a bound on every list (one list could beat all three on a
  subset), but where it is below the target a SpecGR method reaches the target only by
  beating the best of the three on a subset;
- the target, 1.10 x the better of TIGER and the drafter overall;
- the method's gap to the target, split into its in-sample and unseen parts, each
  against that subset's best, and the in-sample score the target needs when the unseen
  examples score what the drafter scores there.
Stdlib only; no state.
"""

import json
import sys

DRAFTER = {
    "specgr-knn": "semantic-knn",
    "specgr-aux": "unisrec",
    "specgr-pp": "specgr-pp-drafter",
}
SUBSETS = ("in-sample", "unseen")
TARGET = 1.10


def load(arg):
    path, _, label = arg.partition(":")
    if path.endswith("/") or not path.endswith(".json"):
        path = path.rstrip("/") + "/results.json"
    with open(path) as f:
        report = json.load(f)
    config = report["provenance"]["config"]
    key = tuple(config.get(k) for k in ("dataset", "part", "sample", "limit", "subset_size"))
    seed = report["provenance"].get("seed") if config.get("sample") else None
    rows = {}
    for row in report["rows"]:
        suffix = f" ({label})" if label else ""
        rows[(row["id"] + suffix, row["subset"])] = dict(row, method=row["method"] + suffix)
    return path, key + (seed,), rows


def name_of(rows, id_):
    row = rows.get((id_, "overall"))
    return row["method"] if row else id_


def merge(args):
    """The rows of the reports `args` (`PATH[:LABEL]`), checked to rank the same
    examples, keyed by (method id, subset), and the examples of each subset."""
    rows, key0, path0 = {}, None, None
    for a in args:
        path, key, r = load(a)
        if key0 is None:
            key0, path0 = key, path
        elif key != key0:
            sys.exit(f"{path} ranks other examples than {path0}: {key} vs {key0}")
        for k, row in r.items():
            if k in rows:
                sys.exit(f"{path}: method {k[0]!r} is in an earlier report too; give one a :LABEL")
            rows[k] = row
    counts = {}
    for (id_, subset), row in rows.items():
        if counts.setdefault(subset, row["examples"]) != row["examples"]:
            sys.exit(f"{id_}: {row['examples']} {subset} examples, another report has {counts[subset]}")
    for s in SUBSETS + ("overall",):
        if s not in counts:
            sys.exit(f"the reports have no {s} rows")
    if sum(counts[s] for s in SUBSETS) != counts["overall"]:
        sys.exit(f"in-sample + unseen examples ({counts['in-sample']} + {counts['unseen']}) != overall ({counts['overall']})")
    return rows, counts


def breakdown(rows, counts, metric="ndcg@50"):
    """Prints the breakdown of every SpecGR method in `rows` (see the module's doc)."""
    n = counts["overall"]
    w = {s: counts[s] / n for s in SUBSETS}

    def score(id_, subset):
        row = rows.get((id_, subset))
        if row is None or metric not in row:
            sys.exit(f"no {metric} of {id_} on {subset} (metrics: {', '.join(k for k in row or {} if '@' in k)})")
        return row[metric]

    for id_, _ in rows:
        if (id_, "overall") not in rows:
            continue
        mixed = sum(w[s] * score(id_, s) for s in SUBSETS)
        if abs(mixed - score(id_, "overall")) > 1e-6:
            sys.exit(f"{id_}: overall {metric} {score(id_, 'overall')} is not the weighted subsets' {mixed}")

    specgr = [i for (i, s) in rows if s == "overall" and i.split(" ")[0] in DRAFTER]
    if not specgr:
        print("No SpecGR method in the reports.")
        return
    print(f"{metric}; {n} examples: {counts['in-sample']} in-sample ({w['in-sample']:.1%}), "
          f"{counts['unseen']} unseen ({w['unseen']:.1%})")
    for m in specgr:
        drafter = DRAFTER[m.split(" ")[0]]
        if ("tiger", "overall") not in rows or (drafter, "overall") not in rows:
            print(f"\n{name_of(rows, m)}: TIGER or {drafter} is missing from the reports; skipped")
            continue
        trio = ["tiger", drafter, m]
        best = {s: max(score(i, s) for i in trio) for s in SUBSETS}
        ceiling = sum(w[s] * best[s] for s in SUBSETS)
        target = TARGET * max(score("tiger", "overall"), score(drafter, "overall"))
        print(f"\n### {name_of(rows, m)}\n")
        print("| | in-sample | unseen | overall | vs target |")
        print("|---|---:|---:|---:|---:|")
        for i in trio:
            o = score(i, "overall")
            print(f"| {name_of(rows, i)} | {score(i, 'in-sample'):.4f} | {score(i, 'unseen'):.4f} | {o:.4f} | {o / target:.3f} |")
        print(f"| routing ceiling (best of the three per subset) | {best['in-sample']:.4f} | {best['unseen']:.4f} | {ceiling:.4f} | {ceiling / target:.3f} |")
        print(f"| target ({TARGET:.2f} x the better of TIGER and {name_of(rows, drafter)}) | | | {target:.4f} | 1.000 |")
        gap = score(m, "overall") - target
        parts = {s: w[s] * (score(m, s) - best[s]) for s in SUBSETS}
        print(f"\n- Gap to the target: {gap:+.4f}; of it, against each subset's best: "
              f"in-sample {parts['in-sample']:+.4f}, unseen {parts['unseen']:+.4f}, "
              f"and the ceiling's own gap {ceiling - target:+.4f}.")
        need = (target - w["unseen"] * score(drafter, "unseen")) / w["in-sample"]
        print(f"- With the drafter's unseen {score(drafter, 'unseen'):.4f}, the target needs in-sample "
              f"{need:.4f}, {abs(need / best['in-sample'] - 1):.1%} "
              f"{'above' if need > best['in-sample'] else 'below'} the best in-sample now ({best['in-sample']:.4f}).")


def main(argv):
    metric = "ndcg@50"
    args = []
    it = iter(argv)
    for a in it:
        if a == "--metric":
            metric = next(it, None)
            if metric is None:
                sys.exit("--metric needs a value, e.g. ndcg@50")
        elif a.startswith("--metric="):
            metric = a.split("=", 1)[1]
        else:
            args.append(a)
    if not args:
        sys.exit(__doc__)
    rows, counts = merge(args)
    breakdown(rows, counts, metric)


if __name__ == "__main__":
    main(sys.argv[1:])
