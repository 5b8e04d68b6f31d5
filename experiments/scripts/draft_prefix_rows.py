#!/usr/bin/env python3
"""How many decoder rows SpecGR's round-0 verification of SemanticKNN drafts needs per
query, against TIGER's beam search, on a real split: the distinct 1-, 2- and 3-digit
prefixes of each query's δ drafts (what the prefix tree decodes: `gr-model`'s
`verifier/tree.rs`), and what a batch costs when every query of the batch is padded to
the batch's largest count (as the tree's calls are today).

    python3 experiments/scripts/draft_prefix_rows.py runs/beauty-2014 ../shared/data/beauty-2014 [--batch 32] [--draft 50]

Approximations (a diagnostic of the row counts, not an evaluation): each user's first
interaction on or after the test cut-off (2014-05-13) is the target and everything before
it the history; SemanticKNN is the normalised mean of the last 5 history items'
normalised embeddings, its top δ by cosine over all items except the history's.
"""
import argparse, csv, json, sys
import numpy as np
from safetensors.numpy import load_file

ap = argparse.ArgumentParser()
ap.add_argument("runs")
ap.add_argument("data")
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--draft", type=int, default=50)
ap.add_argument("--cutoff", type=int, default=1399939200)  # 2014-05-13 UTC
ap.add_argument("--limit", type=int, default=4096)
a = ap.parse_args()

emb = next(iter(load_file(f"{a.runs}/embeddings/embeddings.safetensors").values())).astype(np.float32)
emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
ids = json.load(open(f"{a.runs}/semid/rqvae/ids.json"))

codes = np.array(ids["codes"], dtype=np.int64).reshape(ids["num_items"], -1)
items = [r["item_asin"] for r in csv.DictReader(open(f"{a.data}/items.csv"))]
index = {asin: i for i, asin in enumerate(items)}
assert len(items) == emb.shape[0] == codes.shape[0], (len(items), emb.shape, codes.shape)

seqs = {}
for r in csv.DictReader(open(f"{a.data}/interactions.csv")):
    seqs.setdefault(r["user_id"], []).append((int(r["timestamp"]), index[r["item_asin"]]))
examples = []
for u, s in seqs.items():
    s = sorted(s, key=lambda x: x[0])  # stable: keeps the file's order within a day
    for k, (t, _) in enumerate(s):
        if t >= a.cutoff:
            if k > 0:
                examples.append([i for _, i in s[:k]])
            break
examples = examples[: a.limit]

counts = []  # per example: distinct prefixes of length 1, 2, 3
for h in examples:
    q = emb[h[-5:]].mean(0)
    q /= max(np.linalg.norm(q), 1e-12)
    sims = emb @ q
    sims[h] = -np.inf
    top = np.argpartition(-sims, a.draft)[: a.draft]
    counts.append([len({tuple(codes[i, :l]) for i in top}) for l in (1, 2, 3)])
counts = np.array(counts)
n = len(counts) // a.batch * a.batch
c = counts[:n].reshape(-1, a.batch, 3)
real = c.sum(1).sum(0) / n
padded = c.max(1).sum(0) * a.batch / n
print(f"{n} examples in batches of {a.batch}, δ = {a.draft}")
print("distinct prefixes per query, mean (levels 1, 2, 3):", np.round(counts.mean(0), 1).tolist())
print("rows per query, real / padded to the batch max:", np.round(real, 1).tolist(), np.round(padded, 1).tolist())
tot_real, tot_pad = 1 + real.sum(), 1 + padded.sum()
print(f"round 0 rows per query: real {tot_real:.1f}, padded {tot_pad:.1f} ({1 - tot_real / tot_pad:.0%} padding); beam search {1 + 3 * a.draft}")
