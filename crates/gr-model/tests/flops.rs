//! The FLOP counter against a count made by hand for a small configuration.

use gr_model::{TigerConfig, TigerPreset};

/// d_model 2, d_ff 3, 2 heads of d_kv 1 (inner width 2), one layer each, 5 tokens.
fn small() -> TigerConfig {
    let mut c = TigerConfig::preset(TigerPreset::Tiny, 5);
    c.d_model = 2;
    c.d_ff = 3;
    c.d_kv = 1;
    c.num_heads = 2;
    c.num_encoder_layers = 1;
    c.num_decoder_layers = 1;
    c
}

#[test]
fn flops_match_a_count_by_hand() {
    let c = small();
    // Encoder, 3 tokens: Q,K,V,O 4·(3×2·2) MACs = 48; scores and weighted sum
    // 2·(3×3·2) = 36; feed-forward 2·(3×2·3) = 36. 120 MACs = 240 FLOPs.
    assert_eq!(c.encoder_flops(3), 240);
    // Cross K and V of 3 encoder states: 2·(3×2·2) = 24 MACs.
    assert_eq!(c.cross_kv_flops(3), 48);
    // One decoder position attending to 2 positions and 3 encoder states:
    // self Q,K,V,O 4·(2·2) = 16; self scores+sum 2·(2·2) = 8; cross Q,O 2·(2·2) = 8;
    // cross scores+sum 2·(3·2) = 12; feed-forward 2·(2·3) = 12; output 2·5 = 10.
    // 66 MACs.
    assert_eq!(c.decoder_position_flops(2, 3), 132);
    // Attending to 1 position: 4 MACs fewer.
    assert_eq!(c.decoder_position_flops(1, 3), 124);
    // A beam search: encoder + cross K/V + 1 row at step 0 + 2 rows at step 1.
    assert_eq!(c.beam_search_flops(3, &[1, 2]), 240 + 48 + 124 + 2 * 132);
    // Scoring 3 distinct first digits and 4 distinct 2-digit prefixes.
    assert_eq!(c.score_flops(3, &[3, 4]), 3 * 124 + 4 * 132);
    // More layers scale the per-layer parts only.
    let mut two = c.clone();
    two.num_decoder_layers = 2;
    assert_eq!(two.decoder_position_flops(2, 3), 2 * (132 - 20) + 20); // output: 20 FLOPs
}
