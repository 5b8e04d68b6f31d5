#!/usr/bin/env python3
"""Writes a fixture that `crates/gr-model/tests/hf_t5.rs` checks SpecGR++'s stage-1 losses against.

SpecGR++ stage 1 (the reference's pre-training, `../../../../shared/reference/`): the
TIGER encoder embeds a history (masked mean of its encoder states over the real
positions, BOS and EOS included, then a linear head with bias, then L2 normalisation)
and each item (the same encoder on `[BOS, d1 .. d4, EOS]`); the embedding loss is the
in-batch InfoNCE of the histories against the batch's distinct target items at
temperature tau; the generation loss is T5's own cross-entropy on the first `gen` rows.
The oracle computes both with Hugging Face's `T5ForConditionalGeneration` (eager
attention, no dropout), in float64 from the float32 weights, and the gradients of
`lambda_emb * emb + lambda_gen * gen`.

The fixture is one safetensors file holding:

- every T5 weight under its Hugging Face name, float32, as `hf_t5_fixture.py` writes
  them (tied aliases of `shared.weight` left out), and `head.weight` (`[proj, d_model]`,
  PyTorch's layout) and `head.bias`;
- `input.codes` (`[items, levels]`, the items' code digits without the identification
  digit, which is each code's collision number in row order), `input.histories`
  (`[rows, max_len]` item numbers, -1 padded), `input.targets` (`[rows]`), int64;
- `expected.emb_loss`, `expected.gen_loss`, and `grad.<name>` of the weighted sum.

Usage (versions pinned in requirements.txt beside this file):

    python crates/gr-model/tools/hf_specgr_pp_fixture.py \
        --out crates/gr-model/tests/fixtures/hf_specgr_pp_tiny.safetensors
"""

import argparse
import json
import sys

import numpy as np
import safetensors
import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import save_file
from transformers import T5ForConditionalGeneration

from hf_t5_fixture import LEVELS, SHAPES, TIED
from tiger_t5 import tiger_t5_config

TAU = 0.07
LAMBDA_EMB = 6.0
LAMBDA_GEN = 1.0
PROJ = 12
ITEMS = 9
# Histories (item numbers; lengths differ, so rows are padded) and targets; item 4 is
# the target of two rows, so it is one column of the InfoNCE, not two.
HISTORIES = [[0, 1, 2], [3], [5, 6], [7, 8, 0, 1], [2, 3]]
TARGETS = [4, 6, 4, 1, 8]
GEN = 3
GRADS = [
    "head.weight",
    "head.bias",
    "shared.weight",
    "encoder.block.0.layer.0.SelfAttention.q.weight",
    "encoder.block.1.layer.1.DenseReluDense.wo.weight",
    "encoder.final_layer_norm.weight",
    "decoder.block.0.layer.1.EncDecAttention.k.weight",
]


def build(seed):
    s = SHAPES["tiny"]
    k = s["codebook"]
    vocab = (LEVELS + 1) * k + 3
    bos, eos = vocab - 2, vocab - 1
    config = tiger_t5_config(
        vocab_size=vocab, pad=0, bos=bos, eos=eos, dropout=0.0, attn="eager",
        num_buckets=s["buckets"], max_distance=s["max_distance"], d_model=s["d_model"],
        d_kv=s["d_kv"], d_ff=s["d_ff"], num_layers=s["num_layers"],
        num_decoder_layers=s["num_decoder_layers"], num_heads=s["num_heads"],
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name:
                p.copy_(1.0 + 0.25 * torch.randn_like(p))
    head = torch.nn.Linear(config.d_model, PROJ)
    # Items: LEVELS codes each; items 7 and 8 share item 2's codes, so their
    # identification digits are 1 and 2.
    gen = np.random.default_rng(seed)
    codes = [[int(gen.integers(k)) for _ in range(LEVELS)] for _ in range(ITEMS)]
    codes[7] = list(codes[2])
    codes[8] = list(codes[2])
    seen = {}
    tokens = []
    for c in codes:
        ident = seen.get(tuple(c), 0)
        seen[tuple(c)] = ident + 1
        tokens.append([1 + d * k + c[d] for d in range(LEVELS)] + [1 + LEVELS * k + ident])
    return model, head, config, codes, tokens, bos, eos


def losses(model, head, tokens, bos, eos):
    rows = [[bos] + sum((tokens[i] for i in h), []) + [eos] for h in HISTORIES]
    src = max(map(len, rows))
    input_ids = torch.tensor([r + [0] * (src - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (src - len(r)) for r in rows])

    def embed(ids, m):
        states = model.encoder(input_ids=ids, attention_mask=m).last_hidden_state
        w = m.to(states.dtype).unsqueeze(-1)
        pooled = (states * w).sum(1) / w.sum(1)
        return F.normalize(head(pooled), dim=-1)

    queries = embed(input_ids, mask)
    items, labels = [], []
    for t in TARGETS:
        if t not in items:
            items.append(t)
        labels.append(items.index(t))
    item_ids = torch.tensor([[bos] + tokens[i] + [eos] for i in items])
    table = embed(item_ids, torch.ones_like(item_ids))
    logits = queries @ table.T / TAU
    emb = F.cross_entropy(logits, torch.tensor(labels))
    gen_labels = torch.tensor([tokens[t] + [eos] for t in TARGETS[:GEN]])
    gen_loss = model(input_ids=input_ids[:GEN], attention_mask=mask[:GEN], labels=gen_labels).loss
    return emb, gen_loss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    model, head, config, codes, tokens, bos, eos = build(args.seed)
    weights = {n: p.detach().clone().contiguous() for n, p in model.state_dict().items() if n not in TIED}
    weights["head.weight"] = head.weight.detach().clone().contiguous()
    weights["head.bias"] = head.bias.detach().clone().contiguous()

    model64 = T5ForConditionalGeneration(config).double()
    model64.load_state_dict(model.state_dict())
    model64.eval()
    head64 = torch.nn.Linear(config.d_model, PROJ).double()
    head64.load_state_dict(head.state_dict())
    emb, gen_loss = losses(model64, head64, tokens, bos, eos)
    (LAMBDA_EMB * emb + LAMBDA_GEN * gen_loss).backward()
    params = dict(model64.named_parameters())
    params["head.weight"] = head64.weight
    params["head.bias"] = head64.bias

    tensors = dict(weights)
    tensors["input.codes"] = torch.tensor(codes, dtype=torch.long)
    width = max(map(len, HISTORIES))
    tensors["input.histories"] = torch.tensor([h + [-1] * (width - len(h)) for h in HISTORIES], dtype=torch.long)
    tensors["input.targets"] = torch.tensor(TARGETS, dtype=torch.long)
    tensors["expected.emb_loss"] = emb.detach().float().reshape(1)
    tensors["expected.gen_loss"] = gen_loss.detach().float().reshape(1)
    for name in GRADS:
        tensors[f"grad.{name}"] = params[name].grad.detach().float().contiguous()
    s = SHAPES["tiny"]
    meta = {
        "shape": "tiny", "seed": args.seed, "vocab_size": config.vocab_size, "levels": LEVELS,
        "codebook_size": s["codebook"], "d_model": config.d_model, "d_kv": config.d_kv, "d_ff": config.d_ff,
        "num_heads": config.num_heads, "num_layers": config.num_layers,
        "num_decoder_layers": config.num_decoder_layers,
        "relative_attention_num_buckets": config.relative_attention_num_buckets,
        "relative_attention_max_distance": config.relative_attention_max_distance,
        "layer_norm_epsilon": config.layer_norm_epsilon, "dropout_rate": config.dropout_rate,
        "feed_forward_proj": config.feed_forward_proj, "pad_token_id": config.pad_token_id,
        "decoder_start_token_id": config.decoder_start_token_id, "eos_token_id": config.eos_token_id,
        "bos_token_id": config.bos_token_id, "attn_implementation": config._attn_implementation,
        "tied": {alias: "shared.weight" for alias in TIED},
        "proj_dim": PROJ, "temperature": TAU, "lambda_emb": LAMBDA_EMB, "lambda_gen": LAMBDA_GEN,
        "gen_rows": GEN, "expected_dtype": "float64, rounded to float32",
        "versions": {
            "python": sys.version.split()[0], "torch": torch.__version__,
            "transformers": transformers.__version__, "safetensors": safetensors.__version__,
            "numpy": np.__version__,
        },
    }
    save_file(tensors, args.out, metadata={"fixture": json.dumps(meta, sort_keys=True)})
    print(f"emb {emb.item():.8f} gen {gen_loss.item():.8f} -> {args.out}")


if __name__ == "__main__":
    main()
