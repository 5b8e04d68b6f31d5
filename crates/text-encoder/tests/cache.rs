//! The embedding cache: a re-run embeds only changed texts, and a new model
//! invalidates everything.

use text_encoder::{EMBEDDINGS_FILE, Embeddings, MANIFEST_FILE, SentenceEncoder, read_manifest};

use crate::common::{TempDir, TestBackend, max_abs_diff, write_tiny_model};

#[test]
fn rerun_embeds_only_changed_texts() {
    let model = TempDir::new("cache-model");
    write_tiny_model(model.path(), 21);
    let encoder = SentenceEncoder::<TestBackend>::load(model.path(), &Default::default()).unwrap();
    let cache = TempDir::new("cache");
    let first = [
        "red lipstick",
        "shampoo for dry hair",
        "matte gloss",
        "blue",
    ];
    let out = encoder
        .embed_all(&first, 2, Some(cache.path()), |_, _| {})
        .unwrap();
    assert_eq!(out.reused, 0);
    let manifest = read_manifest(cache.path()).unwrap();
    assert_eq!(manifest.texts.len(), 4);
    assert_eq!(manifest.model_checksum, encoder.model_checksum());
    let (on_disk, _) = Embeddings::load(&cache.path().join(EMBEDDINGS_FILE)).unwrap();
    assert_eq!(on_disk, out.embeddings);

    // One text changed, one added, one removed, the rest reordered.
    let second = [
        "blue",
        "red lipstick",
        "matte gloss pack",
        "shampoo for dry hair",
        "red",
    ];
    let mut calls = Vec::new();
    let again = encoder
        .embed_all(&second, 2, Some(cache.path()), |done, total| {
            calls.push((done, total))
        })
        .unwrap();
    assert_eq!(again.reused, 3);
    assert_eq!(
        calls.first(),
        Some(&(3, 5)),
        "cached rows count as done at once"
    );
    assert_eq!(calls.last(), Some(&(5, 5)));
    let fresh = encoder.embed_all(&second, 5, None, |_, _| {}).unwrap();
    assert!(max_abs_diff(again.embeddings.as_slice(), fresh.embeddings.as_slice()) < 1e-5);
    assert_eq!(read_manifest(cache.path()).unwrap().texts.len(), 5);

    // Nothing changed: nothing is embedded, and the files are not rewritten.
    let modified = |name: &str| {
        std::fs::metadata(cache.path().join(name))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = (modified(EMBEDDINGS_FILE), modified(MANIFEST_FILE));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let third = encoder
        .embed_all(&second, 2, Some(cache.path()), |_, _| {})
        .unwrap();
    assert_eq!(third.reused, 5);
    assert_eq!(third.embeddings, again.embeddings);
    assert_eq!((modified(EMBEDDINGS_FILE), modified(MANIFEST_FILE)), before);
}

#[test]
fn another_model_invalidates_the_cache() {
    let cache = TempDir::new("cache-models");
    let texts = ["red", "blue hair"];
    let model_a = TempDir::new("model-a");
    write_tiny_model(model_a.path(), 1);
    let a = SentenceEncoder::<TestBackend>::load(model_a.path(), &Default::default()).unwrap();
    a.embed_all(&texts, 4, Some(cache.path()), |_, _| {})
        .unwrap();
    let model_b = TempDir::new("model-b");
    write_tiny_model(model_b.path(), 2);
    let b = SentenceEncoder::<TestBackend>::load(model_b.path(), &Default::default()).unwrap();
    assert_ne!(a.model_checksum(), b.model_checksum());
    let out = b
        .embed_all(&texts, 4, Some(cache.path()), |_, _| {})
        .unwrap();
    assert_eq!(out.reused, 0);
    assert_eq!(
        read_manifest(cache.path()).unwrap().model_checksum,
        b.model_checksum()
    );
}

/// Damages the cache in `dir` in one way.
type Damage = fn(&std::path::Path);

#[test]
fn a_damaged_cache_is_rebuilt_from_the_model() {
    // Before: each of these stopped `embed` with an error about the cache, and the only
    // way on was to find and delete it by hand.
    let model = TempDir::new("cache-tamper-model");
    write_tiny_model(model.path(), 3);
    let encoder = SentenceEncoder::<TestBackend>::load(model.path(), &Default::default()).unwrap();
    let texts = ["red", "blue"];
    let fresh = encoder.embed_all(&texts, 4, None, |_, _| {}).unwrap();
    let damages: [(&str, Damage); 3] = [
        ("a matrix of other rows than its manifest vouches for", |dir| {
            Embeddings::new(8, vec![0.5; 8]).unwrap().save(&dir.join(EMBEDDINGS_FILE), Default::default()).unwrap()
        }),
        ("a manifest cut short", |dir| {
            let text = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
            std::fs::write(dir.join(MANIFEST_FILE), &text[..text.len() / 2]).unwrap();
        }),
        ("a matrix cut short", |dir| {
            let bytes = std::fs::read(dir.join(EMBEDDINGS_FILE)).unwrap();
            std::fs::write(dir.join(EMBEDDINGS_FILE), &bytes[..bytes.len() - 5]).unwrap();
        }),
    ];
    for (what, damage) in damages {
        let cache = TempDir::new("cache-tamper");
        encoder.embed_all(&texts, 4, Some(cache.path()), |_, _| {}).unwrap();
        damage(cache.path());
        let out = encoder
            .embed_all(&texts, 4, Some(cache.path()), |_, _| {})
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(out.reused, 0, "{what}: nothing is reused from a damaged cache");
        assert!(max_abs_diff(out.embeddings.as_slice(), fresh.embeddings.as_slice()) < 1e-6, "{what}");
        // The rewritten cache is whole again: a third run reuses every row.
        let again = encoder.embed_all(&texts, 4, Some(cache.path()), |_, _| {}).unwrap();
        assert_eq!(again.reused, 2, "{what}: the cache was rewritten whole");
    }
}

#[test]
fn a_killed_run_keeps_the_rows_it_finished() {
    let model = TempDir::new("cache-resume-model");
    write_tiny_model(model.path(), 4);
    let encoder = SentenceEncoder::<TestBackend>::load(model.path(), &Default::default())
        .unwrap()
        .with_checkpoint_every(std::time::Duration::ZERO);
    let texts = ["red lipstick", "shampoo", "matte gloss", "blue", "dry hair", "pack of three"];
    let cache = TempDir::new("cache-resume");
    // The run dies (here: a panic in its progress callback) after three of six texts.
    let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        encoder.embed_all(&texts, 1, Some(cache.path()), |done, _| assert!(done < 3, "killed"))
    }));
    assert!(killed.is_err(), "the run was meant to die midway");
    // Before: nothing was written until the end, so this reused 0 rows.
    let manifest = read_manifest(cache.path()).unwrap();
    assert_eq!(manifest.texts.len(), 3, "the finished rows are on disk");
    let mut first_progress = None;
    let resumed = encoder
        .embed_all(&texts, 1, Some(cache.path()), |done, _| {
            first_progress.get_or_insert(done);
        })
        .unwrap();
    assert_eq!(resumed.reused, 3);
    assert_eq!(first_progress, Some(3));
    let fresh = encoder.embed_all(&texts, 6, None, |_, _| {}).unwrap();
    assert!(max_abs_diff(resumed.embeddings.as_slice(), fresh.embeddings.as_slice()) < 1e-5);
    assert_eq!(read_manifest(cache.path()).unwrap().texts.len(), 6);
}
