#!/usr/bin/env python3
"""Trains SpecGR++'s stage 1 with Hugging Face T5 on a TIGER run's exported batches.

The dynamics check beside `hf_specgr_pp_fixture.py` (which proves one step's losses
and gradients): does the reference's stage 1, in PyTorch, fit a set of training
examples faster per step than ours? Inputs:

- `--init`: a TIGER checkpoint as HF T5 weights (`specgr tiger export-hf`);
- `--batches`: token batches in training order (`specgr tiger trace --export-batches
  --export-only`, e.g. with `--train-sample 2000 --batch-size 256`): each batch's
  histories (`input_ids`, right-padded) and targets (`labels`, `[d1 .. dn EOS]`).

Stage 1 as the reference defines it (`../../../../shared/reference/specgr-reference.md`):
histories and items (`[BOS, d1 .. dn, EOS]`) through the same encoder, masked mean of
the states, a linear head (PyTorch's default init), L2 normalisation; the in-batch
InfoNCE at tau against the batch's distinct target items, times lambda_emb, plus
lambda_gen times T5's cross-entropy on the first `gen_rows` rows; AdamW (PyTorch's: eps
1e-8 unless given), weight decay, the learning rate warmed up over a share of
`--total-steps` then cosine-decayed to 0, gradients clipped to norm 1 (global, as
`clip_grad_norm_`, or per tensor, Burn's rule), dropout as the T5 config says.

Prints and writes (`--loss-csv`) each step's InfoNCE and generation loss; the mean per
pass over the examples ("epoch": `--steps-per-epoch` batches) is what
`specgr train specgr++` reports in its state's `epoch_losses`.
"""

import argparse
import csv
import math
import sys

import torch
import torch.nn.functional as F
from transformers import T5ForConditionalGeneration

from hf_t5_train import build, load_init, read_export, clip_per_tensor


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--init", required=True)
    ap.add_argument("--batches", required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--total-steps", type=int, required=True, help="the schedule's length (warm-up share and cosine)")
    ap.add_argument("--steps-per-epoch", type=int, required=True)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--weight-decay", type=float, default=0.035)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--warmup-fraction", type=float, default=0.05)
    ap.add_argument("--clip", choices=["global", "per-tensor"], default="global")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--tau", type=float, default=0.07)
    ap.add_argument("--lambda-emb", type=float, default=6.0)
    ap.add_argument("--lambda-gen", type=float, default=1.0)
    ap.add_argument("--gen-rows", type=int, default=64)
    ap.add_argument("--proj-dim", type=int, default=128)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--loss-csv")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    meta, _, batch = read_export(args.batches)
    bos, eos, n = meta["bos"], meta["eos"], None
    model = T5ForConditionalGeneration(build(meta, args.dropout, "eager"))
    load_init(model, args.init)
    model.train()
    head = torch.nn.Linear(model.config.d_model, args.proj_dim)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay, eps=args.eps)
    warmup = max(1, round(args.total_steps * args.warmup_fraction))

    def lr_at(s):
        if s < warmup:
            return args.lr * (s + 1) / warmup
        progress = min((s - warmup) / max(args.total_steps - warmup, 1), 1.0)
        return args.lr * 0.5 * (1.0 + math.cos(math.pi * progress))

    def embed(ids, mask):
        states = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        w = mask.to(states.dtype).unsqueeze(-1)
        return F.normalize(head((states * w).sum(1) / w.sum(1)), dim=-1)

    rows_out = []
    epoch = [0.0, 0.0, 0]
    for s in range(min(args.steps, meta["batches"])):
        b = batch(s)
        labels = b["labels"]
        n = labels.shape[1] - 1
        targets = [tuple(r[:n].tolist()) for r in labels]
        items, index = [], {}
        for t in targets:
            if t not in index:
                index[t] = len(items)
                items.append(t)
        item_ids = torch.tensor([[bos, *t, eos] for t in items])
        queries = embed(b["input_ids"], b["attention_mask"])
        table = embed(item_ids, torch.ones_like(item_ids))
        emb = F.cross_entropy(queries @ table.T / args.tau, torch.tensor([index[t] for t in targets]))
        g = min(args.gen_rows, labels.shape[0])
        gen = model(
            input_ids=b["input_ids"][:g], attention_mask=b["attention_mask"][:g],
            decoder_input_ids=b["decoder_input_ids"][:g], labels=labels[:g],
        ).loss
        for group in opt.param_groups:
            group["lr"] = lr_at(s)
        opt.zero_grad(set_to_none=True)
        (args.lambda_emb * emb + args.lambda_gen * gen).backward()
        if args.clip == "global":
            torch.nn.utils.clip_grad_norm_(params, 1.0)
        else:
            clip_per_tensor(params, 1.0)
        opt.step()
        rows = labels.shape[0]
        rows_out.append((s, lr_at(s), emb.item(), gen.item(), rows))
        epoch[0] += emb.item() * rows
        epoch[1] += gen.item() * rows
        epoch[2] += rows
        if (s + 1) % args.steps_per_epoch == 0:
            print(f"epoch {(s + 1) // args.steps_per_epoch}: InfoNCE {epoch[0] / epoch[2]:.4f} "
                  f"generation {epoch[1] / epoch[2]:.4f} ({epoch[2]} rows)", flush=True)
            epoch = [0.0, 0.0, 0]
    if args.loss_csv:
        with open(args.loss_csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["step", "lr", "info_nce", "generation", "rows"])
            w.writerows(rows_out)
    print(f"torch {torch.__version__}; {len(rows_out)} steps", file=sys.stderr)


if __name__ == "__main__":
    main()
