//! `specgr bench ...`: measurements recorded under `experiments/results/`.

use std::time::Instant;

use crate::cmd::DatasetArgs;
use crate::machine::Machine;

/// `specgr bench` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Time loading and splitting a dataset; report wall times and peak memory.
    Data {
        /// Which dataset.
        #[command(flatten)]
        dataset: DatasetArgs,
        /// Repetitions (the first one also warms the page cache).
        #[arg(long, default_value_t = 3, value_parser = crate::cmd::args::positive)]
        repeat: usize,
    },
    /// Training samples/s of TIGER's real step on real data, configurations side by
    /// side in interleaved rounds (preset, shuffled or length-sorted batches, shards).
    Train(crate::cmd::bench_train::BenchTrainArgs),
    /// Training samples/s of SpecGR++'s real step (stage 1 or 2) on real data, encoder
    /// micro-batch sizes side by side in interleaved rounds.
    #[command(name = "specgr-pp")]
    SpecGrPp(crate::cmd::bench_specgr_pp::BenchSpecGrPpArgs),
}

/// One measurement of `bench data`.
#[derive(Debug, serde::Serialize)]
struct DataBench {
    dataset: String,
    interactions: usize,
    items: usize,
    load_s: Vec<f64>,
    split_s: Vec<f64>,
    total_best_s: f64,
    peak_rss_mib: Option<f64>,
    machine: Machine,
}

/// Runs a `specgr bench` subcommand.
pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Train(args) => crate::cmd::bench_train::run(args),
        BenchCommand::SpecGrPp(args) => crate::cmd::bench_specgr_pp::run(args),
        BenchCommand::Data { dataset, repeat } => {
            let (mut load_s, mut split_s) = (Vec::new(), Vec::new());
            let mut last = None;
            for _ in 0..repeat {
                let t = Instant::now();
                let resolved = dataset.load()?;
                load_s.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                let split = resolved.dataset.split(&resolved.split)?;
                split_s.push(t.elapsed().as_secs_f64());
                last = Some((resolved.dataset, split));
            }
            let (data, _) = last.expect("at least one repetition");
            let total_best_s = load_s.iter().zip(&split_s).map(|(a, b)| a + b).fold(f64::INFINITY, f64::min);
            let report = DataBench {
                dataset: data.name.clone(),
                interactions: data.interactions.len(),
                items: data.num_items(),
                load_s,
                split_s,
                total_best_s,
                peak_rss_mib: Machine::peak_rss_mib(),
                machine: Machine::current(),
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
    }
}
