//! Property tests of the semantic-ID readers (#20): `SemanticIds::from_json` and
//! `SemanticIdModel::load` on saved models with random edits return `Ok` or an error,
//! never a panic. `SPECGR_FUZZ_SECS=<s>` runs each for that long (see
//! `recdata/tests/fuzz_harness.rs`).

use proptest::prelude::*;
use semid::{Method, SemanticIdModel, SemanticIds};

use crate::data::{Inner, clustered, fit, prefix_mask, tiny};
use crate::fuzz_harness::{edits, fuzz, mutate};

/// The files of a saved model of each method, by name.
fn saved_models() -> Vec<Vec<(String, Vec<u8>)>> {
    let x = clustered(3, 120, 16);
    Method::ALL
        .iter()
        .map(|&method| {
            let (model, _) = fit(&tiny(method), &x, &prefix_mask(120, 100)).unwrap();
            let dir = tempfile::tempdir().unwrap();
            model.save(dir.path()).unwrap();
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
                })
                .collect();
            files.sort();
            files
        })
        .collect()
}

#[test]
fn semantic_id_readers_never_panic() {
    let models = saved_models();
    let ids_json: Vec<&[u8]> = models
        .iter()
        .map(|files| files.iter().find(|(n, _)| n == "ids.json").unwrap().1.as_slice())
        .collect();
    fuzz("ids.json", (0..ids_json.len(), edits()), |(m, e)| {
        let text = String::from_utf8_lossy(&mutate(ids_json[m], &e)).into_owned();
        let _ = SemanticIds::from_json(&text);
    });
    fuzz("semantic-ID model directory", (0..models.len(), any::<prop::sample::Index>(), edits()), |(m, which, e)| {
        let files = &models[m];
        let victim = which.index(files.len());
        let dir = tempfile::tempdir().unwrap();
        for (i, (name, bytes)) in files.iter().enumerate() {
            let bytes = if i == victim { mutate(bytes, &e) } else { bytes.clone() };
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        if let Ok(model) = SemanticIdModel::<Inner>::load(dir.path(), &Default::default()) {
            let _ = model.ids().len();
        }
    });
}
