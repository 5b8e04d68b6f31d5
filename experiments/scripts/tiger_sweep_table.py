#!/usr/bin/env python3
"""The table of a tiger-sweep.sh sweep: one row per configuration (learning rate, batch
size) with the examples it has seen, its mean training loss per epoch and its
validation Recall@10 / NDCG@10 per epoch, read from each run's `last/state.json`.
Markdown on stdout; also `<SWEEP>/sweep.md`.

    python experiments/scripts/tiger_sweep_table.py runs/beauty-2014-loo/sweep [EVALS]

EVALS, if given, is a directory of `specgr eval --report` directories named after the
configurations' runs (`tiger-sweep-eval.sh` writes them): their overall TIGER Recall@10
and NDCG@10, with Recall@10's standard error, are added as columns.
"""

import glob
import json
import os
import re
import sys


def evaluation(evals, run):
    """(examples, Recall@10, its s.e., NDCG@10) of TIGER overall in EVALS/RUN, or None."""
    if not evals:
        return None
    path = os.path.join(evals, run, "results.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        report = json.load(f)
    for row in report["rows"]:
        if row["id"] == "tiger" and row["subset"] == "overall":
            return row["examples"], row["recall@10"], row["standard_errors"][0], row["ndcg@10"]
    return None


def main():
    sweep = sys.argv[1]
    evals = sys.argv[2] if len(sys.argv) > 2 else None
    rows = []
    for state_path in glob.glob(os.path.join(sweep, "tiger-lr*-bs*", "last", "state.json")):
        run = os.path.basename(os.path.dirname(os.path.dirname(state_path)))
        m = re.fullmatch(r"tiger-lr(.+)-bs(\d+)(-sw\d+)?(-seed\d+)?", run)
        if not m:
            continue
        with open(state_path) as f:
            state = json.load(f)
        train = state["train"]
        vals = {epoch: v for epoch, v in state.get("validations", [])}
        rows.append(dict(
            run=run, lr=train["lr"], batch=train["batch_size"], warmup=train.get("warmup_steps"),
            sort_window=train.get("sort_window", 0), seed=train.get("seed", state.get("seed")),
            epochs_done=state["epochs_done"], seen=state["samples_seen"],
            losses=state.get("epoch_losses", []), vals=vals, steps=state.get("steps_done"),
            evaluation=evaluation(evals, run),
        ))
    rows.sort(key=lambda r: (r["batch"], r["lr"], -r["sort_window"], str(r["seed"])))
    lines = [
        f"# TIGER sweep `{sweep}`",
        "",
        "| learning rate | batch | sort window | seed | warm-up steps | steps | epochs done | examples seen | train loss (last epoch) | valid R@10 (last) | valid N@10 (last) | ± R@10 (1 s.e.) |"
        + (" larger valid sample: users | R@10 | ± (1 s.e.) | N@10 |" if evals else ""),
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: | ---: | ---: | ---: |" if evals else ""),
    ]
    for r in rows:
        last = r["vals"].get(r["epochs_done"] - 1) if r["epochs_done"] else None
        loss = f"{r['losses'][-1]:.3f}" if r["losses"] else "–"
        if last:
            rec, ndcg = f"{last['recall']:.4f}", f"{last['ndcg']:.4f}"
            se = f"{last['recall_se']:.4f}" if "recall_se" in last else "–"
        else:
            rec = ndcg = se = "–"
        line = f"| {r['lr']:g} | {r['batch']} | {r['sort_window']} | {r['seed']} | {r['warmup']} | {r['steps']} | {r['epochs_done']} | {r['seen']:,} | {loss} | {rec} | {ndcg} | {se} |"
        if evals:
            e = r["evaluation"]
            line += f" {e[0]:,} | {e[1]:.4f} | {e[2]:.4f} | {e[3]:.4f} |" if e else " – | – | – | – |"
        lines.append(line)
    if not rows:
        lines.append("| (no configuration has a checkpoint yet) | | | | | | | | | | | |")
    text = "\n".join(lines) + "\n"
    print(text)
    tmp = os.path.join(sweep, ".sweep.md.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(sweep, "sweep.md"))


if __name__ == "__main__":
    main()
