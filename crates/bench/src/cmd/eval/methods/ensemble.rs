//! The ensembles of TIGER and UniSRec that Table A5 compares SpecGR_Aux with:
//! score-based, ranking-based and 2-stage.

use burn::tensor::backend::Backend;
use drafters::Drafter;
use gr_model::{Constraint, Tiger, TigerVerifier};
use speculative::baselines::{Ensemble as Kind, EnsembleConfig};
use speculative::{ItemSpace, Request};

use super::super::method::{Method, MethodId, Output};
use super::super::{Component, EvalArgs};
use super::Resources;

/// One of the ensembles, ready to run.
pub struct Ensemble<'a, B: Backend> {
    id: MethodId,
    model: &'a Tiger<B>,
    drafter: &'a dyn Drafter,
    space: ItemSpace<'a>,
    device: B::Device,
    config: EnsembleConfig,
    batch_size: usize,
}

impl<'a, B: Backend> Ensemble<'a, B> {
    /// The ensemble `id` (`ensemble-score`, `ensemble-rank` or `ensemble-2stage`).
    pub fn new(id: MethodId, r: &'a Resources<B>, args: &EvalArgs) -> anyhow::Result<Self> {
        let kind = match id {
            MethodId::EnsembleScore => Kind::Score { weight: args.ensemble_weight },
            MethodId::EnsembleRank => Kind::Rank,
            MethodId::Ensemble2Stage => Kind::TwoStage,
            other => anyhow::bail!("{other} is not an ensemble"),
        };
        Ok(Self {
            id,
            model: r.tiger()?,
            drafter: r.unisrec()?,
            space: r.item_space(),
            device: r.device.clone(),
            config: EnsembleConfig {
                kind,
                k: args.spec.k,
                beam_size: args.spec.beam_size,
                pool: args.spec.draft_size.max(args.spec.k),
                likelihood_adjustment: !args.spec.without.contains(&Component::LikelihoodAdjustment),
            },
            batch_size: args.spec.batch_size,
        })
    }
}

impl<B: Backend> Method for Ensemble<'_, B> {
    fn id(&self) -> MethodId {
        self.id
    }

    fn recommend(&self, requests: &[Request<'_>], progress: &mut dyn FnMut(usize)) -> anyhow::Result<Output> {
        let verifier = TigerVerifier::new(self.model, self.space.ids(), Constraint::Trie(self.space.trie()), self.device.clone());
        let mut lists = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(self.batch_size.max(1)) {
            let found = speculative::baselines::ensemble(&verifier, self.drafter, &self.space, chunk, &self.config)?;
            lists.extend(found);
            progress(lists.len());
        }
        Ok(Output::recommendations(lists, None))
    }
}
