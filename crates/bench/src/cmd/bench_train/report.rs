//! `specgr bench train`'s report: one row a configuration, as JSON and as a table.

use gr_model::TigerConfig;

use super::{Batching, RunSpec};
use crate::machine::Machine;

/// What the benchmark reports for one configuration.
#[derive(Debug, serde::Serialize)]
pub(super) struct RunReport {
    pub(super) config: RunSpec,
    pub(super) preset: &'static str,
    pub(super) batching: Batching,
    pub(super) shards: usize,
    pub(super) params: usize,
    pub(super) model: TigerConfig,
    pub(super) rounds_samples_per_sec: Vec<f64>,
    pub(super) median_samples_per_sec: f64,
    pub(super) min_samples_per_sec: f64,
    pub(super) max_samples_per_sec: f64,
    pub(super) ratio_to_baseline: f64,
    pub(super) real_tokens_per_sample: f64,
    pub(super) padded_tokens_per_sample: f64,
    pub(super) epoch_real_tokens_per_sample: f64,
    pub(super) epoch_padded_tokens_per_sample: f64,
    pub(super) train_gflop_per_sample_real: f64,
    pub(super) gflops_real: f64,
    pub(super) gflops_padded: f64,
    pub(super) share_of_peak_real: f64,
}

#[derive(Debug, serde::Serialize)]
pub(super) struct MatmulRate {
    pub(super) shape: String,
    pub(super) gflops: f64,
}

#[derive(Debug, serde::Serialize)]
pub(super) struct Report {
    pub(super) command: String,
    pub(super) git_revision: String,
    pub(super) build_profile: &'static str,
    pub(super) device: String,
    pub(super) rayon_num_threads: Option<String>,
    pub(super) dataset: String,
    pub(super) ids: String,
    pub(super) train_examples: usize,
    pub(super) batch_size: usize,
    pub(super) sort_window: usize,
    pub(super) rounds: usize,
    pub(super) steps: usize,
    pub(super) sorted_steps: usize,
    pub(super) warmup_rows: usize,
    pub(super) lr: f64,
    pub(super) weight_decay: f64,
    pub(super) seed: u64,
    pub(super) baseline: RunSpec,
    pub(super) matmul: Vec<MatmulRate>,
    pub(super) matmul_peak_gflops: f64,
    pub(super) runs: Vec<RunReport>,
    pub(super) machine: Machine,
    pub(super) unix_time: u64,
}

pub(super) fn print_table(report: &Report) {
    println!(
        "{} {} ({}), {} rounds of {} steps ({} sorted), batch {}, seed {}, git {}, {} build, {}",
        report.dataset,
        report.ids,
        report.device,
        report.rounds,
        report.steps,
        report.sorted_steps,
        report.batch_size,
        report.seed,
        report.git_revision,
        report.build_profile,
        report.machine
    );
    println!(
        "matmul peak {:.1} GFLOP/s (best of: {})",
        report.matmul_peak_gflops,
        report.matmul.iter().map(|m| format!("{} {:.1}", m.shape, m.gflops)).collect::<Vec<_>>().join(", ")
    );
    println!();
    println!(
        "| config | samples/s (median) | min–max | vs {} | real tok/sample | padded tok/sample | (epoch: real, padded) | GFLOP/s (real) | of peak |",
        report.baseline
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &report.runs {
        println!(
            "| {} | {:.1} | {:.1}–{:.1} | {:.2}x | {:.1} | {:.1} | {:.1}, {:.1} | {:.1} | {:.0} % |",
            r.config,
            r.median_samples_per_sec,
            r.min_samples_per_sec,
            r.max_samples_per_sec,
            r.ratio_to_baseline,
            r.real_tokens_per_sample,
            r.padded_tokens_per_sample,
            r.epoch_real_tokens_per_sample,
            r.epoch_padded_tokens_per_sample,
            r.gflops_real,
            100.0 * r.share_of_peak_real
        );
    }
}

pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}
