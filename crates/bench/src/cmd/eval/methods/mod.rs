//! The methods `specgr eval` runs, one file per family, and [`build`]: the one place
//! that turns a [`MethodId`] into a runnable [`Method`].
//!
//! Adding a method: a file here with a type implementing [`Method`], a variant of
//! [`MethodId`] (its id, name and needs), and an arm in [`build`].

mod ensemble;
mod popularity;
mod retrieval;
mod specgr;
mod tiger;
mod tiger_bs;

use burn::tensor::backend::Backend;

pub use specgr::spec_config;

use super::EvalArgs;
pub use super::load::Resources;
use super::method::{Method, MethodId};

/// Builds `id` over the loaded `resources` with `args`' settings; `gamma` is the
/// acceptance threshold of a SpecGR method (the others ignore it).
pub fn build<'a, B: Backend>(
    id: MethodId,
    resources: &'a Resources<B>,
    args: &EvalArgs,
    gamma: f32,
) -> anyhow::Result<Box<dyn Method + 'a>> {
    Ok(match id {
        MethodId::Tiger | MethodId::TigerC => Box::new(tiger::TigerBeam::new(id, resources, args)?),
        MethodId::TigerBs => Box::new(tiger_bs::TigerBs::new(resources, args)?),
        MethodId::SemanticKnn => Box::new(retrieval::Retrieval::new(id, resources.knn()?, args.spec.k, args.spec.batch_size)),
        MethodId::Unisrec => Box::new(retrieval::Retrieval::new(id, resources.unisrec()?, args.spec.k, args.spec.batch_size)),
        MethodId::SpecgrPpDrafter => Box::new(retrieval::EncoderRetrieval::new(resources, args.spec.k, args.spec.batch_size)?),
        MethodId::SpecgrKnn | MethodId::SpecgrAux | MethodId::SpecgrPp => {
            Box::new(specgr::SpecGrMethod::new(id, resources, args, gamma)?)
        }
        MethodId::EnsembleScore | MethodId::EnsembleRank | MethodId::Ensemble2Stage => {
            Box::new(ensemble::Ensemble::new(id, resources, args)?)
        }
        MethodId::Popularity => Box::new(popularity::PopularityList::new(resources.popularity()?, args.spec.k)),
    })
}
