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
