//! `specgr data ...`: look at a dataset.

use crate::cmd::DatasetArgs;

/// `specgr data` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Users, items, interactions, examples per split, in-sample and unseen shares.
    Stats {
        /// Which dataset.
        #[command(flatten)]
        dataset: DatasetArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a seeded synthetic dataset as `interactions.csv` + `items.csv` + `dataset.toml`.
    Synth {
        /// The size: `tiny`, `default` (the embedded dataset) or `games` (≈650k interactions, 25k items).
        #[arg(long, value_enum, default_value = "default")]
        size: SynthSize,
        /// The seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The directory to write.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

/// Sizes of the synthetic generator.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SynthSize {
    /// A few hundred users, for tests.
    Tiny,
    /// The embedded default dataset.
    Default,
    /// About the size of Amazon 2023 Games.
    Games,
}

impl SynthSize {
    /// The generator's configuration for this size.
    pub fn config(self) -> recdata::synthetic::SyntheticConfig {
        use recdata::synthetic::SyntheticConfig;
        match self {
            SynthSize::Tiny => SyntheticConfig::tiny(),
            SynthSize::Default => SyntheticConfig::default(),
            SynthSize::Games => SyntheticConfig::games_sized(),
        }
    }
}

/// Runs a `specgr data` subcommand.
pub fn run(command: DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Stats { dataset, json } => {
            let resolved = dataset.load()?;
            let split = resolved.dataset.split(&resolved.split)?;
            let stats = recdata::stats::DatasetStats::new(&resolved.dataset, &split);
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                print!("{}", stats.to_text());
            }
            Ok(())
        }
        DataCommand::Synth { size, seed, out } => {
            let data = size.config().generate(seed)?;
            recdata::export::write_generic_csv(&data, &out)?;
            println!(
                "wrote {} users, {} items, {} interactions to {} (load it with --manifest {})",
                data.num_users(),
                data.num_items(),
                data.interactions.len(),
                out.display(),
                out.join("dataset.toml").display()
            );
            Ok(())
        }
    }
}
