//! `specgr bench train --export-batches`: the timed batches for the PyTorch side.

use std::path::Path;

use anyhow::Context;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use gr_model::{TrainBatch, TrainExample};
use semid::SemanticIds;

use super::{Batching, BenchTrainArgs};

/// Writes `batches` (one round's, in order) as the model sees them (shards 1).
#[allow(clippy::too_many_arguments)]
pub(super) fn export_batches<B: Backend>(
    path: &Path,
    batches: &[Vec<usize>],
    train: &[TrainExample],
    ids: &SemanticIds,
    max_history: usize,
    batching: Batching,
    args: &BenchTrainArgs,
    device: &B::Device,
) -> anyhow::Result<()> {
    use safetensors::{Dtype, tensor::TensorView};
    let count = batches.len();
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let as_bytes = |v: Vec<i64>| v.into_iter().flat_map(i64::to_le_bytes).collect::<Vec<u8>>();
    for (b, rows) in batches.iter().enumerate() {
        let examples: Vec<&TrainExample> = rows.iter().map(|&i| &train[i]).collect();
        let batch = TrainBatch::<B>::new(&examples, ids, max_history, 0, device)?;
        let data = |t: Tensor<B, 2, burn::tensor::Int>| -> anyhow::Result<(Vec<usize>, Vec<i64>)> {
            let d = t.into_data().convert::<i64>();
            let shape = d.shape.clone();
            Ok((shape.to_vec(), d.to_vec::<i64>().map_err(|e| anyhow::anyhow!("{e:?}"))?))
        };
        for (name, t) in
            [("input_ids", batch.source), ("decoder_input_ids", batch.decoder_input), ("labels", batch.labels)]
        {
            let (shape, values) = data(t)?;
            buffers.push((format!("batch.{b}.{name}"), shape, as_bytes(values)));
        }
        let lengths: Vec<i64> = batch.lengths.iter().map(|&l| l as i64).collect();
        buffers.push((format!("batch.{b}.lengths"), vec![lengths.len()], as_bytes(lengths)));
    }
    let views: Vec<(String, TensorView<'_>)> = buffers
        .iter()
        .map(|(name, shape, bytes)| Ok((name.clone(), TensorView::new(Dtype::I64, shape.clone(), bytes)?)))
        .collect::<Result<_, safetensors::SafeTensorError>>()?;
    let layout = ids.layout();
    let meta = serde_json::json!({
        "batching": batching.name(),
        "batches": count,
        "batch_size": args.batch_size,
        "sort_window": args.sort_window,
        "seed": args.seed,
        "vocab_size": layout.vocab_size(),
        "pad": layout.pad(),
        "num_digits": layout.num_digits(),
        "max_history": max_history,
        "dataset": args.dataset.dataset,
        "ids": args.ids.name(),
        "git_revision": crate::report::git_revision(),
    });
    let metadata = std::collections::HashMap::from([("export".to_owned(), meta.to_string())]);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    safetensors::serialize_to_file(views, Some(metadata), path)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {count} {} batches to {}", batching.name(), path.display());
    Ok(())
}
