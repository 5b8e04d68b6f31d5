//! TIGER (beam search) and TIGER_C (TIGER's list with unseen items mixed in by code
//! prefix), with the beams `--tiger-beams` allows; under subset ranking each query's
//! beams are constrained to its own subset (CBS).

use burn::tensor::backend::Backend;
use gr_model::{Constraint, Tiger, TigerVerifier};
use semid::PrefixTrie;
use speculative::{ItemSpace, Recommendation, Request};

use super::super::method::{Method, MethodId, Output};
use super::super::{EvalArgs, TigerBeams};
use super::Resources;

/// TIGER or TIGER_C, ready to run.
pub struct TigerBeam<'a, B: Backend> {
    id: MethodId,
    model: &'a Tiger<B>,
    space: ItemSpace<'a>,
    /// Which items the beams may spell.
    beams: TigerBeams,
    /// The in-sample items' trie, for `--tiger-beams in-sample`.
    in_sample_trie: Option<PrefixTrie>,
    device: B::Device,
    /// Subset ranking: one query at a time, its beams constrained to its subset.
    per_query: bool,
    k: usize,
    beam_size: usize,
    batch_size: usize,
    /// TIGER_C's ε; `None` for TIGER.
    epsilon: Option<f64>,
}

impl<'a, B: Backend> TigerBeam<'a, B> {
    /// TIGER (`epsilon` `None`) or TIGER_C.
    pub fn new(id: MethodId, r: &'a Resources<B>, args: &EvalArgs) -> anyhow::Result<Self> {
        let space = r.item_space();
        let in_sample_trie = (args.tiger_beams == TigerBeams::InSample).then(|| space.subset_trie(&r.in_sample));
        Ok(Self {
            id,
            model: r.tiger()?,
            space,
            beams: args.tiger_beams,
            in_sample_trie,
            device: r.device.clone(),
            per_query: args.subset_size.is_some(),
            k: args.spec.k,
            beam_size: args.spec.beam_size,
            batch_size: args.spec.batch_size,
            epsilon: (id == MethodId::TigerC).then_some(args.epsilon),
        })
    }

    /// TIGER_C's mixing, when this is TIGER_C.
    fn finish(&self, list: Vec<Recommendation>, allowed: Option<&drafters::ItemSet>) -> Vec<Recommendation> {
        match self.epsilon {
            Some(eps) => speculative::baselines::tiger_c(&list, &self.space, self.k, eps, allowed),
            None => list,
        }
    }
}

impl<B: Backend> Method for TigerBeam<'_, B> {
    fn id(&self) -> MethodId {
        self.id
    }

    fn recommend(&self, requests: &[Request<'_>], progress: &mut dyn FnMut(usize)) -> anyhow::Result<Output> {
        let ids = self.space.ids();
        let mut lists = Vec::with_capacity(requests.len());
        if self.per_query {
            // Constrained beam search over each query's own subset (CBS): one query at
            // a time, its trie built per query.
            for request in requests {
                let allowed = request.allowed.ok_or_else(|| anyhow::anyhow!("subset ranking: a request has no subset"))?;
                let trie = self.space.subset_trie(allowed);
                let verifier = TigerVerifier::new(self.model, ids, Constraint::Trie(&trie), self.device.clone());
                let found = speculative::baselines::tiger(&verifier, &self.space, std::slice::from_ref(request), self.k, self.beam_size)?;
                lists.extend(found.into_iter().map(|list| self.finish(list, Some(allowed))));
                progress(lists.len());
            }
        } else {
            let constraint = match (self.beams, &self.in_sample_trie) {
                (TigerBeams::Free, _) => Constraint::None,
                (TigerBeams::InSample, Some(trie)) => Constraint::Trie(trie),
                _ => Constraint::Trie(self.space.trie()),
            };
            let verifier = TigerVerifier::new(self.model, ids, constraint, self.device.clone());
            for chunk in requests.chunks(self.batch_size.max(1)) {
                let found = speculative::baselines::tiger(&verifier, &self.space, chunk, self.k, self.beam_size)?;
                lists.extend(found.into_iter().map(|list| self.finish(list, None)));
                progress(lists.len());
            }
        }
        Ok(Output::recommendations(lists, None))
    }
}
