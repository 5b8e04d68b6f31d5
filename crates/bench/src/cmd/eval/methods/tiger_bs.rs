//! TIGER-BS: TIGER by batch scoring, every allowed item scored `--score-chunk` per
//! pass (subset ranking's "BS", Figure A2).

use burn::tensor::backend::Backend;
use gr_model::{Constraint, Tiger, TigerVerifier};
use speculative::{ItemSpace, Request};

use super::super::method::{Method, MethodId, Output};
use super::super::{Component, EvalArgs};
use super::Resources;

/// TIGER-BS, ready to run.
pub struct TigerBs<'a, B: Backend> {
    model: &'a Tiger<B>,
    space: ItemSpace<'a>,
    device: B::Device,
    k: usize,
    batch_size: usize,
    score_chunk: usize,
    likelihood_adjustment: bool,
}

impl<'a, B: Backend> TigerBs<'a, B> {
    /// TIGER-BS with `args`' settings.
    pub fn new(r: &'a Resources<B>, args: &EvalArgs) -> anyhow::Result<Self> {
        Ok(Self {
            model: r.tiger()?,
            space: r.item_space(),
            device: r.device.clone(),
            k: args.spec.k,
            batch_size: args.spec.batch_size,
            score_chunk: args.score_chunk,
            likelihood_adjustment: !args.spec.without.contains(&Component::LikelihoodAdjustment),
        })
    }
}

impl<B: Backend> Method for TigerBs<'_, B> {
    fn id(&self) -> MethodId {
        MethodId::TigerBs
    }

    fn recommend(&self, requests: &[Request<'_>], progress: &mut dyn FnMut(usize)) -> anyhow::Result<Output> {
        let verifier = TigerVerifier::new(self.model, self.space.ids(), Constraint::Trie(self.space.trie()), self.device.clone());
        let mut lists = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(self.batch_size.max(1)) {
            let found = speculative::baselines::batch_scoring(
                &verifier,
                &self.space,
                chunk,
                self.k,
                self.score_chunk,
                self.likelihood_adjustment,
            )?;
            lists.extend(found);
            progress(lists.len());
        }
        Ok(Output::recommendations(lists, None))
    }
}
