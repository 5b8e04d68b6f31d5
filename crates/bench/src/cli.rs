//! The `specgr` command line: its argument types and the dispatch to [`crate::cmd`].
//!
//! It lives in the library (not in `main.rs`) so that tests can parse command lines
//! with `Cli::try_parse_from` and check which ones are refused.

use clap::Parser;

use crate::cmd;

/// SpecGR: inductive generative recommendation by retrieval-based speculation.
#[derive(Debug, Parser)]
#[command(name = "specgr", version, about)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The `specgr` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
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
    /// Recommend from a saved run: top-K items for histories given as JSON lines
    /// (`{"history": [item ids]}`), with scores and whether each item is unseen.
    Recommend(cmd::serving::recommend::RecommendArgs),
    /// Add or remove catalog items without retraining (`specgr recommend` sees them).
    #[command(subcommand)]
    Items(cmd::serving::items::ItemsCommand),
    /// Serve recommendations and catalog changes over HTTP (127.0.0.1:7878 by default).
    Serve(cmd::serving::serve::ServeArgs),
    /// Load-test `specgr serve` on loopback: p50/p99 latency and throughput per method
    /// and client count, and recommendations while items are added (none lost).
    Loadtest(cmd::serving::loadtest::LoadtestArgs),
    /// Tune each SpecGR method's γ on the validation part (a grid search); `eval` then
    /// uses the tuned γ by default.
    Tune(cmd::tune::TuneArgs),
    /// Look inside a trained model (e.g. how it scores the true next items).
    #[command(subcommand)]
    Diagnose(cmd::diagnose::DiagnoseCommand),
    /// Measure speed and memory.
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
    /// Draw PNG figures (e.g. a sweep from `cargo xtask sweep`, like the paper's Figure 3).
    #[command(subcommand)]
    Plot(cmd::plot::PlotCommand),
    /// TIGER checkpoints to and from Hugging Face T5, validation of a checkpoint, traced training.
    #[command(subcommand)]
    Tiger(cmd::tiger::TigerCommand),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Data(c) => cmd::data::run(c),
        Command::Bench(c) => cmd::bench::run(c),
        Command::Diagnose(c) => cmd::diagnose::run(c),
        Command::Embed(a) => cmd::embed::run(a),
        Command::Semid(c) => cmd::semid::run(c),
        Command::Train(c) => {
            // TIGER and UniSRec training lock their run directory here, before they start.
            let _lock = cmd::train_lock(&c)?;
            cmd::train::run(c)
        }
        Command::Eval(a) => cmd::eval::run(a),
        Command::Tune(a) => cmd::tune::run(a),
        Command::Recommend(a) => cmd::serving::recommend::run(a),
        Command::Items(c) => cmd::serving::items::run(c),
        Command::Serve(a) => cmd::serving::serve::run(a),
        Command::Loadtest(a) => cmd::serving::loadtest::run(a),
        Command::Plot(c) => cmd::plot::run(c),
        Command::Tiger(c) => cmd::tiger::run(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(line: &str) -> String {
        let args = std::iter::once("specgr").chain(line.split_whitespace());
        match Cli::try_parse_from(args) {
            Ok(cli) => panic!("`specgr {line}` was accepted: {cli:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn accepted(line: &str) -> Cli {
        let args = std::iter::once("specgr").chain(line.split_whitespace());
        Cli::try_parse_from(args).unwrap_or_else(|e| panic!("`specgr {line}` was refused: {e}"))
    }

    /// Every numeric argument that would give a meaningless result is refused at parse
    /// time (#20 §4), naming the flag and saying why.
    #[test]
    fn meaningless_numeric_arguments_are_refused_with_a_reason() {
        let cases = [
            ("eval --subset-size 0", "--subset-size", "at least 2"),
            ("eval --subset-size 1", "--subset-size", "every metric would read 1"),
            ("eval --k 0", "--k", "at least 1"),
            ("eval --limit 0", "--limit", "at least 1"),
            ("eval --sample 0", "--sample", "at least 1"),
            ("eval --epsilon 1.5", "--epsilon", "between 0 and 1"),
            ("eval --epsilon -0.1", "--epsilon", "between 0 and 1"),
            ("eval --epsilon NaN", "--epsilon", "finite"),
            ("eval --threshold inf", "--threshold", "finite"),
            ("eval --threshold -inf", "--threshold", "finite"),
            ("eval --threshold NaN", "--threshold", "finite"),
            ("eval --method-threshold specgr-knn=-inf", "--method-threshold", "finite"),
            ("eval --method-threshold specgr-knn=NaN", "--method-threshold", "finite"),
            ("eval --method-threshold tiger=-2", "--method-threshold", "only specgr-knn, specgr-aux, specgr-pp"),
            ("eval --methods specgr-unisrecc", "--methods", "specgr-aux"),
            ("eval --method-beam-size specgr-pp=0", "--method-beam-size", "at least 1"),
            ("train tiger --train-last 0", "--train-last", "at least 1"),
            ("train tiger --train-last 5 --train-limit 5", "--train-last", "cannot be used with"),
            ("eval --method-beam-size tiger=20", "--method-beam-size", "has no beam size: only specgr-knn"),
            ("eval --method-draft-size specgr-aux=-1", "--method-draft-size", "whole number"),
            ("eval --method-draft-size specgr-aux", "--method-draft-size", "expected METHOD=δ"),
            ("tune --gammas=-1,NaN", "--gammas", "finite"),
            ("tune --limit 0", "--limit", "at least 1"),
            ("tune --k 0", "--k", "at least 1"),
            ("tune --metric ndcg@20", "--metric", "ndcg@50"),
            ("eval --batch-size 0", "--batch-size", "at least 1"),
            ("eval --beam-size 0", "--beam-size", "at least 1"),
            ("eval --repeat 0", "--repeat", "at least 1"),
            ("eval --score-chunk 0", "--score-chunk", "at least 1"),
            ("eval --ensemble-weight 2", "--ensemble-weight", "between 0 and 1"),
            ("diagnose scores --limit 0", "--limit", "at least 1"),
            ("diagnose scores --batch-size 0", "--batch-size", "at least 1"),
            ("embed --batch-size 0", "--batch-size", "at least 1"),
            ("embed --threads 0", "--threads", "at least 1"),
            ("semid fit --codebook-size 0", "--codebook-size", "at least 1"),
            ("semid fit --levels 0", "--levels", "1 to 64"),
            ("semid fit --levels 65", "--levels", "1 to 64"),
            ("semid fit --epochs 0", "--epochs", "at least 1"),
            ("train tiger --epochs 0", "--epochs", "at least 1"),
            ("train tiger --batch-size 0", "--batch-size", "at least 1"),
            ("train tiger --shards 0", "--shards", "at least 1"),
            ("train tiger --eval-every 0", "--eval-every", "at least 1"),
            ("train tiger --valid-limit 0", "--valid-limit", "at least 1"),
            ("train tiger --train-limit 0", "--train-limit", "at least 1"),
            ("train tiger --patience 0", "--patience", "at least 1"),
            ("train tiger --warmup-steps 0", "--warmup-steps", "read as the default"),
            ("train tiger --lr 0", "--lr", "greater than 0"),
            ("train tiger --lr inf", "--lr", "finite"),
            ("train tiger --weight-decay -1", "--weight-decay", "0 or more"),
            ("train tiger --dropout 1", "--dropout", "[0, 1)"),
            ("train tiger --checkpoint-minutes NaN", "--checkpoint-minutes", "finite"),
            ("train tiger --adam-epsilon 0", "--adam-epsilon", "greater than 0"),
            ("train tiger --train-sample 0", "--train-sample", "at least 1"),
            ("train tiger --valid-sample 0", "--valid-sample", "at least 1"),
            ("train tiger --valid-sample 5 --valid-limit 5", "--valid-sample", "cannot be used with"),
            ("train tiger --train-sample 5 --train-limit 5", "--train-sample", "cannot be used with"),
            ("train unisrec --train-sample 0", "--train-sample", "at least 1"),
            ("train tiger --grad-clip both", "--grad-clip", "per-tensor, global"),
            ("train unisrec --epochs 0", "--epochs", "at least 1"),
            ("train unisrec --batch-size 0", "--batch-size", "at least 1"),
            ("train specgr++ --emb-batch-size 0", "--emb-batch-size", "at least 1"),
            ("train specgr++ --gen-batch-size 0", "--gen-batch-size", "at least 1"),
            ("train specgr++ --stage1-lr 0", "--stage1-lr", "greater than 0"),
            ("train specgr++ --stage2-lr NaN", "--stage2-lr", "finite"),
            ("train specgr++ --proj-dim 0", "--proj-dim", "at least 1"),
            ("train specgr++ --train-limit 0", "--train-limit", "at least 1"),
            ("train specgr++ --valid-limit 0", "--valid-limit", "at least 1"),
            ("bench data --repeat 0", "--repeat", "at least 1"),
            ("bench train --steps 0", "--steps", "at least 1"),
            ("bench train --sorted-steps 0", "--sorted-steps", "at least 1"),
            ("bench train --batch-size 0", "--batch-size", "at least 1"),
            ("bench train --sort-window 0", "--sort-window", "at least 1"),
            ("bench train --lr 0", "--lr", "greater than 0"),
            ("bench train --lr NaN", "--lr", "finite"),
            ("bench train --weight-decay -1", "--weight-decay", "0 or more"),
            ("bench train --dropout 1", "--dropout", "[0, 1)"),
            ("bench train --peak-rows 0", "--peak-rows", "at least 1"),
        ];
        for (line, flag, why) in cases {
            let message = refused(line);
            assert!(message.contains(flag) && message.contains(why), "`specgr {line}`:\n{message}");
        }
    }

    #[test]
    fn meaningful_values_still_parse() {
        accepted("eval --k 10 --epsilon 0 --threshold -2.5 --subset-size 100 --limit 5 --sample 3 --ensemble-weight 1");
        accepted("eval --draft-size 0 --method-threshold specgr-knn=-3");
        accepted("eval --method-draft-size specgr-aux=20,specgr-pp=0 --method-beam-size specgr-unisrec=100");
        // The old id of SpecGR_Aux still works, on the command line and in --method-threshold.
        accepted("eval --methods specgr-unisrec,specgr-aux,specgr++ --method-threshold specgr-unisrec=-3");
        accepted("tune --gammas=-1.5,-3 --methods specgr-aux --sample 0 --metric recall@10");
        accepted("bench train --rounds 0 --warmup-rows 0 --weight-decay 0 --dropout 0");
        accepted("train tiger --epochs 1 --shards 1 --warmup-steps 1 --dropout 0 --weight-decay 0 --checkpoint-minutes 0");
        accepted("train specgr++ --stage1-epochs 0 --stage2-epochs 0");
        accepted("semid fit --levels 64");
    }

    /// Every training budget shows its default in `--help`, and the shown value is the
    /// one the trainer uses (issue #21 §3: `--epochs` showed none).
    #[test]
    fn help_shows_the_defaults_the_trainers_use() {
        use clap::CommandFactory;
        let tiger = gr_model::TrainConfig::new();
        let unisrec = drafters::unisrec::UniSRecTrainConfig::new();
        let (s1, s2) = (gr_model::SpecGrPpTrainConfig::stage1(), gr_model::SpecGrPpTrainConfig::stage2());
        let rqvae = semid::RqVaeTrainConfig::new();
        let cases: [(&[&str], &str, String); 17] = [
            (&["train", "tiger"], "epochs", tiger.max_epochs.to_string()),
            (&["train", "tiger"], "batch_size", tiger.batch_size.to_string()),
            (&["train", "tiger"], "eval_every", tiger.eval_every.to_string()),
            (&["train", "tiger"], "lr", format!("{:e}", tiger.lr)),
            (&["train", "tiger"], "weight_decay", tiger.weight_decay.to_string()),
            (&["train", "unisrec"], "epochs", unisrec.max_epochs.to_string()),
            (&["train", "unisrec"], "batch_size", unisrec.batch_size.to_string()),
            (&["train", "unisrec"], "patience", unisrec.patience.to_string()),
            (&["train", "unisrec"], "checkpoint_minutes", unisrec.checkpoint_minutes.to_string()),
            (&["train", "specgr++"], "stage1_epochs", s1.max_epochs.to_string()),
            (&["train", "specgr++"], "stage2_epochs", s2.max_epochs.to_string()),
            (&["train", "specgr++"], "emb_batch_size", s1.emb_batch_size.to_string()),
            (&["train", "specgr++"], "gen_batch_size", s1.gen_batch_size.to_string()),
            (&["train", "specgr++"], "stage1_lr", format!("{:e}", s1.lr)),
            (&["train", "specgr++"], "micro_batch", s1.micro_batch.to_string()),
            (&["train", "specgr++"], "checkpoint_minutes", s1.checkpoint_minutes.to_string()),
            (&["semid", "fit"], "epochs", rqvae.epochs.to_string()),
        ];
        let root = Cli::command();
        for (path, arg, default) in cases {
            let cmd = path.iter().fold(&root, |c, name| c.find_subcommand(name).unwrap_or_else(|| panic!("{name}")));
            let a = cmd.get_arguments().find(|a| a.get_id() == arg).unwrap_or_else(|| panic!("{path:?} {arg}"));
            let help = a.get_long_help().or(a.get_help()).map(ToString::to_string).unwrap_or_default();
            assert!(help.contains(&format!("[default: {default}")), "{path:?} --{arg}: `{help}` should show [default: {default}]");
        }
    }
}
