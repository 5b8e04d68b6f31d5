//! The tiny random model against the plain-loop oracle in `reference.rs`, plus
//! padding independence, empty texts and truncation.

use text_encoder::SentenceEncoder;

use crate::common::{
    TINY_MAX_SEQ, TempDir, TestBackend, max_abs_diff, rows, tiny_config, write_tiny_model,
};
use crate::reference;

fn tiny_encoder(
    dir: &TempDir,
    seed: u64,
) -> (
    SentenceEncoder<TestBackend>,
    Vec<crate::common::NamedTensor>,
) {
    let tensors = write_tiny_model(dir.path(), seed);
    let encoder = SentenceEncoder::<TestBackend>::load(dir.path(), &Default::default()).unwrap();
    (encoder, tensors)
}

#[test]
fn tiny_model_matches_plain_loop_reference() {
    let dir = TempDir::new("tiny-reference");
    let (encoder, tensors) = tiny_encoder(&dir, 7);
    let texts = [
        "red lipstick",
        "shampoo for dry hair",
        "a",
        "matte gloss pack",
    ];
    let tokenized = encoder.tokenize(&texts).unwrap();
    let got = rows(encoder.encode(&texts).unwrap());
    for ((text, tokens), row) in texts.iter().zip(&tokenized).zip(&got) {
        let expected = reference::embed(&tiny_config(), &tensors, &tokens.ids);
        let diff = max_abs_diff(row, &expected);
        assert!(
            diff < 1e-5,
            "{text:?}: max difference {diff} from the reference"
        );
    }
}

#[test]
fn embedding_does_not_depend_on_batch_or_padding() {
    let dir = TempDir::new("tiny-padding");
    let (encoder, _) = tiny_encoder(&dir, 11);
    let alone = rows(encoder.encode(&["red"]).unwrap()).remove(0);
    for batch in [
        vec!["red", "shampoo for dry hair"],
        vec!["a matte gloss pack of", "red", "blue"],
        vec!["blue", "blue", "hair", "red"],
    ] {
        let position = batch.iter().position(|t| *t == "red").unwrap();
        let row = &rows(encoder.encode(&batch).unwrap())[position];
        let diff = max_abs_diff(row, &alone);
        assert!(diff < 1e-5, "batch {batch:?}: differs by {diff}");
    }
    let all = encoder
        .embed_all(&["red", "a matte gloss pack of", "red"], 2, None, |_, _| {})
        .unwrap();
    assert!(max_abs_diff(all.embeddings.row(0), &alone) < 1e-5);
    assert!(max_abs_diff(all.embeddings.row(2), &alone) < 1e-5);
}

#[test]
fn shipped_padding_is_switched_off() {
    let dir = TempDir::new("tiny-nopad");
    let (encoder, _) = tiny_encoder(&dir, 1);
    // The tiny tokenizer.json asks for fixed padding to 8, like MiniLM's to 128.
    let ids = &encoder.tokenize(&["red lipstick"]).unwrap()[0].ids;
    assert_eq!(ids, &[2, 4, 6, 3]);
}

#[test]
fn empty_text_embeds_cls_sep() {
    let dir = TempDir::new("tiny-empty");
    let (encoder, tensors) = tiny_encoder(&dir, 3);
    let tokens = encoder.tokenize(&[""]).unwrap().remove(0);
    assert_eq!(tokens.ids, [2, 3], "[CLS] [SEP]");
    assert!(!tokens.truncated);
    let row = rows(encoder.encode(&[""]).unwrap()).remove(0);
    let expected = reference::embed(&tiny_config(), &tensors, &[2, 3]);
    assert!(max_abs_diff(&row, &expected) < 1e-5);
}

#[test]
fn long_texts_are_truncated_and_counted() {
    let dir = TempDir::new("tiny-truncate");
    let (encoder, tensors) = tiny_encoder(&dir, 5);
    assert_eq!(encoder.max_seq_length(), TINY_MAX_SEQ);
    let long = "red blue lipstick shampoo for dry hair";
    let texts = [long, "red", long, "a pack of red"];
    let tokenized = encoder.tokenize(&texts).unwrap();
    assert_eq!(
        tokenized[0].ids,
        [2, 4, 5, 6, 7, 3],
        "kept the first 4 words"
    );
    assert_eq!(
        tokenized.iter().map(|t| t.truncated).collect::<Vec<_>>(),
        [true, false, true, false]
    );
    let out = encoder.embed_all(&texts, 3, None, |_, _| {}).unwrap();
    assert_eq!(out.truncated, 2);
    let expected = reference::embed(&tiny_config(), &tensors, &tokenized[0].ids);
    assert!(max_abs_diff(out.embeddings.row(0), &expected) < 1e-5);
}

#[test]
fn rows_have_unit_norm_and_progress_reaches_total() {
    let dir = TempDir::new("tiny-progress");
    let (encoder, _) = tiny_encoder(&dir, 9);
    let texts: Vec<String> = (0..7).map(|i| "red blue ".repeat(i % 3) + "hair").collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut calls = Vec::new();
    let out = encoder
        .embed_all(&texts, 3, None, |done, total| calls.push((done, total)))
        .unwrap();
    assert_eq!(calls, [(0, 7), (3, 7), (6, 7), (7, 7)]);
    for row in out.embeddings.rows() {
        let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
}

#[test]
fn threads_give_the_same_rows() {
    let dir = TempDir::new("tiny-threads");
    let (encoder, _) = tiny_encoder(&dir, 13);
    let texts: Vec<String> = (0..11)
        .map(|i| "red blue hair ".repeat(i % 4) + "pack")
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let one = encoder.embed_all(&texts, 2, None, |_, _| {}).unwrap();
    let encoder = encoder.with_threads(3);
    let mut calls = Vec::new();
    let three = encoder
        .embed_all(&texts, 2, None, |done, total| calls.push((done, total)))
        .unwrap();
    assert!(max_abs_diff(one.embeddings.as_slice(), three.embeddings.as_slice()) < 1e-6);
    assert_eq!(calls.len(), 7, "start plus one call per batch");
    assert_eq!(calls.last(), Some(&(11, 11)));
}
