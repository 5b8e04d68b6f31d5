//! `specgr`: the SpecGR command-line tool.

use clap::Parser;

use bench::cmd;

/// SpecGR: inductive generative recommendation by retrieval-based speculation.
#[derive(Debug, Parser)]
#[command(name = "specgr", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Look at a dataset.
    #[command(subcommand)]
    Data(cmd::data::DataCommand),
    /// Embed item text with a sentence encoder (or one `--text`).
    Embed(cmd::embed::EmbedArgs),
    /// Semantic IDs: fit RQ-VAE, residual k-means or hierarchical k-means.
    #[command(subcommand)]
    Semid(cmd::semid::SemidCommand),
    /// Train a model.
    #[command(subcommand)]
    Train(cmd::train::TrainCommand),
    /// Evaluate methods: Recall/NDCG overall, in-sample and unseen.
    Eval(cmd::eval::EvalArgs),
    /// Look inside a trained model (e.g. how it scores the true next items).
    #[command(subcommand)]
    Diagnose(cmd::diagnose::DiagnoseCommand),
    /// Measure speed and memory.
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
    /// Draw PNG figures (e.g. a sweep from `cargo xtask sweep`, like the paper's Figure 3).
    #[command(subcommand)]
    Plot(cmd::plot::PlotCommand),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Data(c) => cmd::data::run(c),
        Command::Bench(c) => cmd::bench::run(c),
        Command::Diagnose(c) => cmd::diagnose::run(c),
        Command::Embed(a) => cmd::embed::run(a),
        Command::Semid(c) => cmd::semid::run(c),
        Command::Train(c) => cmd::train::run(c),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Plot(c) => cmd::plot::run(c),
    }
}
