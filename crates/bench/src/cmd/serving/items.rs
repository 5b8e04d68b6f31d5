//! `specgr items add|remove`: catalog changes without retraining, written to the run's
//! catalog overlay ([`super::overlay`]) for `specgr recommend` to apply.
//!
//! Each command is all or nothing: every input is checked and applied to the loaded
//! models first (an item gets its semantic ID there, so an ID-space overflow is
//! refused before anything is written), and the overlay is written once, atomically,
//! under the lock of `<runs>/<dataset>/catalog/`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::tensor::backend::Backend;
use gr_model::TigerPreset;
use serde::Serialize;

use super::Served;
use super::overlay::AddedItem;
use super::requests::{self, BadInput};
use crate::cmd::DatasetArgs;
use crate::cmd::eval::Needs;

/// `specgr items` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ItemsCommand {
    /// Add items (JSON lines `{"id": "...", "text": "..."}` on stdin or `--input`):
    /// each is embedded with the run's sentence encoder and given a semantic ID by the
    /// frozen quantiser plus the identification digit; `specgr recommend` then
    /// drafts and recommends it.
    Add(AddArgs),
    /// Remove items by id: they are never recommended again (they keep their number
    /// and semantic ID, so no other item's ID changes; a removed id is not reused).
    Remove(RemoveArgs),
}

/// What both `items` commands read.
#[derive(Debug, clap::Args)]
pub struct ItemsRun {
    /// Which dataset's run.
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// The semantic IDs to report (and check) the new items' IDs in.
    #[arg(long, default_value = "rqvae")]
    pub ids: crate::cmd::IdsName,
    /// Where to compute: `cpu`, or `wgpu` / `cuda` / `tch` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: crate::cmd::backend::DeviceKind,
    /// The run directory.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// `specgr items add` arguments.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The run.
    #[command(flatten)]
    pub run: ItemsRun,
    /// Read the items from this file instead of stdin.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// The sentence encoder's directory [default: the one that made the run's
    /// embeddings, as their `manifest.json` records it, else `$SPECGR_MODELS/all-MiniLM-L6-v2`].
    /// It must be the model that made them (its checksum is compared). Items that
    /// carry an `embedding` (of that model) need no encoder.
    #[arg(long)]
    pub encoder: Option<PathBuf>,
}

/// `specgr items remove` arguments.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The run.
    #[command(flatten)]
    pub run: ItemsRun,
    /// The ids of the items to remove.
    #[arg(required = true, value_name = "ID")]
    pub items: Vec<String>,
}

/// One line of `items add`'s output.
#[derive(Serialize)]
struct Added<'a> {
    line: usize,
    id: &'a str,
    item: u32,
    semantic_id: &'a [u32],
}

/// Runs `specgr items ...`.
pub fn run(command: ItemsCommand) -> anyhow::Result<()> {
    let device = match &command {
        ItemsCommand::Add(a) => a.run.device,
        ItemsCommand::Remove(a) => a.run.device,
    };
    crate::with_backend!(device, |B, device| match &command {
        ItemsCommand::Add(a) => add::<B>(a, &device),
        ItemsCommand::Remove(a) => remove::<B>(a, &device),
    })
}

/// Opens the run with only the semantic IDs loaded, under the catalog lock.
fn open<B: Backend>(run: &ItemsRun, device: &B::Device) -> anyhow::Result<(Served<B>, recdata::RunLock)> {
    let run_dir = recdata::RunDir::new(&run.runs, &run.dataset.name()?);
    let lock = crate::cmd::lock_run_dir(&run_dir.catalog())?;
    let served = Served::<B>::open(&run.dataset, &run.runs, run.ids, TigerPreset::Small, Needs::default(), device)?;
    Ok((served, lock))
}

fn add<B: Backend>(args: &AddArgs, device: &B::Device) -> anyhow::Result<()> {
    let (mut served, _lock) = open::<B>(&args.run, device)?;
    let dim = semid::Quantizer::dim(&served.resources.semid.quantizer);
    let input: Box<dyn BufRead> = match &args.input {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut embedder = Embedder::<B>::new(args.encoder.clone());
    let mut added = Vec::new();
    let mut refused = Vec::new();
    for (i, line) in input.split(b'\n').enumerate() {
        let line_no = i + 1;
        let bytes = line.context("reading the items")?;
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) if t.trim().is_empty() => continue,
            Ok(t) => t,
            Err(e) => {
                refused.push((line_no, BadInput::new("", format!("not UTF-8 text: {e}"))));
                continue;
            }
        };
        let (id, text, embedding) = match requests::new_item(text, dim) {
            Ok(parsed) => parsed,
            Err(e) => {
                refused.push((line_no, e));
                continue;
            }
        };
        if let Err(e) = served.check_new_id(&id) {
            refused.push((line_no, BadInput::new("id", e)));
            continue;
        }
        let embedding = embedder.embedding(&text, embedding, &served.run.run_dir, device)?;
        // What is left to fail is the embedding: its width or values, or an ID group
        // it would overfill.
        match served.add(AddedItem { id: id.clone(), text, embedding }) {
            Ok(item) => added.push((line_no, id, item)),
            Err(e) => refused.push((line_no, BadInput::new("embedding", format!("{e:#}")))),
        }
    }
    if !refused.is_empty() {
        for (line, e) in &refused {
            eprintln!("line {line}: {e}");
        }
        bail!("{} of {} items refused; nothing was added", refused.len(), refused.len() + added.len());
    }
    if added.is_empty() {
        bail!("no items to add (expected JSON lines `{{\"id\": \"...\", \"text\": \"...\"}}`)");
    }
    served.persist()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (line, id, item) in &added {
        let semantic_id = served.resources.ids().codes(item.0);
        serde_json::to_writer(&mut out, &Added { line: *line, id, item: item.0, semantic_id })?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!(
        "added {} items to {} (version {}, {} items, {} removed)",
        added.len(),
        served.overlay_path.display(),
        served.overlay.version,
        served.resources.ids().len(),
        served.overlay.removed.len()
    );
    Ok(())
}

fn remove<B: Backend>(args: &RemoveArgs, device: &B::Device) -> anyhow::Result<()> {
    let (mut served, _lock) = open::<B>(&args.run, device)?;
    let mut refused = Vec::new();
    for id in &args.items {
        if let Err(e) = served.remove(id) {
            refused.push(format!("{e:#}"));
        }
    }
    if !refused.is_empty() {
        bail!("{}; nothing was removed", refused.join("; "));
    }
    served.persist()?;
    println!(
        "removed {} from {} (version {}; {} items can be recommended)",
        super::some_of(&args.items),
        served.overlay_path.display(),
        served.overlay.version,
        served.num_live()
    );
    Ok(())
}

/// Item text to embeddings with the run's sentence encoder, loaded at the first text
/// that needs it.
pub struct Embedder<B: Backend> {
    dir: Option<PathBuf>,
    encoder: Option<text_encoder::SentenceEncoder<B>>,
}

impl<B: Backend> Embedder<B> {
    /// An embedder with the encoder of `dir` (else the run's; see [`AddArgs::encoder`]).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir, encoder: None }
    }

    /// `given` when the item carried an embedding, else its `text` embedded.
    pub fn embedding(
        &mut self,
        text: &str,
        given: Option<Vec<f32>>,
        run_dir: &recdata::RunDir,
        device: &B::Device,
    ) -> anyhow::Result<Vec<f32>> {
        if let Some(e) = given {
            return Ok(e);
        }
        let encoder = match &mut self.encoder {
            Some(e) => e,
            slot => slot.insert(load_encoder::<B>(self.dir.as_deref(), run_dir, device)?),
        };
        let out = encoder.embed_all(&[text], 1, None, |_, _| {})?;
        Ok(out.embeddings.row(0).to_vec())
    }
}

/// The run's sentence encoder: `dir`, else the one its embeddings' manifest names,
/// else the default; refused when it is not the model that made the embeddings.
fn load_encoder<B: Backend>(
    dir: Option<&Path>,
    run_dir: &recdata::RunDir,
    device: &B::Device,
) -> anyhow::Result<text_encoder::SentenceEncoder<B>> {
    let manifest = text_encoder::read_manifest(&run_dir.embeddings()).ok();
    let dir = match (dir, &manifest) {
        (Some(d), _) => d.to_path_buf(),
        (None, Some(m)) if Path::new(&m.model_dir).join("model.safetensors").is_file() => PathBuf::from(&m.model_dir),
        _ => crate::cmd::embed::default_encoder_dir(),
    };
    let encoder = text_encoder::SentenceEncoder::<B>::load(&dir, device).with_context(|| {
        format!(
            "loading the sentence encoder from {} to embed an item's text (give `--encoder DIR`, or an \
             `embedding` with the item)",
            dir.display()
        )
    })?;
    if let Some(m) = manifest
        && m.model_checksum != encoder.model_checksum()
    {
        bail!(
            "{} is not the encoder that made the run's embeddings (model checksum {} vs {}): its vectors \
             would live in another space",
            dir.display(),
            &encoder.model_checksum()[..12.min(encoder.model_checksum().len())],
            &m.model_checksum[..12.min(m.model_checksum.len())]
        );
    }
    Ok(encoder)
}
