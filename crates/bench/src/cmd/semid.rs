//! `specgr semid fit`: semantic IDs from item embeddings.

use std::path::PathBuf;

use anyhow::Context;
use semid::{FitConfig, FitProgress, Method};

use burn::tensor::backend::Backend;

use crate::cmd::{DatasetArgs, progress_bar};

/// `specgr semid` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SemidCommand {
    /// Fit a quantizer on the in-sample items' embeddings and give every item its ID.
    Fit(FitArgs),
}

/// `specgr semid fit` arguments.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// Which dataset (its embeddings must exist: run `specgr embed` first).
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// `rqvae`, `rqkmeans` or `hkmeans`.
    #[arg(long, default_value = "rqvae")]
    pub method: Method,
    /// Codes per level (K).
    #[arg(long, default_value_t = 256, value_parser = crate::cmd::args::positive)]
    pub codebook_size: usize,
    /// Code levels, before the identification digit is appended (the reference's 3 gives
    /// 4-digit IDs). Other than 3, the IDs go to `semid/<method>-l<levels>/`, and other
    /// commands read them with `--ids <method>-l<levels>`.
    #[arg(long, default_value_t = crate::cmd::IdsName::DEFAULT_LEVELS, value_parser = parse_levels)]
    pub levels: usize,
    /// The seed of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// RQ-VAE training epochs [default: 20].
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub epochs: Option<usize>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Refit even when `<out>/fit-stamp.json` says these settings were already fitted
    /// on these embeddings.
    #[arg(long)]
    pub force: bool,
    /// Where to compute: `cpu`, or `wgpu` / `cuda` / `tch` in builds with that feature.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: crate::cmd::backend::DeviceKind,
    /// The run directory: reads `<runs>/<dataset>/embeddings/`, writes `<runs>/<dataset>/semid/<method>/`.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
}

/// Parses `--levels`: 1 to [`IdsName::MAX_LEVELS`](crate::cmd::IdsName::MAX_LEVELS).
fn parse_levels(s: &str) -> Result<usize, String> {
    let max = crate::cmd::IdsName::MAX_LEVELS;
    match crate::cmd::args::whole(s)? {
        n @ 1.. if n <= max => Ok(n),
        _ => Err(format!("must be 1 to {max} code levels")),
    }
}

/// Runs a `specgr semid` subcommand.
pub fn run(command: SemidCommand) -> anyhow::Result<()> {
    let SemidCommand::Fit(args) = command;
    crate::with_backend!(args.device, |B, device| fit_on::<B>(&args, &device))
}

fn fit_on<B: Backend>(args: &FitArgs, device: &B::Device) -> anyhow::Result<()> {
    let resolved = args.dataset.load()?;
    let split = resolved.dataset.split(&resolved.split)?;
    let run_dir = recdata::RunDir::new(&args.runs, &resolved.dataset.name);
    let emb_path = run_dir.embeddings_file();
    let data = crate::cmd::identity::DatasetIdentity::new(&resolved.dataset, &args.dataset);
    let embeddings = crate::cmd::identity::load_embeddings(&run_dir, &data)?;
    // Refitting changes the IDs that trained models were trained on, so a fit with the
    // same settings on the same embeddings and data is kept (the stamp is written last,
    // and removed before a refit, so an interrupted refit is never taken for a fit).
    let max = crate::cmd::IdsName::MAX_LEVELS;
    anyhow::ensure!((1..=max).contains(&args.levels), "--levels {}: 1 to {max} code levels", args.levels);
    let ids_name = crate::cmd::IdsName::new(args.method, args.levels);
    let out = run_dir.semid(&ids_name.name());
    let _lock = crate::cmd::lock_run_dir(&out)?;
    let stamp_path = out.join(crate::cmd::identity::FIT_STAMP);
    let mut settings = serde_json::json!({
        "method": args.method.name(),
        "codebook_size": args.codebook_size,
        "seed": args.seed,
        "epochs": args.epochs,
        "in_sample_items": split.in_sample.iter().filter(|&&b| b).count(),
        "embeddings_sha256": text_encoder::sha256_file(&emb_path)?,
    });
    // Only other than three levels are stamped, so stamps written before `--levels`
    // existed still match.
    if let Some(levels) = ids_name.levels {
        settings["levels"] = levels.into();
    }
    if !args.force {
        match crate::cmd::identity::fit_is_current(&out, &settings, &data)? {
            Ok(()) => {
                println!(
                    "semantic IDs in {} were fitted with these settings on these embeddings; kept (--force refits)",
                    out.display()
                );
                return Ok(());
            }
            Err(why) if stamp_path.exists() => println!("refitting the semantic IDs in {}: {why}", out.display()),
            Err(_) => {}
        }
    }
    match std::fs::remove_file(&stamp_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("removing {} before refitting", stamp_path.display()));
        }
        _ => {}
    }
    let matrix = semid::EmbeddingMatrix::new(embeddings.as_slice().to_vec(), embeddings.dim())?;
    let mut config = FitConfig::new(args.method);
    config.codebook_size = args.codebook_size;
    config.levels = args.levels;
    config.seed = args.seed;
    if let Some(epochs) = args.epochs {
        config.rqvae_train = config.rqvae_train.clone().with_epochs(epochs);
    }
    let bar = progress_bar(config.rqvae_train.epochs as u64, "fitting");
    let mut progress = |p: &FitProgress| match p {
        FitProgress::Fitting { method } => bar.set_message(format!("fitting {method}")),
        FitProgress::Epoch(_) => bar.inc(1),
        FitProgress::Encoding { .. } => bar.set_message("encoding items"),
    };
    let (model, report) =
        semid::fit::<burn::backend::Autodiff<B>>(&config, &matrix, &split.in_sample, device, &mut progress)?;
    bar.finish_and_clear();
    model.save(&out)?;
    let ids_sha256 = crate::cmd::identity::sha256_file(&out.join(crate::cmd::identity::IDS_FILE))?;
    let stamp = crate::cmd::identity::fit_stamp(settings, &data, &ids_sha256);
    recdata::fsio::write_atomic(&stamp_path, stamp.as_bytes())?;
    for warning in report.warnings() {
        tracing::warn!("{}: {warning}", out.display());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
        println!("saved to {}", out.display());
    }
    Ok(())
}
