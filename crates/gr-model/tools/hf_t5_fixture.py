#!/usr/bin/env python3
"""Writes a Hugging Face T5 fixture that `crates/gr-model/tests/hf_t5.rs` checks TIGER against.

The oracle is `transformers.T5ForConditionalGeneration` (the model the SpecGR/TIGER
reference code trains), built from a TIGER-shaped `T5Config` with seeded random weights
and no dropout. The fixture is one safetensors file holding:

- every weight under its Hugging Face name, float32 (tied aliases of `shared.weight`
  are left out and named in the metadata key `tied`);
- `input.input_ids`, `input.attention_mask` (right-padded encoder rows of different
  lengths), `input.decoder_input_ids` (`[PAD d1 .. dn]`), `input.labels`
  (`[d1 .. dn EOS]`, no -100, so HF's loss is the plain token mean), all int64;
- `expected.encoder_last_hidden_state`, `expected.logits`, `expected.loss` and
  `grad.<hf name>` (gradients of the loss), float32.

Expected values are computed by HF in float64 from the float32 weights, so they are
exact up to the final rounding to float32, and any difference the Rust test sees is
ours. The script also prints how far HF's own float32 forward pass is from that, for
scale. Config numbers, seed and versions are in the safetensors metadata (`fixture`, a
JSON string).

Usage (versions pinned in requirements.txt beside this file):

    python crates/gr-model/tools/hf_t5_fixture.py --shape tiny \
        --out crates/gr-model/tests/fixtures/hf_t5_tiny.safetensors
    python crates/gr-model/tools/hf_t5_fixture.py --shape paper \
        --out /work/scratch/hf_t5_paper.safetensors
"""

import argparse
import json
import sys

import numpy as np
import safetensors
import torch
import transformers
from safetensors.torch import save_file
from transformers import T5ForConditionalGeneration

from tiger_t5 import tiger_t5_config

# Token layout of `semid::TokenLayout::new(levels, K)`: PAD 0; digit d < levels with
# code c is 1 + d*K + c; the identification digit (d = levels, K values) follows;
# BOS = 1 + (levels+1)*K, EOS = BOS + 1, vocabulary (levels+1)*K + 3.
LEVELS = 3

SHAPES = {
    # Small enough to commit (< 200 KB). 3 heads of 8 (inner 24 != d_model 32) so a
    # transposed projection is a shape error, not a silent permutation. Encoder rows up
    # to 22 tokens reach the logarithmic buckets of the bidirectional bias (exact below
    # 8); decoder rows of 21 tokens reach those of the unidirectional bias (exact below 16).
    "tiny": dict(
        codebook=8, d_model=32, d_kv=8, num_heads=3, d_ff=48,
        num_layers=2, num_decoder_layers=2, buckets=32, max_distance=128,
        histories=[5, 3, 1, 2], targets=5,
        grads=[
            "shared.weight",
            "encoder.block.0.layer.0.SelfAttention.q.weight",
            "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            "encoder.block.1.layer.1.layer_norm.weight",
            "encoder.final_layer_norm.weight",
            "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            "decoder.block.1.layer.1.EncDecAttention.o.weight",
            "decoder.block.1.layer.1.EncDecAttention.k.weight",
            "decoder.block.1.layer.2.DenseReluDense.wo.weight",
            "decoder.final_layer_norm.weight",
        ],
    ),
    # The TIGER paper's Beauty model (`TigerPreset::Paper`): 4+4 layers, d_model 128,
    # 6 heads of 64, d_ff 1024, ReLU, 32 buckets up to 128, 3 levels of 256 codes plus
    # an identification digit of 256 (1027 tokens). Real TIGER inputs: BOS + up to 20
    # items of 4 digits + EOS, and one target item. Gradients of every weight.
    "paper": dict(
        codebook=256, d_model=128, d_kv=64, num_heads=6, d_ff=1024,
        num_layers=4, num_decoder_layers=4, buckets=32, max_distance=128,
        histories=[20, 13, 1, 7, 20, 3], targets=1,
        grads="all",
    ),
}

# HF keys that are the same tensor as `shared.weight` when embeddings are tied.
TIED = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"]


def build(shape, seed):
    s = SHAPES[shape]
    k = s["codebook"]
    vocab = (LEVELS + 1) * k + 3
    bos, eos = vocab - 2, vocab - 1
    # Eager attention: the plain formula (additive dtype-min mask, softmax, matmul), not SDPA's kernels.
    config = tiger_t5_config(
        vocab_size=vocab,
        pad=0,
        bos=bos,
        eos=eos,
        dropout=0.0,
        attn="eager",
        num_buckets=s["buckets"],
        max_distance=s["max_distance"],
        d_model=s["d_model"],
        d_kv=s["d_kv"],
        d_ff=s["d_ff"],
        num_layers=s["num_layers"],
        num_decoder_layers=s["num_decoder_layers"],
        num_heads=s["num_heads"],
    )

    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    model.eval()
    # HF initialises every layer norm to ones, which would hide a norm assigned to the
    # wrong place; draw them around one instead.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name:
                p.copy_(1.0 + 0.25 * torch.randn_like(p))
    for alias in TIED:
        t = model.get_parameter(alias) if alias != "lm_head.weight" else model.lm_head.weight
        assert t.data_ptr() == model.shared.weight.data_ptr(), f"{alias} is not tied"

    # Inputs: `[BOS, digits of each history item, EOS]`, right-padded with PAD.
    gen = np.random.default_rng(seed)

    def item():
        return [1 + d * k + int(gen.integers(k)) for d in range(LEVELS + 1)]

    rows = [[bos] + sum((item() for _ in range(h)), []) + [eos] for h in s["histories"]]
    src = max(map(len, rows))
    input_ids = torch.tensor([r + [0] * (src - len(r)) for r in rows], dtype=torch.long)
    attention_mask = torch.tensor([[1] * len(r) + [0] * (src - len(r)) for r in rows], dtype=torch.long)
    labels = torch.tensor(
        [sum((item() for _ in range(s["targets"])), []) + [eos] for _ in rows], dtype=torch.long
    )
    decoder_input_ids = model._shift_right(labels)
    assert (decoder_input_ids[:, 0] == 0).all()
    return model, config, s, dict(
        input_ids=input_ids,
        attention_mask=attention_mask,
        decoder_input_ids=decoder_input_ids,
        labels=labels,
    )


def run(model, inputs):
    model.zero_grad(set_to_none=True)
    out = model(**inputs)
    out.loss.backward()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    torch.use_deterministic_algorithms(True)
    model, config, s, inputs = build(args.shape, args.seed)
    weights = {
        name: p.detach().clone().contiguous()
        for name, p in model.state_dict().items()
        if name not in TIED
    }

    # The oracle: the same model in float64.
    model64 = T5ForConditionalGeneration(config).double()
    model64.load_state_dict(model.state_dict())
    model64.eval()
    out64 = run(model64, inputs)
    out32 = run(model, inputs)

    grad_names = sorted(weights) if s["grads"] == "all" else s["grads"]
    params64 = dict(model64.named_parameters())
    tensors = dict(weights)
    for key, value in inputs.items():
        tensors[f"input.{key}"] = value.contiguous()
    tensors["expected.encoder_last_hidden_state"] = out64.encoder_last_hidden_state.detach().float().contiguous()
    tensors["expected.logits"] = out64.logits.detach().float().contiguous()
    tensors["expected.loss"] = out64.loss.detach().float().reshape(1)
    for name in grad_names:
        tensors[f"grad.{name}"] = params64[name].grad.detach().float().contiguous()

    # For scale: how far HF's own float32 pass is from its float64 pass.
    params32 = dict(model.named_parameters())
    f32_gap = {
        "encoder_last_hidden_state": (out32.encoder_last_hidden_state - out64.encoder_last_hidden_state.float()).abs().max().item(),
        "logits": (out32.logits - out64.logits.float()).abs().max().item(),
        "loss": abs(out32.loss.item() - out64.loss.item()),
        "grads": max((params32[n].grad - params64[n].grad.float()).abs().max().item() for n in grad_names),
    }

    meta = {
        "shape": args.shape,
        "seed": args.seed,
        "vocab_size": config.vocab_size,
        "levels": LEVELS,
        "codebook_size": s["codebook"],
        "d_model": config.d_model,
        "d_kv": config.d_kv,
        "d_ff": config.d_ff,
        "num_heads": config.num_heads,
        "num_layers": config.num_layers,
        "num_decoder_layers": config.num_decoder_layers,
        "relative_attention_num_buckets": config.relative_attention_num_buckets,
        "relative_attention_max_distance": config.relative_attention_max_distance,
        "layer_norm_epsilon": config.layer_norm_epsilon,
        "dropout_rate": config.dropout_rate,
        "feed_forward_proj": config.feed_forward_proj,
        "pad_token_id": config.pad_token_id,
        "decoder_start_token_id": config.decoder_start_token_id,
        "eos_token_id": config.eos_token_id,
        "bos_token_id": config.bos_token_id,
        "attn_implementation": config._attn_implementation,
        "expected_dtype": "float64, rounded to float32",
        "tied": {alias: "shared.weight" for alias in TIED},
        "hf_float32_vs_float64_max_abs": f32_gap,
        "versions": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "safetensors": safetensors.__version__,
            "numpy": np.__version__,
        },
    }
    save_file(tensors, args.out, metadata={"fixture": json.dumps(meta, sort_keys=True)})
    print(json.dumps(meta, indent=1, sort_keys=True))
    print(f"loss {out64.loss.item():.8f}; {len(weights)} weights, {len(grad_names)} gradients -> {args.out}")


if __name__ == "__main__":
    main()
