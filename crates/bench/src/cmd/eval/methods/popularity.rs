//! Popularity alone: the same ranked list for every request, within the request's
//! subset under subset ranking.

use drafters::Popularity;
use speculative::Request;

use super::super::method::{Method, MethodId, Output};

/// The most popular items, ready to run.
pub struct PopularityList<'a> {
    counts: &'a Popularity,
    k: usize,
}

impl<'a> PopularityList<'a> {
    /// The top `k` of `counts`.
    pub fn new(counts: &'a Popularity, k: usize) -> Self {
        Self { counts, k }
    }
}

impl Method for PopularityList<'_> {
    fn id(&self) -> MethodId {
        MethodId::Popularity
    }

    fn recommend(&self, requests: &[Request<'_>], progress: &mut dyn FnMut(usize)) -> anyhow::Result<Output> {
        let shared = self.counts.top(self.k, None);
        let lists = requests
            .iter()
            .map(|r| match r.allowed {
                Some(a) => self.counts.top(self.k, Some(a)),
                None => shared.clone(),
            })
            .collect();
        progress(requests.len());
        Ok(Output::scored(lists))
    }
}
