//! Bad model directories: checkpoints with missing, unexpected or misshapen tensors,
//! and files that are missing or not UTF-8.

use text_encoder::{Error, SentenceEncoder, TensorProblem};

use crate::common::{TempDir, TestBackend, write_safetensors, write_tiny_model};

fn load_err(dir: &TempDir) -> Error {
    SentenceEncoder::<TestBackend>::load(dir.path(), &Default::default()).unwrap_err()
}

#[test]
fn corrupted_checkpoint_lists_every_problem_tensor() {
    let dir = TempDir::new("bad-checkpoint");
    let mut tensors = write_tiny_model(dir.path(), 1);
    tensors.retain(|(name, _, _)| name != "encoder.layer.1.output.dense.bias");
    let (_, shape, data) = tensors
        .iter_mut()
        .find(|(name, _, _)| name == "encoder.layer.0.attention.self.key.weight")
        .unwrap();
    *shape = vec![8, 4];
    data.truncate(32);
    tensors.push((
        "encoder.layer.0.attention.extra".into(),
        vec![3],
        vec![0.0; 3],
    ));
    write_safetensors(&dir.path().join("model.safetensors"), &tensors);

    let err = load_err(&dir);
    let Error::Checkpoint { path, problems } = &err else {
        panic!("expected a checkpoint error, got {err}");
    };
    assert!(path.ends_with("model.safetensors"));
    assert_eq!(
        problems,
        &[
            TensorProblem::Unexpected {
                name: "encoder.layer.0.attention.extra".into(),
                shape: vec![3],
            },
            TensorProblem::WrongShape {
                name: "encoder.layer.0.attention.self.key.weight".into(),
                expected: vec![8, 8],
                found: vec![8, 4],
            },
            TensorProblem::Missing {
                name: "encoder.layer.1.output.dense.bias".into(),
                shape: vec![8],
            },
        ]
    );
    let message = err.to_string();
    for needle in [
        "model.safetensors",
        "unexpected encoder.layer.0.attention.extra [3]",
        "wrong shape encoder.layer.0.attention.self.key.weight: expected [8, 8], found [8, 4]",
        "missing encoder.layer.1.output.dense.bias [8]",
    ] {
        assert!(message.contains(needle), "{needle:?} not in {message}");
    }
}

#[test]
fn ignored_tensors_are_accepted() {
    // Hugging Face BERT checkpoints carry a position-id buffer and a pooler that
    // sentence embeddings do not use.
    let dir = TempDir::new("ignored");
    let mut tensors = write_tiny_model(dir.path(), 2);
    tensors.push((
        "embeddings.position_ids".into(),
        vec![1, 16],
        (0..16).map(|i| i as f32).collect(),
    ));
    tensors.push(("pooler.dense.weight".into(), vec![8, 8], vec![0.0; 64]));
    tensors.push(("pooler.dense.bias".into(), vec![8], vec![0.0; 8]));
    write_safetensors(&dir.path().join("model.safetensors"), &tensors);
    SentenceEncoder::<TestBackend>::load(dir.path(), &Default::default()).unwrap();
}

#[test]
fn truncated_safetensors_file_is_an_error_naming_it() {
    let dir = TempDir::new("truncated-file");
    write_tiny_model(dir.path(), 3);
    std::fs::write(dir.path().join("model.safetensors"), [1u8, 2, 3]).unwrap();
    let err = load_err(&dir);
    assert!(matches!(err, Error::Safetensors { .. }), "{err}");
    assert!(err.to_string().contains("model.safetensors"), "{err}");
}

#[test]
fn non_utf8_and_missing_files_are_errors_naming_them() {
    let dir = TempDir::new("bad-files");
    write_tiny_model(dir.path(), 4);
    std::fs::write(
        dir.path().join("tokenizer.json"),
        b"{\"version\": \"1.0\xff\"}",
    )
    .unwrap();
    let err = load_err(&dir);
    assert!(matches!(err, Error::NotUtf8 { .. }), "{err}");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");

    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = load_err(&dir);
    assert!(matches!(err, Error::Read { .. }), "{err}");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");

    std::fs::write(dir.path().join("config.json"), b"{\"hidden_size\": ").unwrap();
    let err = load_err(&dir);
    assert!(matches!(err, Error::Json { .. }), "{err}");
    assert!(err.to_string().contains("config.json"), "{err}");
}

#[test]
fn unsupported_configuration_is_refused() {
    let dir = TempDir::new("unsupported");
    write_tiny_model(dir.path(), 5);
    let config = crate::common::tiny_config().with_hidden_act("relu".into());
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_string(&config).unwrap(),
    )
    .unwrap();
    let err = load_err(&dir);
    assert!(matches!(err, Error::UnsupportedConfig { .. }), "{err}");
    assert!(err.to_string().contains("hidden_act"), "{err}");
}

/// A `config.json` of absurd sizes is refused before the model is allocated, naming
/// the file and the field (#20 §3). Before: an out-of-memory abort.
#[test]
fn a_config_of_absurd_sizes_is_refused_before_allocating() {
    let dir = TempDir::new("absurd");
    write_tiny_model(dir.path(), 5);
    let path = dir.path().join("config.json");
    let good: serde_json::Value = serde_json::to_value(crate::common::tiny_config()).unwrap();
    for (field, value, expected) in [
        ("hidden_size", 1_000_000_000u64, "hidden_size 1000000000 is beyond the largest this program builds"),
        ("num_hidden_layers", 1_000_000, "num_hidden_layers 1000000 is beyond"),
        ("vocab_size", 0, "vocab_size is 0"),
        ("intermediate_size", 65_536, ""),
    ] {
        let mut config = good.clone();
        config[field] = value.into();
        if field == "intermediate_size" {
            // Each size within its limit, together too many parameters.
            config["hidden_size"] = 65_536.into();
            config["num_hidden_layers"] = 24.into();
        }
        std::fs::write(&path, config.to_string()).unwrap();
        let err = load_err(&dir);
        let text = err.to_string();
        assert!(matches!(err, Error::UnsupportedConfig { .. }), "{field}: {text}");
        assert!(text.starts_with(&path.display().to_string()) && text.contains(expected), "{field}: {text}");
        if field == "intermediate_size" {
            assert!(text.contains("parameters, more than the 2000000000 this program builds"), "{text}");
        }
    }
}

/// `tokenizer.json` with one more word than the model's vocabulary: `extra`, id 16.
fn oversized_tokenizer_json() -> String {
    let mut json: serde_json::Value = serde_json::from_str(&crate::common::tiny_tokenizer_json()).unwrap();
    let vocab = json["model"]["vocab"].as_object_mut().unwrap();
    vocab.insert("extra".into(), serde_json::json!(crate::common::TINY_VOCAB.len()));
    json.to_string()
}

/// A tokenizer that can emit an id beyond the model's vocabulary (#20 §3) is refused
/// when the encoder is loaded, naming both files; it used to panic inside the backend
/// at the first text holding such a token.
#[test]
fn a_tokenizer_with_ids_beyond_the_vocabulary_is_refused_at_load() {
    let dir = TempDir::new("oversized-tokenizer");
    write_tiny_model(dir.path(), 3);
    std::fs::write(dir.path().join("tokenizer.json"), oversized_tokenizer_json()).unwrap();
    let err = load_err(&dir);
    let text = err.to_string();
    assert!(matches!(err, Error::Tokenizer { .. }), "{text}");
    assert!(text.contains("tokenizer.json") && text.contains("config.json"), "{text}");
    assert!(text.contains("ids up to 16") && text.contains("vocab_size is 16"), "{text}");
}

/// The same tokenizer put together with the model by hand: the text holding the
/// out-of-vocabulary id is an error naming the text, not a panic.
#[test]
fn an_id_beyond_the_vocabulary_is_an_error_naming_the_text() {
    let dir = TempDir::new("oversized-tokenizer-parts");
    let path = dir.path().join("tokenizer.json");
    std::fs::write(&path, oversized_tokenizer_json()).unwrap();
    let tokenizer = text_encoder::TextTokenizer::from_file(&path, 8).unwrap();
    let config = crate::common::tiny_config();
    let device = Default::default();
    let encoder = SentenceEncoder::<TestBackend>::from_parts(
        config.init(&device),
        config,
        tokenizer,
        "checksum".into(),
        dir.path(),
        &device,
    );
    assert!(encoder.encode(&["red lipstick"]).is_ok());
    let err = encoder.encode(&["red lipstick", "extra gloss"]).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Tokenize { index: 1, .. }), "{text}");
    assert!(text.contains("token id 16") && text.contains("vocabulary of 16"), "{text}");
}
