"""Table 3 from the reports of chain.sh: one row per variant, SpecGR++'s numbers (and,
where the report has them, TIGER's and the SpecGR++ encoder's alone).

    python3 summary.py runs/evals/t3-ts > results.md
"""
import json
import os
import sys

ROWS = [
    ("full", "SpecGR++ (full)"),
    ("without-inductive-drafting", "(1.1) w/o inductive drafting (δ = 0: beam search)"),
    ("without-likelihood-adjustment", "(1.2) w/o likelihood adjustment"),
    ("without-guided-redrafting", "(1.3) w/o guided re-drafting"),
    ("without-rerank", "(1.4) w/o re-ranking"),
    ("without-adaptive-exit", "(1.5) w/o adaptive exit"),
    ("tiger-encoder", "(2.1) TIGER's encoder as drafter"),
    ("no-contrastive", "(2.2) w/o contrastive pre-training"),
    ("no-finetune", "(2.3) w/o learning-to-rank fine-tuning"),
]


def rows(path):
    r = json.load(open(os.path.join(path, "results.json")))
    return {(x["id"], x["subset"]): x for x in r["rows"]}, r


def fmt(x):
    return "–" if x is None else f"{x:.4f}"


def main(root):
    print("| variant | method | R@10 | N@10 | R@50 | N@50 | unseen R@50 | s/query | examples |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, label in ROWS:
        path = os.path.join(root, key)
        if not os.path.exists(os.path.join(path, "results.json")):
            print(f"| {label} | not run | | | | | | | |")
            continue
        got, report = rows(path)
        for method in ("specgr-pp", "specgr-pp-drafter", "tiger"):
            o = got.get((method, "overall"))
            if o is None:
                continue
            u = got.get((method, "unseen"), {})
            name = {"specgr-pp": "SpecGR++", "specgr-pp-drafter": "its encoder alone", "tiger": "TIGER alone"}[method]
            print(
                f"| {label if method == 'specgr-pp' else ''} | {name} | {fmt(o['recall@10'])} | {fmt(o['ndcg@10'])} | "
                f"{fmt(o['recall@50'])} | {fmt(o['ndcg@50'])} | {fmt(u.get('recall@50'))} | "
                f"{o['seconds_per_query']:.3f} | {o['examples']} |"
            )
    print()
    print("Each variant's report (command, seed, revision, machine, models with the examples they saw): reports/<variant>/results.md.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/evals/t3-ts")
