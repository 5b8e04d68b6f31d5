//! Artifact identity (#20 §2): what each run-directory artifact was made from, and
//! the checks its consumers make before using it.
//!
//! The mechanism is the stamp each stage already wrote: `semid/<ids>/fit-stamp.json`
//! (the fit's settings and the embeddings' SHA-256) now also holds the dataset's
//! content fingerprint ([`recdata::Dataset::fingerprint`]) and the SHA-256 of the
//! `ids.json` it wrote; a TIGER model's `best/inputs-stamp.json` holds the dataset
//! fingerprint, the semantic IDs' name and `ids.json` hash, and the preset. The
//! embeddings carry theirs in the cache's `manifest.json` (the matrix's SHA-256 and
//! one hash per item text). A consumer compares each with what it loaded and refuses a
//! mismatch, naming both sides. Artifacts written before these fields existed have no
//! identity to check: they are used, after one warning each.

use std::path::Path;

use anyhow::{Context, bail};

/// The file in a semantic-ID directory that records how it was fitted.
pub const FIT_STAMP: &str = "fit-stamp.json";
/// The file in a TIGER `best/` directory that records what the model was trained on.
pub const MODEL_STAMP: &str = "inputs-stamp.json";
/// The semantic IDs' file in their directory (written by `semid::SemanticIdModel::save`).
pub const IDS_FILE: &str = "ids.json";
/// Keys of `fit-stamp.json` that identify the fit's inputs and output rather than its settings.
const FIT_IDENTITY_KEYS: [&str; 2] = ["dataset", "ids_sha256"];

/// The dataset as a consumer loaded it, for comparisons and messages.
pub struct DatasetIdentity<'a> {
    /// The loaded data.
    pub dataset: &'a recdata::Dataset,
    /// Where it came from (`--manifest <path>` or `--dataset <name>`), for messages.
    pub origin: String,
    /// [`recdata::Dataset::fingerprint`], computed once.
    pub fingerprint: String,
}

impl<'a> DatasetIdentity<'a> {
    /// Fingerprints a loaded dataset.
    pub fn new(dataset: &'a recdata::Dataset, args: &crate::cmd::DatasetArgs) -> Self {
        let origin = match &args.manifest {
            Some(path) => format!("--manifest {}", path.display()),
            None => format!("--dataset {}", args.dataset),
        };
        Self { dataset, origin, fingerprint: dataset.fingerprint() }
    }

    /// The dataset's name.
    pub fn name(&self) -> &str {
        &self.dataset.name
    }
}

/// The first 12 hex digits of a hash, enough to tell two apart in a message.
fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// The SHA-256 of a file, naming it when it cannot be read.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    text_encoder::sha256_file(path).with_context(|| format!("hashing {}", path.display()))
}

/// The message shared by every artifact made from another dataset than the one loaded now.
fn other_dataset(artifact: &Path, made_from: &str, data: &DatasetIdentity) -> String {
    format!(
        "{} was made from dataset content {} but dataset `{}` ({}) is {} now: another dataset of the same \
         name (the `name` in its manifest; `specgr data synth` writes `synthetic`) or another version of the data \
         wrote this run directory. Give the dataset a name of its own, or use another --runs",
        artifact.display(),
        short(made_from),
        data.name(),
        data.origin,
        short(&data.fingerprint)
    )
}

/// Loads the run directory's `embeddings/embeddings.safetensors` after checking it
/// against the cache manifest beside it (the matrix's hash) and the loaded dataset's
/// items (one text hash per row).
pub fn load_embeddings(run_dir: &recdata::RunDir, data: &DatasetIdentity) -> anyhow::Result<text_encoder::Embeddings> {
    let dir = run_dir.embeddings();
    let path = dir.join(text_encoder::EMBEDDINGS_FILE);
    let again = format!("run `specgr embed {}` (again): it writes missing rows and rebuilds a damaged cache", data.origin);
    let (embeddings, _) =
        text_encoder::Embeddings::load(&path).with_context(|| format!("reading {}; {again}", path.display()))?;
    let manifest_path = dir.join(text_encoder::MANIFEST_FILE);
    if !manifest_path.exists() {
        tracing::warn!(
            "{}: no {} beside it (written before identities were kept, or by hand): cannot check that it \
             belongs to dataset `{}`; using it",
            path.display(),
            text_encoder::MANIFEST_FILE,
            data.name()
        );
    } else {
        let manifest = text_encoder::read_manifest(&dir).with_context(|| format!("reading {}; {again}", manifest_path.display()))?;
        let actual = sha256_file(&path)?;
        if actual != manifest.embeddings_sha256 {
            bail!(
                "{} (SHA-256 {}) is not the matrix {} vouches for ({}): it was rewritten by another or an \
                 interrupted run; {again}",
                path.display(),
                short(&actual),
                manifest_path.display(),
                short(&manifest.embeddings_sha256)
            );
        }
        let texts = data.dataset.catalog.texts();
        if manifest.texts.len() != texts.len() {
            bail!(
                "{} holds embeddings of {} texts, but dataset `{}` ({}) has {} items: they were made for another \
                 dataset of the same name or an unfinished run; {again}",
                path.display(),
                manifest.texts.len(),
                data.name(),
                data.origin,
                texts.len()
            );
        }
        if let Some(row) = texts.iter().zip(&manifest.texts).position(|(t, e)| text_encoder::sha256_str(t) != e.sha256) {
            bail!(
                "{}: row {row} is the embedding of another text than item `{}` of dataset `{}` ({}) has: the \
                 embeddings were made for another dataset of the same name, or the item texts changed; {again}",
                path.display(),
                data.dataset.catalog.keys()[row],
                data.name(),
                data.origin
            );
        }
    }
    if embeddings.len() != data.dataset.num_items() {
        bail!(
            "{} has {} rows but dataset `{}` has {} items; {again}",
            path.display(),
            embeddings.len(),
            data.name(),
            data.dataset.num_items()
        );
    }
    Ok(embeddings)
}

/// Reads a JSON stamp; `None` when there is none.
fn read_stamp(path: &Path) -> anyhow::Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(Some(map)),
        _ => bail!("{}: not a stamp written by specgr (a JSON object); delete it and run the stage again", path.display()),
    }
}

fn stamp_str<'m>(stamp: &'m serde_json::Map<String, serde_json::Value>, key: &str) -> Option<&'m str> {
    stamp.get(key).and_then(serde_json::Value::as_str)
}

/// The fit stamp of a semantic-ID directory: the fit's settings plus its identity.
pub fn fit_stamp(settings: serde_json::Value, data: &DatasetIdentity, ids_sha256: &str) -> String {
    let mut stamp = settings;
    stamp["dataset"] = data.fingerprint.clone().into();
    stamp["ids_sha256"] = ids_sha256.into();
    stamp.to_string()
}

/// Whether the semantic IDs in `dir` were fitted with `settings` on `data` and are
/// still the `ids.json` that fit wrote; `Err` says what differs.
///
/// A stamp written before identities were kept has only the settings: it matches
/// when they do.
pub fn fit_is_current(dir: &Path, settings: &serde_json::Value, data: &DatasetIdentity) -> anyhow::Result<Result<(), String>> {
    let Some(stamp) = read_stamp(&dir.join(FIT_STAMP))? else {
        return Ok(Err("no fit stamp".into()));
    };
    let mut old = stamp.clone();
    FIT_IDENTITY_KEYS.iter().for_each(|k| {
        old.remove(*k);
    });
    if Some(&old) != settings.as_object() {
        return Ok(Err("other settings or embeddings".into()));
    }
    if let Some(made_from) = stamp_str(&stamp, "dataset")
        && made_from != data.fingerprint
    {
        return Ok(Err(format!("fitted on dataset content {}, {} now", short(made_from), short(&data.fingerprint))));
    }
    if let Some(wrote) = stamp_str(&stamp, "ids_sha256") {
        let ids = dir.join(IDS_FILE);
        let now = if ids.exists() { sha256_file(&ids)? } else { "(none)".into() };
        if now != wrote {
            return Ok(Err(format!(
                "{} is not the file this fit wrote (SHA-256 {}, {} now): rewritten by an interrupted refit or by hand",
                ids.display(),
                short(wrote),
                short(&now)
            )));
        }
    }
    Ok(Ok(()))
}

/// Checks semantic IDs a command is about to use: fitted on the dataset loaded now and
/// still the `ids.json` their fit wrote. Returns the hash of `ids.json`. `fit_args`
/// are the `specgr semid fit` arguments that write them, for the message when they are
/// missing.
pub fn check_semid(dir: &Path, data: &DatasetIdentity, fit_args: &str) -> anyhow::Result<String> {
    let ids = dir.join(IDS_FILE);
    if !ids.exists() {
        bail!("{} not found: run `specgr semid fit {} {fit_args}` first", ids.display(), data.origin);
    }
    let now = sha256_file(&ids)?;
    let stamp_path = dir.join(FIT_STAMP);
    let stamp = read_stamp(&stamp_path)?;
    let (made_from, wrote) = match &stamp {
        Some(s) => (stamp_str(s, "dataset"), stamp_str(s, "ids_sha256")),
        None => (None, None),
    };
    if let Some(made_from) = made_from
        && made_from != data.fingerprint
    {
        bail!("{}", other_dataset(dir, made_from, data));
    }
    if let Some(wrote) = wrote
        && wrote != now
    {
        bail!(
            "{} (SHA-256 {}) is not the file its fit wrote ({}, in {}): it was rewritten by an interrupted refit \
             or by hand. Fit the IDs again (`specgr semid fit ... --force`), then retrain what was trained on them",
            ids.display(),
            short(&now),
            short(wrote),
            stamp_path.display()
        );
    }
    if made_from.is_none() || wrote.is_none() {
        tracing::warn!(
            "{}: no identity in {} (fitted before identities were kept): cannot check that these IDs belong to \
             dataset `{}`; using them",
            dir.display(),
            FIT_STAMP,
            data.name()
        );
    }
    Ok(now)
}

/// The identity of a TIGER model: what it was trained on.
pub fn model_stamp(data: &DatasetIdentity, ids: &str, ids_sha256: &str, preset: &str) -> String {
    serde_json::json!({
        "dataset": data.fingerprint,
        "ids": ids,
        "ids_sha256": ids_sha256,
        "preset": preset,
    })
    .to_string()
}

/// Records a TIGER model's identity in its `best/` directory (before training, so
/// every model saved there carries it).
pub fn write_model_stamp(best: &Path, stamp: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(best).with_context(|| format!("creating {}", best.display()))?;
    Ok(recdata::fsio::write_atomic(&best.join(MODEL_STAMP), stamp.as_bytes())?)
}

/// Whether the directory's [`MODEL_STAMP`] says exactly `stamp` (as JSON; false when
/// it has none).
pub fn has_model_stamp(dir: &Path, stamp: &str) -> anyhow::Result<bool> {
    let want: serde_json::Value = serde_json::from_str(stamp).context("a stamp is JSON")?;
    Ok(read_stamp(&dir.join(MODEL_STAMP))?.is_some_and(|have| serde_json::Value::Object(have) == want))
}

/// Claims `best` (in the run directory `run`) for a model of these inputs before
/// training: a `best/` holding a model of other inputs is refused rather than mixed
/// with, and the identity is written first, so every model saved there carries it.
pub fn claim_best(run: &Path, best: &Path, data: &DatasetIdentity, ids: &str, ids_sha256: &str, preset: &str) -> anyhow::Result<()> {
    if best.join(MODEL_STAMP).exists() {
        check_model(best, data, ids, ids_sha256, preset).with_context(|| {
            format!(
                "{} holds a model of other inputs, which this run would mix with its own: move the directory \
                 aside (or pass another --out or --runs) to train anew",
                run.display()
            )
        })?;
    }
    write_model_stamp(best, &model_stamp(data, ids, ids_sha256, preset))
}

/// Checks that the TIGER (or SpecGR++) model in `best` was trained on the dataset,
/// semantic IDs and preset a command is about to use it with.
pub fn check_model(best: &Path, data: &DatasetIdentity, ids: &str, ids_sha256: &str, preset: &str) -> anyhow::Result<()> {
    let path = best.join(MODEL_STAMP);
    let Some(stamp) = read_stamp(&path)? else {
        tracing::warn!(
            "{}: no {MODEL_STAMP} (trained before identities were kept, or copied by hand): cannot check that \
             this model was trained on dataset `{}`, {ids} IDs and the `{preset}` preset; using it",
            best.display(),
            data.name()
        );
        return Ok(());
    };
    let field = |key: &str| stamp_str(&stamp, key).unwrap_or("(none)").to_owned();
    if field("dataset") != data.fingerprint {
        bail!("{}", other_dataset(best, &field("dataset"), data));
    }
    if field("preset") != preset || field("ids") != ids {
        bail!(
            "{} holds a model of the `{}` preset trained on {} IDs (says {}), but this command asks for `{preset}` \
             on {ids} IDs: was it copied from another run?",
            best.display(),
            field("preset"),
            field("ids"),
            path.display()
        );
    }
    if field("ids_sha256") != ids_sha256 {
        bail!(
            "{} was trained on semantic IDs with SHA-256 {} (says {}), but the {ids} IDs are {} now: they were \
             refitted since, or the model was copied from another run. Train it again on these IDs",
            best.display(),
            short(&field("ids_sha256")),
            path.display(),
            short(ids_sha256)
        );
    }
    Ok(())
}

/// What a UniSRec stamp written before 2026-12-07 holds instead of the embeddings'
/// hash while training runs (such a stamp cannot say which embeddings it trains on).
pub const UNFINISHED: &str = "unfinished";

/// The identity of a trained UniSRec drafter: the dataset and the text embeddings it
/// was trained on (its adaptor is fitted to those vectors).
pub fn unisrec_stamp(data: &DatasetIdentity, embeddings_sha256: &str) -> String {
    serde_json::json!({ "dataset": data.fingerprint, "embeddings_sha256": embeddings_sha256 }).to_string()
}

/// The stamp of a UniSRec drafter while it trains: [`unisrec_stamp`] with
/// `"finished": false`, replaced by the plain stamp when training ends.
pub fn unisrec_unfinished_stamp(data: &DatasetIdentity, embeddings_sha256: &str) -> String {
    serde_json::json!({ "dataset": data.fingerprint, "embeddings_sha256": embeddings_sha256, "finished": false }).to_string()
}

/// Checks that the UniSRec drafter in `dir` was trained on the dataset and embeddings
/// a command is about to use it with, and that its training finished (or, with
/// `allow_unfinished`, says that it uses the best epoch so far of one that has not).
pub fn check_unisrec(dir: &Path, data: &DatasetIdentity, embeddings: &Path, allow_unfinished: bool) -> anyhow::Result<()> {
    let path = dir.join(MODEL_STAMP);
    let Some(stamp) = read_stamp(&path)? else {
        tracing::warn!(
            "{}: no {MODEL_STAMP} (trained before identities were kept): cannot check that this drafter was \
             trained on dataset `{}` and {}; using it",
            dir.display(),
            data.name(),
            embeddings.display()
        );
        return Ok(());
    };
    let field = |key: &str| stamp_str(&stamp, key).unwrap_or("(none)").to_owned();
    if field("dataset") != data.fingerprint {
        bail!("{}", other_dataset(dir, &field("dataset"), data));
    }
    let old_unfinished = field("embeddings_sha256") == UNFINISHED;
    if old_unfinished || stamp.get("finished") == Some(&serde_json::Value::Bool(false)) {
        if !allow_unfinished {
            bail!(
                "{}: its training did not finish (killed, stopped by --max-minutes, or still running; says {}). The \
                 command that trained it resumes it: `specgr train unisrec {}` with the same settings; \
                 `--allow-unfinished` evaluates its best epoch so far",
                dir.display(),
                path.display(),
                data.origin
            );
        }
        tracing::warn!("{}: its training has not finished: using its best epoch on valid so far (--allow-unfinished)", dir.display());
        if old_unfinished {
            tracing::warn!(
                "{}: its stamp predates the embeddings' hash in unfinished stamps: cannot check that it trains on {}",
                dir.display(),
                embeddings.display()
            );
            return Ok(());
        }
    }
    let now = sha256_file(embeddings)?;
    if field("embeddings_sha256") != now {
        bail!(
            "{} was trained on text embeddings with SHA-256 {} (says {}), but {} is {} now: the embeddings were \
             made again since (another encoder?). Train it again: `specgr train unisrec {}`",
            dir.display(),
            short(&field("embeddings_sha256")),
            path.display(),
            embeddings.display(),
            short(&now),
            data.origin
        );
    }
    Ok(())
}

/// What a report records of a model it evaluated, so that a number can be traced to
/// the exact files: the directory, one SHA-256 over its files (names and contents, in
/// name order), the identity stamp it carries, and its run's `last/state.json`: the
/// samples (TIGER, UniSRec) and steps the run had seen when the report was made, its
/// epochs, and its best validation (value and epoch: the checkpoint in `best/`).
pub fn model_inputs(dir: &Path) -> serde_json::Value {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    let files_sha256 = (!files.is_empty())
        .then(|| {
            let mut all = String::new();
            for f in &files {
                let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                all += &format!("{name} {}\n", text_encoder::sha256_file(f).ok()?);
            }
            Some(text_encoder::sha256_str(&all))
        })
        .flatten();
    let json = |p: &Path| std::fs::read(p).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    // `<run>/best` (TIGER, SpecGR++ stages) keeps its state in `<run>/last/`; UniSRec's
    // directory holds its own `last/`.
    let state = [dir.parent().map(|p| p.join("last/state.json")), Some(dir.join("last/state.json"))]
        .into_iter()
        .flatten()
        .find_map(|p| json(&p));
    let training = state.map(|s| {
        serde_json::json!({
            "samples_seen": s.get("samples_seen"),
            "steps_done": s.get("steps_done"),
            "epochs_done": s.get("epochs_done").or_else(|| s.get("epochs")),
            "best": s.get("best"),
        })
    });
    serde_json::json!({
        "dir": dir.display().to_string(),
        "files_sha256": files_sha256,
        "stamp": json(&dir.join(MODEL_STAMP)),
        "training": training,
    })
}
