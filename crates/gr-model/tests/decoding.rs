//! Cached incremental decoding against full recomputation.

use burn::tensor::{Int, Tensor, TensorData};

use crate::common::{TestBackend, device, encode, ids, max_diff, model};

fn tokens(rows: &[Vec<i64>]) -> Tensor<TestBackend, 2, Int> {
    let len = rows[0].len();
    Tensor::from_data(TensorData::new(rows.concat(), [rows.len(), len]), &device())
}

fn values(t: Tensor<TestBackend, 3>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().unwrap()
}

#[test]
fn incremental_decoding_equals_full_recomputation() {
    let ids = ids();
    let model = model(7);
    let enc = encode(&model, &ids);
    // Two rows per query (4 queries): PAD then four digit tokens.
    let rows: Vec<Vec<i64>> = (0..8)
        .map(|r| {
            vec![
                0,
                1 + (r % 4),
                5 + (r * 3 % 4),
                9 + (r % 3),
                13 + (r * 7 % 4),
            ]
        })
        .collect();
    let (full, _) = model.decode(&enc, None, tokens(&rows));
    let full = values(full); // [8, 5, vocab]
    let vocab = model.config.vocab_size;
    let mut cache = None;
    for step in 0..5 {
        let column: Vec<Vec<i64>> = rows.iter().map(|r| vec![r[step]]).collect();
        let (logits, grown) = model.decode(&enc, cache.as_ref(), tokens(&column));
        let logits = values(logits);
        for r in 0..8 {
            let expected = &full[(r * 5 + step) * vocab..(r * 5 + step + 1) * vocab];
            let got = &logits[r * vocab..(r + 1) * vocab];
            let diff = max_diff(expected, got);
            assert!(diff < 1e-5, "row {r} step {step}: max diff {diff}");
        }
        cache = Some(grown);
    }
}

#[test]
fn reordered_cache_equals_decoding_the_reordered_rows() {
    let ids = ids();
    let model = model(8);
    let enc = encode(&model, &ids);
    let rows: Vec<Vec<i64>> = (0..8)
        .map(|r| vec![0, 1 + (r % 4), 5 + (r / 2 % 4)])
        .collect();
    // Within each query, swap its two rows and duplicate the first one.
    let order = [1, 1, 3, 2, 4, 5, 7, 7];
    let permuted: Vec<Vec<i64>> = order.iter().map(|&i| rows[i].clone()).collect();
    let (_, cache) = model.decode(
        &enc,
        None,
        tokens(&rows.iter().map(|r| r[..2].to_vec()).collect::<Vec<_>>()),
    );
    let cache = cache.select_rows(&order);
    let last: Vec<Vec<i64>> = permuted.iter().map(|r| vec![r[2]]).collect();
    let (stepped, _) = model.decode(&enc, Some(&cache), tokens(&last));
    let (full, _) = model.decode(&enc, None, tokens(&permuted));
    let full = values(full.slice([0..8, 2..3]));
    let diff = max_diff(&full, &values(stepped));
    assert!(diff < 1e-5, "max diff {diff}");
}
