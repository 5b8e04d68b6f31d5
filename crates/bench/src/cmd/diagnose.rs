//! `specgr diagnose scores`: how the verifier scores the true next items.
//!
//! SpecGR can only accept an item whose verification score (mean log-probability of
//! its digits; unseen items without the identification digit) exceeds γ. This
//! command scores each example's target under the trained TIGER and reports, for
//! in-sample and unseen targets separately, the score quantiles and the share of
//! targets that would pass each γ — the ceiling on what verification can accept.
//! It also shows where the scores part: the median log-probability of each digit, and
//! for unseen targets how long a code prefix they share with some in-sample item (a
//! code combination TIGER never saw in training is what it scores lowest).


use anyhow::Context;
use gr_model::Tiger;
use semid::{PrefixTrie, SemanticIdModel};

use burn::tensor::backend::Backend;


/// `specgr diagnose` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DiagnoseCommand {
    /// Verification scores of the targets, by subset, against the γ grid.
    Scores(ScoresArgs),
}

/// `specgr diagnose scores` arguments.
#[derive(Debug, clap::Args)]
pub struct ScoresArgs {
    /// The trained run: dataset, semantic IDs, TIGER preset, device, run directory.
    #[command(flatten)]
    pub run: crate::cmd::RunArgs,
    /// `valid` or `test`.
    #[arg(long, default_value = "test")]
    pub part: String,
    /// Use only the first N examples.
    #[arg(long, value_parser = crate::cmd::args::positive)]
    pub limit: Option<usize>,
    /// Queries per batch.
    #[arg(long, default_value_t = 64, value_parser = crate::cmd::args::positive)]
    pub batch_size: usize,
}

/// The `q`-quantile of sorted values.
fn quantile(sorted: &[f32], q: f64) -> f32 {
    if sorted.is_empty() {
        return f32::NAN;
    }
    sorted[((q * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1)]
}

/// Runs a `specgr diagnose` subcommand.
pub fn run(command: DiagnoseCommand) -> anyhow::Result<()> {
    let DiagnoseCommand::Scores(args) = command;
    crate::with_backend!(args.run.device, |B, device| scores_on::<B>(&args, &device))
}

fn scores_on<B: Backend>(args: &ScoresArgs, device: &B::Device) -> anyhow::Result<()> {
    let resolved = args.run.dataset.load()?;
    let split = resolved.dataset.split(&resolved.split)?;
    let run_dir = recdata::RunDir::new(&args.run.runs, &resolved.dataset.name);
    let mut examples = match args.part.as_str() {
        "test" => split.test.clone(),
        "valid" => split.valid.clone(),
        other => anyhow::bail!("--part must be `valid` or `test`, not `{other}`"),
    };
    if let Some(n) = args.limit {
        examples.truncate(n);
    }
    let semid_dir = run_dir.semid(&args.run.ids.name());
    let semid = SemanticIdModel::<B>::load(&semid_dir, device).with_context(|| format!("reading {}", semid_dir.display()))?;
    let ids = semid.ids();
    let layout = ids.layout();
    let digits = layout.num_digits();
    let tiger_dir = run_dir.tiger_best(&args.run.ids.name(), args.run.preset.name());
    let model = Tiger::<B>::load(&tiger_dir, device).with_context(|| format!("loading {}", tiger_dir.display()))?;
    let levels = layout.levels();
    let in_sample = split.in_sample_items();
    let seen = PrefixTrie::build(levels, in_sample.iter().map(|i| (i.0, &ids.codes(i.0)[..levels])))?;
    // [in-sample, unseen] scores, and each digit's log-probabilities.
    let mut scores: [Vec<f32>; 2] = Default::default();
    let mut per_digit: [Vec<Vec<f32>>; 2] = [vec![Vec::new(); digits], vec![Vec::new(); digits]];
    // Unseen targets' scores by the number of code digits they share with an in-sample item.
    let mut by_shared: Vec<Vec<f32>> = vec![Vec::new(); levels + 1];
    for chunk in examples.chunks(args.batch_size.max(1)) {
        let histories: Vec<Vec<u32>> = chunk.iter().map(|e| e.history.iter().map(|i| i.0).collect()).collect();
        let refs: Vec<&[u32]> = histories.iter().map(Vec::as_slice).collect();
        let encoded = model.encode(&refs, ids, device)?;
        let candidates: Vec<Vec<Vec<u32>>> = chunk.iter().map(|e| vec![ids.codes(e.target.0).to_vec()]).collect();
        let s = model.score(&encoded, &candidates, layout)?;
        for (q, e) in chunk.iter().enumerate() {
            let unseen = !split.is_in_sample(e.target);
            // The verification score: the identification digit is left out for unseen items.
            let n = if unseen { digits - 1 } else { digits };
            let score = s.mean(q, 0, n);
            scores[usize::from(unseen)].push(score);
            for (d, &lp) in s.log_probs[q][0].iter().enumerate() {
                per_digit[usize::from(unseen)][d].push(lp);
            }
            if unseen {
                by_shared[seen.shared_prefix_len(&ids.codes(e.target.0)[..levels])].push(score);
            }
        }
    }
    for s in scores.iter_mut().chain(per_digit.iter_mut().flatten()).chain(&mut by_shared) {
        s.sort_by(f32::total_cmp);
    }
    println!("verification scores of the {} targets of {} examples of `{}`", args.part, examples.len(), resolved.dataset.name);
    println!("{:<10} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8}", "subset", "n", "p10", "p25", "median", "p75", "p90");
    for (name, s) in ["in-sample", "unseen"].iter().zip(&scores) {
        println!(
            "{name:<10} {:>6} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            s.len(),
            quantile(s, 0.1),
            quantile(s, 0.25),
            quantile(s, 0.5),
            quantile(s, 0.75),
            quantile(s, 0.9)
        );
    }
    println!("share of targets scoring above γ:");
    print!("{:<10}", "γ");
    let grid = [-1.0f32, -1.2, -1.4, -1.6, -1.8, -2.0, -2.5, -3.0, -4.0, -5.0, -6.0, -8.0];
    for g in grid {
        print!(" {g:>6.1}");
    }
    println!();
    for (name, s) in ["in-sample", "unseen"].iter().zip(&scores) {
        print!("{name:<10}");
        for g in grid {
            let share = s.iter().filter(|&&x| x > g).count() as f64 / s.len().max(1) as f64;
            print!(" {:>5.1}%", 100.0 * share);
        }
        println!();
    }
    println!("median log-probability of each digit (digit {digits} identifies the item; unseen scores leave it out):");
    print!("{:<10}", "subset");
    for d in 1..=digits {
        print!(" {:>8}", format!("digit {d}"));
    }
    println!();
    for (name, lps) in ["in-sample", "unseen"].iter().zip(&per_digit) {
        print!("{name:<10}");
        for lp in lps {
            print!(" {:>8.3}", quantile(lp, 0.5));
        }
        println!();
    }
    println!("unseen targets by the code digits they share with some in-sample item:");
    println!("{:<14} {:>6} {:>7} {:>8}", "shared digits", "n", "share", "median");
    let unseen = scores[1].len().max(1) as f64;
    for (shared, s) in by_shared.iter().enumerate() {
        println!("{shared:<14} {:>6} {:>6.1}% {:>8.3}", s.len(), 100.0 * s.len() as f64 / unseen, quantile(s, 0.5));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_of_sorted_values() {
        let v = [1.0f32, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
