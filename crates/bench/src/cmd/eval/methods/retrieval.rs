//! A drafter alone (SemanticKNN, UniSRec, the SpecGR++ encoder): its K nearest items,
//! within the request's subset under subset ranking.

use anyhow::Context;
use burn::tensor::backend::Backend;
use drafters::{DraftFilter, Drafter, Query};
use speculative::Request;

use super::super::method::{Method, MethodId, Output};
use super::Resources;
use crate::cmd::specgr_pp::SpecGrPpEval;

/// A drafter's own lists, ready to run.
pub struct Retrieval<'a> {
    id: MethodId,
    drafter: &'a dyn Drafter,
    k: usize,
    batch_size: usize,
}

impl<'a> Retrieval<'a> {
    /// `drafter`'s top `k`, `batch_size` queries at a time.
    pub fn new(id: MethodId, drafter: &'a dyn Drafter, k: usize, batch_size: usize) -> Self {
        Self { id, drafter, k, batch_size }
    }
}

impl Method for Retrieval<'_> {
    fn id(&self) -> MethodId {
        self.id
    }

    fn recommend(&self, requests: &[Request<'_>], progress: &mut dyn FnMut(usize)) -> anyhow::Result<Output> {
        let mut lists = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(self.batch_size.max(1)) {
            let queries: Vec<Query<'_>> = chunk.iter().map(|r| Query::new(r.history)).collect();
            draft_into(&mut lists, self.drafter, chunk, &queries, self.k)?;
            progress(lists.len());
        }
        Ok(Output::scored(lists))
    }
}

/// Appends `drafter`'s top `k` for each of `queries` (one per request of `chunk`),
/// within each request's subset, to `lists`.
fn draft_into(
    lists: &mut Vec<Vec<(recdata::ItemId, f32)>>,
    drafter: &dyn Drafter,
    chunk: &[Request<'_>],
    queries: &[Query<'_>],
    k: usize,
) -> anyhow::Result<()> {
    let filters: Vec<DraftFilter<'_>> = chunk
        .iter()
        .map(|r| match r.allowed {
            Some(a) => DraftFilter::all().allowed(a),
            None => DraftFilter::all(),
        })
        .collect();
    for found in drafter.draft(queries, filters.as_slice(), k)? {
        lists.push(found.into_iter().map(|n| (n.item, n.score)).collect());
    }
    Ok(())
}

/// The SpecGR++ drafter alone: each history through the SpecGR++ encoder and its
/// projection head, then the nearest item vectors by cosine. SpecGR++ drafts from the
/// same vectors (computed there in the verifier's encoder pass); this baseline ranks
/// by them alone, unseen items included.
pub struct EncoderRetrieval<'a, B: Backend> {
    pp: &'a SpecGrPpEval<B>,
    ids: &'a semid::SemanticIds,
    k: usize,
    batch_size: usize,
}

impl<'a, B: Backend> EncoderRetrieval<'a, B> {
    /// The SpecGR++ drafter of `resources`, top `k`, `batch_size` histories per encoder pass.
    pub fn new(resources: &'a Resources<B>, k: usize, batch_size: usize) -> anyhow::Result<Self> {
        Ok(Self { pp: resources.specgr_pp()?, ids: resources.ids(), k, batch_size })
    }
}

impl<B: Backend> Method for EncoderRetrieval<'_, B> {
    fn id(&self) -> MethodId {
        MethodId::SpecgrPpDrafter
    }

    fn recommend(&self, requests: &[Request<'_>], progress: &mut dyn FnMut(usize)) -> anyhow::Result<Output> {
        let mut lists = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(self.batch_size.max(1)) {
            let histories: Vec<Vec<u32>> = chunk.iter().map(|r| r.history.iter().map(|i| i.0).collect()).collect();
            let histories: Vec<&[u32]> = histories.iter().map(Vec::as_slice).collect();
            let encoded = self.pp.model.tiger.encode(&histories, self.ids, &self.pp.device)?;
            let vectors = self.pp.model.query_vectors(&encoded).context("the SpecGR++ encoder's query vectors")?;
            let queries: Vec<Query<'_>> =
                chunk.iter().zip(&vectors).map(|(r, v)| Query::new(r.history).with_vector(v)).collect();
            draft_into(&mut lists, &self.pp.drafter, chunk, &queries, self.k)?;
            progress(lists.len());
        }
        Ok(Output::scored(lists))
    }
}
