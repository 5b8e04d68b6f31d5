#!/usr/bin/env python3
"""Times Hugging Face T5 training steps on the token batches `specgr bench train` exported.

The PyTorch side of the training-throughput comparison
(`experiments/scripts/train-throughput.sh`,
`experiments/results/gr-model/train-throughput.md`). It builds
`transformers.T5ForConditionalGeneration` in the shape of a TIGER preset (the same
options as `hf_t5_fixture.py`: ReLU feed-forward, tied input/output embeddings with
the decoder output scaled by d_model^-0.5, 32 relative-position buckets up to distance
128, RMS layer norm, no attention scaling; dropout 0.1; vocabulary from the exported
file) and runs real training steps on it: forward with `labels` (mean token
cross-entropy, as TIGER's loss), backward, per-tensor gradient-norm clipping at 1.0
(what Burn's `GradientClippingConfig::Norm` does), `torch.optim.AdamW` (or Adam) step.

Configurations are (preset, batches file, threads); each gets its own model and
optimizer, built once. Then, in interleaved rounds, each runs one step on every batch
of its file (the batches `specgr bench train` times in each of its rounds, in the same
order) with `torch.set_num_threads(threads)` and is timed. Before the rounds, one
untimed step on the first `--warmup-rows` rows of the first batch. Results go to
stdout (and `--json`) as JSON.

Run it with `OMP_WAIT_POLICY=PASSIVE` so idle OpenMP threads do not spin on the cores
another measurement (or process) needs:

    specgr bench train --dataset beauty-2014-loo --ids rqvae --rounds 0 --steps 4 \
        --export-batches /tmp/sorted.safetensors --export-batching sorted
    OMP_WAIT_POLICY=PASSIVE python crates/gr-model/tools/hf_t5_train_bench.py \
        --batches /tmp/sorted.safetensors --preset small paper --threads 1 2 --rounds 3

Versions are pinned in requirements.txt beside this file.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import transformers
from safetensors import safe_open
from transformers import T5ForConditionalGeneration

from tiger_t5 import tiger_t5_config

# TIGER presets (`gr_model::TigerPreset`): d_model, d_kv, heads, d_ff, encoder and decoder layers.
PRESETS = {
    "tiny": dict(d_model=32, d_kv=16, num_heads=2, d_ff=64, num_layers=1, num_decoder_layers=2),
    "small": dict(d_model=64, d_kv=32, num_heads=4, d_ff=256, num_layers=2, num_decoder_layers=2),
    "games": dict(d_model=128, d_kv=64, num_heads=4, d_ff=1024, num_layers=4, num_decoder_layers=4),
    "paper": dict(d_model=128, d_kv=64, num_heads=6, d_ff=1024, num_layers=4, num_decoder_layers=4),
}


def load_batches(path):
    """The exported batches: a list of dicts of int64 tensors, and the export metadata."""
    with safe_open(path, "pt") as f:
        meta = json.loads(f.metadata()["export"])
        batches = []
        for b in range(meta["batches"]):
            ids = f.get_tensor(f"batch.{b}.input_ids")
            lengths = f.get_tensor(f"batch.{b}.lengths")
            width = ids.shape[1]
            batches.append(
                dict(
                    input_ids=ids,
                    attention_mask=(torch.arange(width)[None, :] < lengths[:, None]).long(),
                    decoder_input_ids=f.get_tensor(f"batch.{b}.decoder_input_ids"),
                    labels=f.get_tensor(f"batch.{b}.labels"),
                    lengths=lengths,
                )
            )
    return batches, meta


def build(preset, meta, dropout, attn):
    vocab = meta["vocab_size"]
    config = tiger_t5_config(
        vocab_size=vocab, pad=meta["pad"], bos=vocab - 2, eos=vocab - 1, dropout=dropout, attn=attn, **PRESETS[preset]
    )
    model = T5ForConditionalGeneration(config)
    model.train()
    return model


def clip_per_tensor(params, max_norm):
    """Burn's `GradientClipping::Norm`: each gradient tensor scaled to norm <= max_norm."""
    grads = [p.grad for p in params if p.grad is not None]
    norms = torch._foreach_norm(grads)
    for g, n in zip(grads, norms):
        if n > max_norm:
            g.mul_(max_norm / (n + 1e-6))


class Run:
    def __init__(self, preset, path, batches, meta, threads, args):
        self.preset, self.path, self.batches, self.meta, self.threads = preset, path, batches, meta, threads
        torch.manual_seed(args.seed)
        self.model = build(preset, meta, args.dropout, args.attn)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW if args.optimizer == "adamw" else torch.optim.Adam
        kw = dict(weight_decay=args.weight_decay) if args.optimizer == "adamw" else {}
        self.optim = opt(self.params, lr=args.lr, **kw)
        self.clip = args.clip
        self.rates, self.samples, self.real, self.padded = [], 0, 0, 0

    @property
    def name(self):
        return f"hf-{self.preset}-{self.meta['batching']}-t{self.threads}"

    def step(self, batch):
        inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "decoder_input_ids", "labels")}
        self.optim.zero_grad(set_to_none=True)
        loss = self.model(**inputs).loss
        loss.backward()
        if self.clip == "per-tensor":
            clip_per_tensor(self.params, 1.0)
        elif self.clip == "global":
            torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optim.step()
        return loss.item()


def matmul_peak(presets, rows, threads):
    """GFLOP/s of torch.mm at the presets' shapes (`[rows, k] x [k, n]`, best of 3 timed
    runs of about 0.2 s), per thread count: the rate `specgr bench train` also measures."""
    shapes = []
    for p in presets:
        d, f, inner = PRESETS[p]["d_model"], PRESETS[p]["d_ff"], PRESETS[p]["num_heads"] * PRESETS[p]["d_kv"]
        shapes += [s for s in [(d, f), (f, d), (d, inner)] if s not in shapes]
    out = {}
    for t in threads:
        torch.set_num_threads(t)
        rates = {}
        for k, n in shapes:
            a, b = torch.randn(rows, k), torch.randn(k, n)
            torch.mm(a, b)
            start = time.perf_counter()
            torch.mm(a, b)
            reps = max(1, min(1000, int(0.2 / max(time.perf_counter() - start, 1e-6))))
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                for _ in range(reps):
                    torch.mm(a, b)
                best = min(best, (time.perf_counter() - start) / reps)
            rates[f"[{rows},{k}]x[{k},{n}]"] = 2 * rows * k * n / best / 1e9
        out[str(t)] = dict(shapes=rates, peak_gflops=max(rates.values()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", nargs="+", required=True, help="files from `specgr bench train --export-batches`")
    ap.add_argument("--preset", nargs="+", default=["small"], choices=sorted(PRESETS))
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup-rows", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--optimizer", choices=["adamw", "adam"], default="adamw")
    ap.add_argument("--clip", choices=["per-tensor", "global", "none"], default="per-tensor")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--attn", default=None, help="attention implementation (eager, sdpa); default: transformers'")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--peak-rows", type=int, default=8192, help="rows of the matmuls timed for the peak rate (0: none)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    torch.set_num_interop_threads(1)
    files = {p: load_batches(p) for p in args.batches}
    runs = [
        Run(preset, path, *files[path], threads, args)
        for preset in args.preset
        for path in args.batches
        for threads in args.threads
    ]

    def picks(run, rnd):
        return run.batches

    if args.warmup_rows > 0:
        for run in runs:
            torch.set_num_threads(run.threads)
            first = picks(run, 0)[0]
            rows = {k: v[: args.warmup_rows] for k, v in first.items()}
            width = int(rows["lengths"].max())
            rows["input_ids"], rows["attention_mask"] = rows["input_ids"][:, :width], rows["attention_mask"][:, :width]
            run.step(rows)
    for rnd in range(args.rounds):
        for run in runs:
            torch.set_num_threads(run.threads)
            chosen = picks(run, rnd)
            start = time.perf_counter()
            for batch in chosen:
                run.step(batch)
            elapsed = time.perf_counter() - start
            n = sum(len(b["lengths"]) for b in chosen)
            run.rates.append(n / elapsed)
            run.samples += n
            run.real += sum(int(b["lengths"].sum()) for b in chosen)
            run.padded += sum(b["input_ids"].numel() for b in chosen)
            print(f"round {rnd + 1}/{args.rounds} {run.name}: {n / elapsed:.1f} samples/s ({n} in {elapsed:.2f} s)", file=sys.stderr)

    peak = matmul_peak(args.preset, args.peak_rows, args.threads) if args.peak_rows > 0 else None
    report = dict(
        command=" ".join(sys.argv),
        matmul_peak_by_threads=peak,
        torch=torch.__version__,
        transformers=transformers.__version__,
        python=platform.python_version(),
        omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
        interop_threads=torch.get_num_interop_threads(),
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        optimizer=args.optimizer,
        clip=args.clip,
        lr=args.lr,
        weight_decay=args.weight_decay,
        dropout=args.dropout,
        seed=args.seed,
        rounds=args.rounds,
        warmup_rows=args.warmup_rows,
        unix_time=int(time.time()),
        runs=[
            dict(
                config=run.name,
                preset=run.preset,
                batching=run.meta["batching"],
                batches_file=run.path,
                threads=run.threads,
                attn_implementation=run.model.config._attn_implementation,
                params=sum(p.numel() for p in run.params),
                rounds_samples_per_sec=run.rates,
                median_samples_per_sec=statistics.median(run.rates) if run.rates else None,
                min_samples_per_sec=min(run.rates, default=None),
                max_samples_per_sec=max(run.rates, default=None),
                real_tokens_per_sample=run.real / max(run.samples, 1),
                padded_tokens_per_sample=run.padded / max(run.samples, 1),
                export=run.meta,
            )
            for run in runs
        ],
    )
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
