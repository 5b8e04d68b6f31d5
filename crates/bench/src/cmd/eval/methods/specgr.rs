//! SpecGR with an inductive drafter and TIGER verifying: SpecGR-KNN (the SemanticKNN
//! drafter) and SpecGR_Aux (UniSRec); and SpecGR++, whose own encoder drafts.

use burn::tensor::backend::Backend;
use drafters::Drafter;
use gr_model::{Constraint, Tiger, TigerVerifier};
use speculative::{Request, SpecGr, SpecGrConfig};

use super::super::method::{Method, MethodId, Output};
use super::super::{Component, EvalArgs, Normalising, Reference, UnseenScoring};
use super::Resources;
use crate::cmd::specgr_pp::SpecGrPpEval;

/// The SpecGR settings of `args` for `method` at threshold `gamma` (δ and β: the
/// method's own, else the run's); SpecGR++'s V2 unseen prefix is 3 digits, another
/// drafter's 2.
pub fn spec_config(args: &EvalArgs, method: MethodId, gamma: f32) -> SpecGrConfig {
    let mut c = SpecGrConfig::new(args.spec.k, args.draft_size(method), args.beam_size(method), gamma);
    let min_shared = if method == MethodId::SpecgrPp { 3 } else { 2 };
    if args.spec.reference == Reference::V2 {
        c = c.with_v2_choices(min_shared);
    }
    match args.spec.unseen_digits {
        Some(UnseenScoring::DropIdentification) => c.unseen_digits = speculative::UnseenDigits::DropIdentification,
        Some(UnseenScoring::SharedPrefix) => c.unseen_digits = speculative::UnseenDigits::SharedPrefix { min: min_shared },
        None => {}
    }
    c.normalisation = match args.spec.normalisation {
        Normalising::ScoredDigits => speculative::Normalisation::ScoredDigits,
        Normalising::AllDigits => speculative::Normalisation::AllDigits,
    };
    for component in &args.spec.without {
        match component {
            Component::InductiveDrafting => c.draft_size = 0,
            Component::LikelihoodAdjustment => c.likelihood_adjustment = false,
            Component::GuidedRedrafting => c.guided_redrafting = false,
            Component::Rerank => c.rerank = false,
            Component::AdaptiveExit => c.adaptive_exit = false,
        }
    }
    c
}

/// Whose model drafts and verifies.
enum Models<'a, B: Backend> {
    /// TIGER verifies what a separate drafter proposes.
    Drafter { tiger: &'a Tiger<B>, drafter: &'a dyn Drafter },
    /// The SpecGR++ model does both.
    Own(&'a SpecGrPpEval<B>),
}

/// A SpecGR method at one γ, ready to run.
pub struct SpecGrMethod<'a, B: Backend> {
    id: MethodId,
    models: Models<'a, B>,
    engine: SpecGr<'a>,
    device: B::Device,
    batch_size: usize,
}

impl<'a, B: Backend> SpecGrMethod<'a, B> {
    /// SpecGR-KNN, SpecGR_Aux or SpecGR++ with `args`' settings and threshold `gamma`.
    pub fn new(id: MethodId, r: &'a Resources<B>, args: &EvalArgs, gamma: f32) -> anyhow::Result<Self> {
        let models = match id {
            MethodId::SpecgrKnn => Models::Drafter { tiger: r.tiger()?, drafter: r.knn()? },
            MethodId::SpecgrAux => Models::Drafter { tiger: r.tiger()?, drafter: r.unisrec()? },
            MethodId::SpecgrPp => Models::Own(r.specgr_pp()?),
            other => anyhow::bail!("{other} is not a SpecGR method"),
        };
        let engine = SpecGr::new(spec_config(args, id, gamma), r.item_space())?;
        Ok(Self { id, models, engine, device: r.device.clone(), batch_size: args.spec.batch_size })
    }
}

impl<B: Backend> Method for SpecGrMethod<'_, B> {
    fn id(&self) -> MethodId {
        self.id
    }

    fn recommend(&self, requests: &[Request<'_>], progress: &mut dyn FnMut(usize)) -> anyhow::Result<Output> {
        let ids = self.engine.space().ids();
        let out = match &self.models {
            Models::Drafter { tiger, drafter } => {
                let verifier = TigerVerifier::new(tiger, ids, Constraint::Trie(self.engine.space().trie()), self.device.clone());
                self.engine.recommend_batched(&verifier, *drafter, requests, self.batch_size, progress)?
            }
            Models::Own(pp) => pp.recommend(&self.engine, ids, requests, self.batch_size, progress)?,
        };
        Ok(Output::recommendations(out.lists, Some(out.stats)))
    }
}
