//! Quality of the drafters alone on Beauty (80/10/10 chronological split):
//! Recall and NDCG at 10 and 50, overall, on in-sample and on unseen test targets.
//!
//! ```text
//! cargo run --release -p drafters --example beauty_quality -- \
//!     [--data ../shared/data] [--embeddings runs/beauty-2014/embeddings] \
//!     [--unisrec-dir runs/beauty-2014/unisrec] [--epochs 20] [--patience 3] [--seed 42] [--batch 2048] [--skip-unisrec]
//! ```
//! Item text embeddings come from the text-encoder cache (row i = item i).

use std::path::PathBuf;
use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use drafters::unisrec::{EvalMetrics, UniSRecData, evaluate};
use drafters::{Drafter, EmbeddingTable, KnnConfig, SemanticKnn, SemanticKnnConfig, UniSRec, UniSRecConfig, UniSRecTrainConfig, train_unisrec};
use recdata::{Example, ItemId};

type Error = Box<dyn std::error::Error>;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn row(name: &str, part: &str, m: &EvalMetrics) {
    println!(
        "| {name} | {part} | {} | {:.4} | {:.4} | {:.4} | {:.4} |",
        m.examples, m.recall_10, m.ndcg_10, m.recall_50, m.ndcg_50
    );
}

fn report(name: &str, drafter: &dyn Drafter, test: &[Example], in_sample: &dyn Fn(ItemId) -> bool) -> Result<(), Error> {
    let t = Instant::now();
    let ranks = evaluate(drafter, test)?;
    let secs = t.elapsed().as_secs_f64();
    let pick = |f: &dyn Fn(&Example) -> bool| -> Vec<Option<usize>> {
        test.iter().zip(&ranks).filter(|(e, _)| f(e)).map(|(_, r)| *r).collect()
    };
    row(name, "overall", &EvalMetrics::from_ranks(&ranks));
    row(name, "in-sample", &EvalMetrics::from_ranks(&pick(&|e| in_sample(e.target))));
    row(name, "unseen", &EvalMetrics::from_ranks(&pick(&|e| !in_sample(e.target))));
    eprintln!("{name}: evaluated {} test examples in {secs:.1} s ({:.3} ms/query)", test.len(), secs * 1e3 / test.len() as f64);
    Ok(())
}

fn main() -> Result<(), Error> {
    let data = PathBuf::from(arg("--data").or_else(|| std::env::var("SPECGR_DATA").ok()).unwrap_or_else(|| "../shared/data".into()));
    let emb_dir = PathBuf::from(arg("--embeddings").unwrap_or_else(|| "runs/beauty-2014/embeddings".into()));
    let unisrec_dir = PathBuf::from(arg("--unisrec-dir").unwrap_or_else(|| "runs/beauty-2014/unisrec".into()));
    let epochs: usize = arg("--epochs").map_or(Ok(20), |s| s.parse())?;
    let patience: usize = arg("--patience").map_or(Ok(3), |s| s.parse())?;
    let seed: u64 = arg("--seed").map_or(Ok(42), |s| s.parse())?;
    let batch: usize = arg("--batch").map_or(Ok(2048), |s| s.parse())?;

    let resolved = recdata::load_dataset("beauty-2014", &data)?;
    let dataset = resolved.dataset;
    let split = dataset.split(&resolved.split)?;
    let (emb, _) = text_encoder::Embeddings::load(&emb_dir.join(text_encoder::EMBEDDINGS_FILE))?;
    if emb.len() != dataset.catalog.len() {
        return Err(format!("{} embeddings for {} items", emb.len(), dataset.catalog.len()).into());
    }
    let items: Vec<ItemId> = (0..emb.len() as u32).map(ItemId).collect();
    let in_sample = |i: ItemId| split.is_in_sample(i);
    eprintln!(
        "beauty-2014: {} items ({} in-sample), train {} / valid {} / test {} examples, {}-d embeddings",
        items.len(),
        split.num_in_sample(),
        split.train.len(),
        split.valid.len(),
        split.test.len(),
        emb.dim()
    );
    println!("| drafter | targets | examples | Recall@10 | NDCG@10 | Recall@50 | NDCG@50 |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");

    let knn = SemanticKnn::new(SemanticKnnConfig::new(emb.dim()), &items, emb.as_slice())?;
    report("SemanticKNN", &knn, &split.test, &in_sample)?;

    if std::env::args().any(|a| a == "--skip-unisrec") {
        return Ok(());
    }
    let table = EmbeddingTable::from_rows(emb.dim(), emb.as_slice())?;
    let in_sample_items = split.in_sample_items();
    let config = UniSRecConfig::new(emb.dim());
    let train = UniSRecTrainConfig::new().with_max_epochs(epochs).with_patience(patience).with_seed(seed).with_batch_size(batch);
    let device = Default::default();
    let t = Instant::now();
    let data = UniSRecData { text: &table, in_sample: &in_sample_items, train: &split.train, valid: &split.valid };
    let (model, rep) = train_unisrec::<Autodiff<Flex>>(&config, &train, data, &device, Some(&unisrec_dir), &mut |p| {
        if let Some(v) = p.valid {
            eprintln!("epoch {} loss {:.4} valid ndcg@10 {:.4} recall@50 {:.4}", p.epoch, p.loss, v.ndcg_10, v.recall_50);
        } else if p.step % 10 == 0 {
            eprintln!("epoch {} step {}/{} loss {:.4}", p.epoch, p.step, p.steps, p.loss);
        }
        std::ops::ControlFlow::Continue(())
    })?;
    eprintln!(
        "unisrec: {} epochs, best {} ({:?}), {:.1} samples/s, {:.0} s",
        rep.epochs,
        rep.best_epoch,
        rep.best_valid,
        rep.samples_per_sec,
        t.elapsed().as_secs_f64()
    );
    let unisrec = UniSRec::<Flex>::new(config, model, KnnConfig::new(0), &device, &items, emb.as_slice())?;
    report("UniSRec", &unisrec, &split.test, &in_sample)?;
    Ok(())
}
