#!/usr/bin/env python3
"""The settings a SpecGR search tried on valid, as a quality/time table, with the best
setting (what the search picked, from its log's TUNED line; else the highest overall
NDCG@50) and the fastest setting
within one standard error of it (the one-standard-error rule: no measurable loss, less
time). Reads every `<dir>/*/results.json` of a search (experiments/runs/tune-specgr.sh)
and prints Markdown:

    python3 experiments/scripts/search_frontier.py runs/evals/ts-recent-specgr-pp specgr-pp

The times are each report's own seconds per query (one process per setting, so they
compare only as well as the machine's load allowed; the search runs them one after the
other under the same jobs). The standard error is the best setting's, from its report.
"""
import json
import pathlib
import re
import sys


def setting(name):
    """γ, δ, β of a report from its directory name (valid-g<γ>[-d<δ>][-b<β>])."""
    m = re.fullmatch(r".*-g(-?[0-9.]+)(?:-d(\d+))?(?:-b(\d+))?", name)
    if not m:
        return None
    return float(m.group(1)), int(m.group(2) or 50), int(m.group(3) or 50)


def main(directory, method):
    rows = []
    for path in sorted(pathlib.Path(directory).glob("*/results.json")):
        s = setting(path.parent.name)
        if s is None:
            continue
        report = json.loads(path.read_text())
        row = next((r for r in report["rows"] if r.get("id") == method and r["subset"] == "overall"), None)
        if row is None or row["ndcg@50"] is None:
            continue
        unseen = next((r for r in report["rows"] if r.get("id") == method and r["subset"] == "unseen"), None)
        rows.append((s, row, unseen))
    if not rows:
        sys.exit(f"{directory}: no report of {method} with an overall NDCG@50")
    best = max(rows, key=lambda r: r[1]["ndcg@50"])
    # The search's own pick (its ties go to the default, then the faster setting) where
    # its log says it.
    log = pathlib.Path(directory) / "search.log"
    tuned = re.findall(r"^TUNED gamma=(\S+) delta=(\S+) beta=(\S+)$", log.read_text(), re.M) if log.exists() else []
    if tuned:
        g, d, b = tuned[-1]
        best = next((r for r in rows if r[0] == (float(g), int(d), int(b))), best)
    # standard_errors: R@10, N@10, R@50, N@50 (recdata's report); absent in old reports.
    se = (best[1].get("standard_errors") or [None] * 4)[3]
    if se is None:
        sys.exit(f"{directory}: the best setting's report has no standard errors (a report older than them)")
    floor = best[1]["ndcg@50"] - se
    cheap = min((r for r in rows if r[1]["ndcg@50"] >= floor), key=lambda r: r[1]["seconds_per_query"])
    print(f"# {method}: the settings searched in `{directory}`\n")
    print(f"{best[1]['examples']} examples; one standard error of the best N@50: {se:.4f}\n")
    print("| γ | δ | β | R@50 | N@50 | unseen R@50 | s/query | |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for s, row, unseen in sorted(rows, key=lambda r: (-r[0][0], r[0][1], r[0][2])):
        mark = []
        if s == best[0]:
            mark.append("best")
        if s == cheap[0]:
            mark.append("fastest within 1 s.e. of the best")
        u = "–" if unseen is None or unseen["recall@50"] is None else f"{unseen['recall@50']:.4f}"
        print(f"| {s[0]:g} | {s[1]} | {s[2]} | {row['recall@50']:.4f} | {row['ndcg@50']:.4f} | {u} "
              f"| {row['seconds_per_query']:.3f} | {', '.join(mark)} |")
    ratio = best[1]["seconds_per_query"] / cheap[1]["seconds_per_query"]
    print(f"\nThe fastest setting within one standard error of the best takes 1/{ratio:.1f} of its time "
          f"(N@50 {cheap[1]['ndcg@50']:.4f} against {best[1]['ndcg@50']:.4f}).")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
