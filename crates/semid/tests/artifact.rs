//! Save and load round trips, and bad input.

use semid::{EmbeddingMatrix, Method, Quantizer, SemanticIdModel, SemidError};

use crate::data::{Inner, clustered, fit, prefix_mask, tiny};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("semid-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn save_load_round_trip() {
    let x = clustered(7, 200, 16);
    let fresh = clustered(8, 5, 16);
    for method in Method::ALL {
        let (mut model, _) = fit(&tiny(method), &x, &prefix_mask(200, 180)).unwrap();
        let dir = temp_dir(method.name());
        model.save(&dir).unwrap();
        let mut loaded = SemanticIdModel::<Inner>::load(&dir, &Default::default()).unwrap();
        assert_eq!(loaded.ids(), model.ids(), "{method}");
        assert_eq!(loaded.trie(), model.trie(), "{method}");
        assert_eq!(loaded.config, model.config);
        assert_eq!(
            loaded.quantizer.encode(&x).unwrap(),
            model.quantizer.encode(&x).unwrap(),
            "{method}"
        );
        assert_eq!(
            loaded.quantizer.reconstruction_mse(&x).unwrap(),
            model.quantizer.reconstruction_mse(&x).unwrap(),
            "{method}"
        );
        for row in 0..5 {
            assert_eq!(
                loaded.assign(fresh.row(row)).unwrap(),
                model.assign(fresh.row(row)).unwrap()
            );
        }
        assert_eq!(loaded.ids(), model.ids());
        assert!(
            !std::fs::read_dir(&dir).unwrap().any(|e| e
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "tmp"))
        );
        // A truncated codebook file is reported, not loaded.
        let cb = dir.join("codebooks.f32");
        let bytes = std::fs::read(&cb).unwrap();
        std::fs::write(&cb, &bytes[..bytes.len() - 4]).unwrap();
        let err = SemanticIdModel::<Inner>::load(&dir, &Default::default()).unwrap_err();
        assert!(err.to_string().contains("codebooks.f32"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn non_finite_embeddings_name_the_row() {
    let mut data = vec![0.5f32; 40];
    data[2 * 8 + 3] = f32::NAN;
    let err = EmbeddingMatrix::new(data.clone(), 8).unwrap_err();
    assert!(
        matches!(err, SemidError::NonFinite { row: 2, col: 3, .. }),
        "{err}"
    );
    data[2 * 8 + 3] = f32::INFINITY;
    assert!(
        EmbeddingMatrix::new(data, 8)
            .unwrap_err()
            .to_string()
            .contains("row 2")
    );
    assert!(matches!(
        EmbeddingMatrix::new(vec![0.0; 10], 8),
        Err(SemidError::RaggedBuffer { .. })
    ));
}

#[test]
fn dimension_mismatch_with_a_saved_quantizer() {
    let x = clustered(9, 100, 16);
    let (model, _) = fit(&tiny(Method::RqKMeans), &x, &prefix_mask(100, 100)).unwrap();
    let dir = temp_dir("dim");
    model.save(&dir).unwrap();
    let mut loaded = SemanticIdModel::<Inner>::load(&dir, &Default::default()).unwrap();
    let err = loaded.assign(&[0.0; 12]).unwrap_err();
    assert!(
        matches!(
            err,
            SemidError::DimensionMismatch {
                expected: 16,
                got: 12
            }
        ),
        "{err}"
    );
    let wrong = clustered(9, 3, 12);
    assert!(matches!(
        loaded.quantizer.encode(&wrong),
        Err(SemidError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        loaded.assign(&[f32::NAN; 16]),
        Err(SemidError::NonFinite { row: 0, col: 0, .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fewer_items_than_codes() {
    let x = clustered(10, 20, 16);
    for method in Method::ALL {
        let err = fit(&tiny(method), &x, &prefix_mask(20, 6)).unwrap_err();
        assert!(
            matches!(err, SemidError::TooFewItems { items: 6, codes: 8 }),
            "{method}: {err}"
        );
    }
    let err = fit(&tiny(Method::RqKMeans), &x, &[true; 3]).unwrap_err();
    assert!(
        matches!(err, SemidError::MaskLength { mask: 3, rows: 20 }),
        "{err}"
    );
    let err = EmbeddingMatrix::new(vec![], 16).map(|m| m.rows());
    assert_eq!(err.unwrap(), 0);
}

/// A `semid.json` naming absurd sizes is refused with an error that names the file and
/// the field, before anything is allocated.
#[test]
fn a_manifest_of_absurd_sizes_is_refused() {
    let x = clustered(11, 200, 16);
    for method in Method::ALL {
        let (model, _) = fit(&tiny(method), &x, &prefix_mask(200, 180)).unwrap();
        let dir = temp_dir(&format!("absurd-{}", method.name()));
        model.save(&dir).unwrap();
        let path = dir.join("semid.json");
        let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut edits: Vec<(&str, Box<dyn Fn(&mut serde_json::Value)>)> = vec![
            ("dim", Box::new(|m| m["dim"] = serde_json::json!(1u64 << 40))),
            ("codebook_values", Box::new(|m| m["codebook_values"] = serde_json::json!(u64::MAX / 2))),
        ];
        match method {
            Method::RqVae => {
                edits.push(("net.hidden", Box::new(|m| m["parts"]["net"]["hidden"] = serde_json::json!([1u64 << 40]))));
                edits.push(("parameters", Box::new(|m| m["parts"]["net"]["hidden"] = serde_json::json!([1 << 20, 1 << 20]))));
                edits.push(("levels", Box::new(|m| m["parts"]["net"]["levels"] = serde_json::json!(0))));
                edits.push(("codebook_size", Box::new(|m| m["parts"]["net"]["codebook_size"] = serde_json::json!(1u64 << 62))));
            }
            _ => {
                edits.push(("levels", Box::new(|m| m["parts"]["config"]["levels"] = serde_json::json!(1000))));
                edits.push(("codebook_size", Box::new(|m| m["parts"]["config"]["codebook_size"] = serde_json::json!(1u64 << 62))));
            }
        }
        for (field, edit) in &edits {
            let mut m = good.clone();
            edit(&mut m);
            std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
            let err = SemanticIdModel::<Inner>::load(&dir, &Default::default()).unwrap_err().to_string();
            assert!(err.contains("semid.json") && err.contains(field), "{method} {field}: {err}");
        }
        std::fs::write(&path, serde_json::to_vec(&good).unwrap()).unwrap();
        SemanticIdModel::<Inner>::load(&dir, &Default::default()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
