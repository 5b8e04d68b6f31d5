//! A drafter alone (SemanticKNN, UniSRec): its K nearest items, within the request's
//! subset under subset ranking.

use drafters::{DraftFilter, Drafter, Query};
use speculative::Request;

use super::super::method::{Method, MethodId, Output};

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
            let filters: Vec<DraftFilter<'_>> = chunk
                .iter()
                .map(|r| match r.allowed {
                    Some(a) => DraftFilter::all().allowed(a),
                    None => DraftFilter::all(),
                })
                .collect();
            for found in self.drafter.draft(&queries, &filters, self.k)? {
                lists.push(found.into_iter().map(|n| (n.item, n.score)).collect());
            }
            progress(lists.len());
        }
        Ok(Output::scored(lists))
    }
}
