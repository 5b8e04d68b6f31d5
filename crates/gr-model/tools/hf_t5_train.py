#!/usr/bin/env python3
"""Trains Hugging Face T5 on the exact batches of a TIGER run, from TIGER's initial weights.

The Hugging Face side of the side-by-side training comparison
(`experiments/results/gr-model/hf-t5-side-by-side.md`). `specgr tiger trace` runs
`specgr train tiger` and also writes

- `--init-hf`: the run's seeded initial weights under HF T5 names (`gr_model::hf::save_hf_t5`),
- `--export-batches`: the token batches of every step in training order (encoder
  `[BOS digits.. EOS]` right-padded with PAD, decoder input `[PAD d1..dn]`, labels
  `[d1..dn EOS]`), each step's learning rate (`lr`), and the run's settings.

This script builds `transformers.T5ForConditionalGeneration` in TIGER's shape (ReLU
feed-forward, tied input/output embeddings with the decoder output scaled by
d_model^-0.5, relative-position buckets and distance, RMS layer norm eps, dropout, the
vocabulary: all from the export's `model_config`), loads the initial weights (so both
models start identical), and trains it on those batches in that order with:

- loss: HF's own (`labels=`: mean token cross-entropy; no -100 labels, so the same
  mean as TIGER's loss);
- optimizer: `torch.optim.AdamW`, betas (0.9, 0.999), **eps 1e-5** (Burn's `AdamWConfig`
  default, which TIGER training uses; PyTorch's default is 1e-8: `--eps` changes it),
  weight decay from the export (0 here: AdamW is then Adam);
- learning rate: TIGER's schedule (linear warm-up over `warmup_steps`, at most the run's
  steps, then constant or cosine), computed here and checked against the exported
  per-step rates;
- gradient clipping: **per parameter tensor** at the export's `grad_clip_norm` (1.0),
  `g *= min(1, max_norm / (||g|| + FLT_MIN))` for each tensor on its own, which is what
  Burn's `GradientClippingConfig::Norm` does. PyTorch's usual `clip_grad_norm_` scales
  all gradients by one global norm instead (`--clip global`).

Then the two runs differ only by the backend and optimizer implementations (and, with
dropout > 0, by the dropout masks). It writes the loss of every step to `--loss-csv`
(`step,epoch,samples,lr,loss,seconds`, the columns of `specgr tiger trace
--loss-csv`) and HF-named safetensors checkpoints at the `--save-at` sample counts and
at the end (`<out>/hf-t5-<samples>.safetensors`), which `specgr tiger import-hf` turns
into TIGER checkpoints for the same Rust evaluation.

    specgr tiger trace --dataset beauty-2014-loo --preset paper ... \\
        --init-hf /tmp/x/init.safetensors --export-batches /tmp/x/batches.safetensors --export-only
    OMP_WAIT_POLICY=PASSIVE python crates/gr-model/tools/hf_t5_train.py \\
        --batches /tmp/x/batches.safetensors --init /tmp/x/init.safetensors \\
        --out /tmp/x/hf --loss-csv /tmp/x/hf-loss.csv --threads 1

Versions are pinned in requirements.txt beside this file.
"""

import argparse
import json
import math
import os
import platform
import sys
import time

import torch
import transformers
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import T5ForConditionalGeneration

from tiger_t5 import tiger_t5_config

# HF keys that are `shared.weight` itself when embeddings are tied (`gr_model::hf::TIED_ALIASES`).
TIED = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"]
# Burn adds f32's smallest positive normal number to the norm before dividing.
FLT_MIN = 1.1754943508222875e-38


def read_export(path):
    """The export's settings, learning rates and a loader of batch `b`."""
    f = safe_open(path, "pt")
    meta = json.loads(f.metadata()["export"])
    lrs = f.get_tensor("lr").tolist()

    def batch(b):
        ids = f.get_tensor(f"batch.{b}.input_ids")
        lengths = f.get_tensor(f"batch.{b}.lengths")
        mask = (torch.arange(ids.shape[1])[None, :] < lengths[:, None]).long()
        # Right padding with PAD, as TIGER's encoder sees it.
        assert (ids[mask == 0] == meta["pad"]).all(), f"batch {b}: padding is not PAD"
        return dict(
            input_ids=ids,
            attention_mask=mask,
            decoder_input_ids=f.get_tensor(f"batch.{b}.decoder_input_ids"),
            labels=f.get_tensor(f"batch.{b}.labels"),
        )

    return meta, lrs, batch


def schedule(meta, steps):
    """TIGER's learning rate at each step (`gr_model::schedule::LrSchedule`)."""
    tc = meta["train_config"]
    total = meta["total_steps"]
    peak = tc["lr"]
    warmup = tc["warmup_steps"] or round(total * tc["warmup_fraction"])
    warmup = min(warmup, total)
    out = []
    for s in range(steps):
        if s < warmup:
            out.append(peak * (s + 1) / warmup)
        elif tc["lr_decay"] == "constant":
            out.append(peak)
        else:
            progress = min((s - warmup) / max(total - warmup, 1), 1.0)
            out.append(peak * 0.5 * (1.0 + math.cos(math.pi * progress)))
    return out


def build(meta, dropout, attn):
    mc = meta["model_config"]
    return tiger_t5_config(
        vocab_size=mc["vocab_size"],
        pad=meta["pad"],
        bos=meta["bos"],
        eos=meta["eos"],
        dropout=dropout,
        attn=attn,
        num_buckets=mc["num_buckets"],
        max_distance=mc["max_distance"],
        layer_norm_eps=mc["layer_norm_eps"],
        d_model=mc["d_model"],
        d_kv=mc["d_kv"],
        d_ff=mc["d_ff"],
        num_layers=mc["num_encoder_layers"],
        num_decoder_layers=mc["num_decoder_layers"],
        num_heads=mc["num_heads"],
    )


def load_init(model, path):
    weights = load_file(path)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    assert not unexpected, f"{path}: keys T5 does not have: {unexpected}"
    assert set(missing) <= set(TIED), f"{path}: weights missing: {sorted(set(missing) - set(TIED))}"
    for alias in TIED:
        t = model.lm_head.weight if alias == "lm_head.weight" else model.get_parameter(alias)
        assert t.data_ptr() == model.shared.weight.data_ptr(), f"{alias} is not tied"
    with safe_open(path, "pt") as f:
        return f.metadata() or {}


def clip_per_tensor(params, max_norm):
    """Burn's `GradientClipping::Norm`: each tensor's gradient on its own."""
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            norm = p.grad.pow(2).sum().sqrt()
            coef = torch.clamp(max_norm / (norm + FLT_MIN), max=1.0)
            p.grad.mul_(coef)


def save(model, path, metadata):
    weights = {k: v.detach().contiguous() for k, v in model.state_dict().items() if k not in TIED}
    tmp = path + ".tmp"
    save_file(weights, tmp, metadata=metadata)
    os.replace(tmp, path)


def mean_loss(model, batch, args):
    """The mean loss of the loaded weights on some batches, with or without dropout."""
    model.train(args.mean_loss > 0)
    losses = []
    with torch.no_grad():
        for b in range(args.first, args.first + args.count):
            x = batch(b)
            for _ in range(max(args.mean_loss, 1)):
                losses.append(model(**x).loss.item())
    mean = sum(losses) / len(losses)
    sd = (sum((l - mean) ** 2 for l in losses) / max(len(losses) - 1, 1)) ** 0.5
    what = f"{args.mean_loss} dropout draws each" if args.mean_loss else "no dropout"
    print(f"{args.init}: mean loss {mean:.7f} over batches {args.first}..{args.first + args.count} "
          f"({len(losses)} values, {what}; sd {sd:.5f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", required=True, help="`specgr tiger trace --export-batches` file")
    ap.add_argument("--init", required=True, help="`specgr tiger trace --init-hf` file (HF names)")
    ap.add_argument("--out", help="directory for the checkpoints (training)")
    ap.add_argument("--loss-csv", help="the loss of every step (training)")
    ap.add_argument("--dropout", type=float, help="default: the run's (export model_config)")
    ap.add_argument("--max-steps", type=int, help="stop after this many steps (default: all exported)")
    ap.add_argument("--save-at", default="", help="comma-separated sample counts to checkpoint at")
    ap.add_argument("--eps", type=float, default=1e-5, help="Adam epsilon (Burn's default 1e-5)")
    ap.add_argument("--clip", choices=["per-tensor", "global", "none"], default="per-tensor")
    ap.add_argument("--seed", type=int, help="torch seed (dropout masks); default: the run's")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--attn", default="eager", help="HF attention implementation")
    ap.add_argument(
        "--mean-loss",
        type=int,
        metavar="DRAWS",
        help="do not train: print the mean loss of --init on batches --first..+--count, "
        "without dropout (0) or over DRAWS dropout masks per batch (`specgr tiger batch-loss`)",
    )
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--count", type=int, default=8)
    args = ap.parse_args()
    if args.mean_loss is None and not (args.out and args.loss_csv):
        ap.error("training needs --out and --loss-csv")

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    meta, lrs, batch = read_export(args.batches)
    tc = meta["train_config"]
    steps = meta["batches"] if args.max_steps is None else min(args.max_steps, meta["batches"])
    ours = schedule(meta, steps)
    worst = max(abs(a - b) for a, b in zip(ours, lrs[:steps]))
    assert worst <= 1e-12 * tc["lr"], f"learning rates differ from the export by up to {worst}"
    dropout = meta["model_config"]["dropout"] if args.dropout is None else args.dropout
    seed = meta["seed"] if args.seed is None else args.seed
    if meta.get("shards", 1) != 1:
        print(f"note: the run computes each batch in {meta['shards']} shards; here whole batches", file=sys.stderr)

    torch.manual_seed(seed)
    config = build(meta, dropout, args.attn)
    model = T5ForConditionalGeneration(config)
    init_meta = load_init(model, args.init)
    if args.mean_loss is not None:
        mean_loss(model, batch, args)
        return
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        params, lr=lrs[0], betas=(0.9, 0.999), eps=args.eps, weight_decay=tc["weight_decay"]
    )
    save_at = sorted(int(s) for s in args.save_at.split(",") if s.strip())
    os.makedirs(args.out, exist_ok=True)
    ckpt_meta = {"format": "pt"}
    if "tiger_config" in init_meta:
        ckpt_meta["tiger_config"] = init_meta["tiger_config"]
    info = {
        "batches": args.batches,
        "init": args.init,
        "steps": steps,
        "dropout": dropout,
        "seed": seed,
        "eps": args.eps,
        "clip": args.clip,
        "grad_clip_norm": tc["grad_clip_norm"],
        "weight_decay": tc["weight_decay"],
        "threads": args.threads,
        "attn": args.attn,
        "versions": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
        "machine": platform.platform(),
    }
    print(json.dumps(info, sort_keys=True), file=sys.stderr)

    samples = 0
    started = time.time()
    with open(args.loss_csv, "w") as log:
        log.write("step,epoch,samples,lr,loss,seconds\n")
        for step in range(steps):
            x = batch(step)
            lr = lrs[step]
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss = model(**x).loss
            loss.backward()
            if args.clip == "per-tensor":
                clip_per_tensor(params, tc["grad_clip_norm"])
            elif args.clip == "global":
                torch.nn.utils.clip_grad_norm_(params, tc["grad_clip_norm"])
            opt.step()
            samples += x["input_ids"].shape[0]
            epoch = step // -(-meta["train_examples"] // tc["batch_size"])
            value = loss.item()
            log.write(f"{step},{epoch},{samples},{lr:e},{value:.9f},{time.time() - started:.3f}\n")
            if step % 100 == 0:
                log.flush()
                rate = samples / max(time.time() - started, 1e-9)
                print(f"step {step}/{steps} loss {value:.4f} lr {lr:.3e} {rate:.0f} samples/s", file=sys.stderr)
            while save_at and samples >= save_at[0]:
                path = os.path.join(args.out, f"hf-t5-{save_at.pop(0)}.safetensors")
                save(model, path, dict(ckpt_meta, samples=str(samples), step=str(step + 1)))
                print(f"saved {path} after {samples} samples", file=sys.stderr)
    path = os.path.join(args.out, "hf-t5-final.safetensors")
    save(model, path, dict(ckpt_meta, samples=str(samples), step=str(steps)))
    elapsed = time.time() - started
    print(f"trained {steps} steps, {samples} samples in {elapsed:.0f} s ({samples / elapsed:.0f}/s); {path}")


if __name__ == "__main__":
    main()
