//! `specgr tiger ...`: TIGER checkpoints to and from Hugging Face T5, a checkpoint's
//! validation score as training computes it, and a traced training run for
//! side-by-side comparisons with a T5 trained by `transformers`.
//!
//! - `import-hf`: a safetensors file of HF T5 weight names (a model trained by
//!   `transformers`: `crates/gr-model/tools/hf_t5_train.py`, GRID's, cornac's, ...) into a
//!   TIGER checkpoint directory ([`Tiger::save`]) that `specgr eval` and
//!   [`gr_model::eval::evaluate`] read. Loading is strict ([`gr_model::hf::load_hf_t5`]).
//! - `export-hf`: a checkpoint directory's weights under HF names
//!   ([`gr_model::hf::save_hf_t5`]), for `T5ForConditionalGeneration.load_state_dict`.
//! - `valid`: Recall@K and NDCG@K of a checkpoint directory on the first N validation
//!   (or test) examples with exactly the trainer's code and settings
//!   ([`gr_model::eval::evaluate`], constrained beam search, beam 20, K 10, 64 queries
//!   a batch: [`TrainConfig`]'s defaults).
//! - `trace`: `specgr train tiger` with the same arguments and the same training
//!   ([`gr_model::train`]), which also writes the loss of every step to a CSV, the
//!   run's initial weights under HF names, and the exact token batches of every step
//!   in training order (with each step's learning rate), so a HF T5 can be trained on
//!   the same samples from the same start (`hf_t5_train.py`). `--export-only` writes
//!   the batches and initial weights without training.
//! - `plot-loss`: the loss curves of such runs as a PNG.

mod plot_loss;
mod trace;
mod valid;

use std::path::PathBuf;

use burn::module::Module;
use gr_model::hf::{hf_t5_config, hf_t5_names, load_hf_t5, save_hf_t5};
use gr_model::{Tiger, TigerConfig, TigerPreset};

pub use plot_loss::PlotLossArgs;
pub use trace::{BatchLossArgs, TraceArgs};
pub use valid::{Part, ValidArgs};

/// `specgr tiger` subcommands.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum TigerCommand {
    /// Convert a Hugging Face T5 safetensors file (HF weight names) into a TIGER
    /// checkpoint directory.
    ImportHf(ImportHfArgs),
    /// Write a TIGER checkpoint directory's weights as a safetensors file of HF T5 names.
    ExportHf(ExportHfArgs),
    /// Recall@K and NDCG@K of a checkpoint directory on the first N validation
    /// examples, with the trainer's evaluation code and settings.
    Valid(ValidArgs),
    /// `specgr train tiger`, also writing every step's loss, the initial weights (HF
    /// names) and the exact token batches of every step.
    Trace(TraceArgs),
    /// Draw loss curves (`trace --loss-csv`, `hf_t5_train.py --loss-csv`) as a PNG.
    PlotLoss(PlotLossArgs),
    /// The mean loss of a checkpoint on exported batches (`trace --export-batches`),
    /// without dropout or averaged over dropout masks (`hf_t5_train.py --mean-loss`
    /// computes the same with Hugging Face T5).
    BatchLoss(BatchLossArgs),
}

/// Runs a `specgr tiger` subcommand.
pub fn run(command: TigerCommand) -> anyhow::Result<()> {
    match command {
        TigerCommand::ImportHf(a) => import_hf(&a),
        TigerCommand::ExportHf(a) => export_hf(&a),
        TigerCommand::Valid(a) => crate::with_backend!(a.device, |B, device| valid::run::<B>(&a, &device)),
        TigerCommand::Trace(a) => {
            let _lock = crate::cmd::lock_run_dir(&crate::cmd::train::tiger_run_dir(&a.train)?)?;
            crate::with_backend!(a.train.device, |B, device| trace::run::<B>(&a, &device))
        }
        TigerCommand::PlotLoss(a) => plot_loss::run(&a),
        TigerCommand::BatchLoss(a) => crate::with_backend!(a.device, |B, device| trace::batch_loss::<B>(&a, &device)),
    }
}

/// `specgr tiger import-hf` arguments.
#[derive(Debug, clap::Args)]
pub struct ImportHfArgs {
    /// The safetensors file of HF T5 weight names (`model.safetensors`).
    #[arg(long = "from")]
    pub from: PathBuf,
    /// The model's shape (`specgr train tiger --preset`): tiny, small, games, paper, ...
    #[arg(long)]
    pub preset: TigerPreset,
    /// Vocabulary size: PAD + every digit code + BOS + EOS (1027 for 3 levels of 256
    /// codes plus an identification digit of 256).
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub vocab: usize,
    /// History items the encoder sees (the dataset split's `max_history`).
    #[arg(long, default_value_t = 20, value_parser = crate::cmd::args::positive)]
    pub max_history: usize,
    /// Dropout recorded in the checkpoint's config [default: the preset's]; it matters
    /// only to training.
    #[arg(long, value_parser = crate::cmd::args::dropout)]
    pub dropout: Option<f64>,
    /// The checkpoint directory to write (`config.json`, `model.mpk`).
    #[arg(long)]
    pub out: PathBuf,
}

fn import_hf(args: &ImportHfArgs) -> anyhow::Result<()> {
    let mut config = TigerConfig::preset(args.preset, args.vocab).with_max_history(args.max_history);
    if let Some(p) = args.dropout {
        config = config.with_dropout(p);
    }
    // A file written by `save_hf_t5` names the config it was saved from: say so when
    // the shape differs (the loader then fails on the first weight that does not fit).
    if let Some(saved) = hf_t5_config(&args.from)? {
        let shape = |c: &TigerConfig| {
            (c.vocab_size, c.d_model, c.d_ff, c.d_kv, c.num_heads, c.num_encoder_layers, c.num_decoder_layers)
        };
        if shape(&saved) != shape(&config) {
            eprintln!("note: {} was saved from another shape: {saved:?}", args.from.display());
        }
    }
    let device = Default::default();
    let model = load_hf_t5::<crate::cmd::CpuBackend>(&args.from, &config, &device)?;
    model.save(&args.out)?;
    println!(
        "imported {} HF T5 weights ({} parameters, preset {}) from {} into {}",
        hf_t5_names(&config).len(),
        model.num_params(),
        args.preset.name(),
        args.from.display(),
        args.out.display()
    );
    Ok(())
}

/// `specgr tiger export-hf` arguments.
#[derive(Debug, clap::Args)]
pub struct ExportHfArgs {
    /// A TIGER checkpoint directory (`Tiger::save`: `config.json`, `model.mpk`).
    #[arg(long)]
    pub model: PathBuf,
    /// The safetensors file to write.
    #[arg(long)]
    pub out: PathBuf,
}

fn export_hf(args: &ExportHfArgs) -> anyhow::Result<()> {
    let device = Default::default();
    let model = Tiger::<crate::cmd::CpuBackend>::load(&args.model, &device)?;
    save_hf_t5(&model, &args.out)?;
    println!("wrote {} as HF T5 weights to {}", args.model.display(), args.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<crate::cli::Cli, String> {
        use clap::Parser;
        crate::cli::Cli::try_parse_from(std::iter::once("specgr").chain(line.split_whitespace())).map_err(|e| e.to_string())
    }

    #[test]
    fn the_tiger_subcommands_parse_and_refuse_meaningless_numbers() {
        for ok in [
            "tiger import-hf --from m.safetensors --preset paper --vocab 1027 --out dir",
            "tiger export-hf --model dir --out m.safetensors",
            "tiger valid --dataset beauty-2014-loo --model dir --valid-limit 2000",
            "tiger trace --dataset beauty-2014-loo --preset paper --shards 1 --epochs 1 --loss-csv l.csv --export-only",
            "tiger batch-loss --model dir --batches b.safetensors --draws 4",
            "tiger plot-loss --csv a=a.csv --csv b=b.csv --out p.png",
        ] {
            parse(ok).unwrap_or_else(|e| panic!("`{ok}` refused: {e}"));
        }
        for (bad, flag) in [
            ("tiger import-hf --from m --preset paper --vocab 0 --out d", "--vocab"),
            ("tiger import-hf --from m --preset huge --vocab 9 --out d", "--preset"),
            ("tiger valid --model d --valid-limit 0", "--valid-limit"),
            ("tiger valid --model d --beam-size 0", "--beam-size"),
            ("tiger trace --max-steps 0", "--max-steps"),
            ("tiger plot-loss --csv a.csv --out p.png", "--csv"),
        ] {
            let e = parse(bad).err().unwrap_or_else(|| panic!("`{bad}` accepted"));
            assert!(e.contains(flag), "`{bad}`: {e}");
        }
        // `valid` defaults to the trainer's evaluation settings.
        let Ok(crate::cli::Cli { command: crate::cli::Command::Tiger(TigerCommand::Valid(v)) }) =
            parse("tiger valid --model d")
        else {
            panic!("not a valid command")
        };
        let t = gr_model::TrainConfig::new();
        assert_eq!((v.k, v.beam_size, v.batch_size), (t.eval_k, t.eval_beam_size, t.eval_batch_size));
    }
}
