//! all-MiniLM-L6-v2 against its published values (see ../shared/models/README.md;
//! the values are those sentence-transformers computes for this model).

use std::sync::OnceLock;

use text_encoder::SentenceEncoder;

use crate::common::{TestBackend, max_abs_diff, minilm_dir, rows};

fn encoder(test: &str) -> Option<&'static SentenceEncoder<TestBackend>> {
    static ENCODER: OnceLock<Option<SentenceEncoder<TestBackend>>> = OnceLock::new();
    let dir = minilm_dir(test)?;
    ENCODER
        .get_or_init(|| Some(SentenceEncoder::load(&dir, &Default::default()).unwrap()))
        .as_ref()
}

#[test]
fn minilm_hello_world_ids() {
    let Some(encoder) = encoder("minilm_hello_world_ids") else {
        return;
    };
    // Published: "[CLS] hello world [SEP]".
    assert_eq!(
        encoder.tokenize(&["hello world"]).unwrap()[0].ids,
        [101, 7592, 2088, 102]
    );
    assert_eq!(
        encoder.tokenize(&[""]).unwrap()[0].ids,
        [101, 102],
        "[CLS] [SEP]"
    );
    assert_eq!(
        encoder.max_seq_length(),
        256,
        "from sentence_bert_config.json"
    );
    assert_eq!(encoder.dim(), 384);
}

#[test]
fn minilm_hello_world_embedding() {
    let Some(encoder) = encoder("minilm_hello_world_embedding") else {
        return;
    };
    let row = rows(encoder.encode(&["hello world"]).unwrap()).remove(0);
    // Published sentence-transformers values for all-MiniLM-L6-v2 (shared/models/README.md).
    let expected = [-0.034477, 0.031023, 0.006735, 0.026109, -0.039362];
    let diff = max_abs_diff(&row[..5], &expected);
    assert!(diff < 1e-4, "starts {:?}, differs by {diff}", &row[..5]);
    let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
}

#[test]
fn minilm_embedding_does_not_depend_on_batch_or_padding() {
    let Some(encoder) = encoder("minilm_embedding_does_not_depend_on_batch_or_padding") else {
        return;
    };
    let text = "OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce";
    let long = "Vitamin C Serum for Face 20% - With Vegan Hyaluronic Acid and Vitamin E - Best \
                Natural and Organic Anti Aging Formula Stimulates Collagen, Repairs Wrinkles";
    let alone = rows(encoder.encode(&[text]).unwrap()).remove(0);
    for (batch, at) in [(vec![text, long], 0), (vec!["", long, text, "x"], 2)] {
        let row = &rows(encoder.encode(&batch).unwrap())[at];
        let diff = max_abs_diff(row, &alone);
        assert!(diff < 1e-5, "in {batch:?}: differs by {diff}");
    }
}

#[test]
fn minilm_truncates_at_256_word_pieces() {
    let Some(encoder) = encoder("minilm_truncates_at_256_word_pieces") else {
        return;
    };
    let long = "lipstick ".repeat(300);
    let texts = [long.as_str(), "hello world"];
    let tokenized = encoder.tokenize(&texts).unwrap();
    assert_eq!(tokenized[0].ids.len(), 256);
    assert!(tokenized[0].truncated && !tokenized[1].truncated);
    let out = encoder.embed_all(&texts, 8, None, |_, _| {}).unwrap();
    assert_eq!(out.truncated, 1);
}
