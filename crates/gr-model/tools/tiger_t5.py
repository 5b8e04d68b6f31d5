"""TIGER's shape as a `transformers.T5Config`, shared by the tools in this directory.

TIGER is T5 with a ReLU feed-forward, tied input/output embeddings (the decoder output
scaled by d_model^-0.5 before the tied projection), PAD as the decoder's start token
and no KV cache in training. `hf_t5_fixture.py`, `hf_t5_train.py` and
`hf_t5_train_bench.py` differ only in the shape, dropout and token ids they pass.
"""

from transformers import T5Config


def tiger_t5_config(*, vocab_size, pad, bos, eos, dropout, attn="eager", num_buckets=32, max_distance=128,
                    layer_norm_eps=1e-6, **shape):
    """`shape`: `d_model`, `d_kv`, `d_ff`, `num_layers`, `num_decoder_layers`, `num_heads`
    (T5Config's names). `attn`: HF's attention implementation (`eager`: the plain
    formula, additive dtype-min mask, softmax, matmul; None: HF's default)."""
    config = T5Config(
        vocab_size=vocab_size,
        relative_attention_num_buckets=num_buckets,
        relative_attention_max_distance=max_distance,
        dropout_rate=dropout,
        layer_norm_epsilon=layer_norm_eps,
        initializer_factor=1.0,
        feed_forward_proj="relu",
        is_encoder_decoder=True,
        tie_word_embeddings=True,
        pad_token_id=pad,
        decoder_start_token_id=pad,
        bos_token_id=bos,
        eos_token_id=eos,
        use_cache=False,
        **shape,
    )
    if attn:
        config._attn_implementation = attn
    # The options TIGER hard-codes; fail loudly if a transformers release changes them.
    assert config.scale_decoder_outputs and config.tie_word_embeddings
    assert config.dense_act_fn == "relu" and not config.is_gated_act
    return config
