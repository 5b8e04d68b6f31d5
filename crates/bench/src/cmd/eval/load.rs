//! What the methods of one `specgr eval` run read: loaded once, checked against the
//! dataset they were made from, and lent to every method value.

use anyhow::Context;
use burn::tensor::backend::Backend;
use drafters::{ItemSet, SemanticKnn, SemanticKnnConfig};
use gr_model::{Tiger, TigerPreset};
use recdata::{ItemId, RunDir};
use semid::{SemanticIdModel, SemanticIds};

use super::method::Needs;
use crate::cmd::IdsName;
use crate::cmd::identity::DatasetIdentity;
use crate::cmd::specgr_pp::SpecGrPpEval;

/// A saved run opened for use: the dataset it was made from, that dataset's split
/// (which items are in-sample) and its run directory. `specgr eval`, `tune`,
/// `recommend` and `items` all open a run through [`Run::open`] and load its models
/// through [`Run::load`].
pub struct Run {
    /// The dataset and its split configuration.
    pub resolved: recdata::Resolved,
    /// The split.
    pub split: recdata::Split,
    /// `<runs>/<dataset>`.
    pub run_dir: RunDir,
}

impl Run {
    /// Loads the dataset of `dataset` and splits it; the run directory is `<runs>/<name>`.
    pub fn open(dataset: &crate::cmd::DatasetArgs, runs: &std::path::Path) -> anyhow::Result<Self> {
        let resolved = dataset.load()?;
        let split = resolved.dataset.split(&resolved.split)?;
        let run_dir = RunDir::new(runs, &resolved.dataset.name);
        Ok(Self { resolved, split, run_dir })
    }

    /// Loads what `needs` names from the run's checkpoints of `ids` and `preset`,
    /// checked against this dataset (`dataset` says where it came from, for messages).
    pub fn load<B: Backend>(
        &self,
        dataset: &crate::cmd::DatasetArgs,
        ids: IdsName,
        preset: TigerPreset,
        needs: Needs,
        device: &B::Device,
    ) -> anyhow::Result<Resources<B>> {
        let mut resources =
            load_resources(&self.resolved.dataset, &self.split, Checkpoints { run_dir: &self.run_dir, ids, preset, allow_unfinished: false, tiger: None }, dataset, needs, device)?;
        if needs.popularity {
            // Serving: the target of every example of every part counts (as
            // `popularity_before`, a user's first interaction is no example's target).
            let all = self.split.train.iter().chain(&self.split.valid).chain(&self.split.test);
            resources.popularity = Some(drafters::Popularity::count(all.map(|e| (e.target, e.timestamp_ms)), i64::MIN, i64::MAX));
        }
        Ok(resources)
    }
}

/// Loads what `needs` names from the checkpoints `at` of `dataset` (split by `split`;
/// `origin` says where the dataset came from, for messages): the one loader of
/// [`Run::load`] and `specgr eval`'s `Prepared::load`.
pub fn load_resources<B: Backend>(
    dataset: &recdata::Dataset,
    split: &recdata::Split,
    at: Checkpoints<'_>,
    origin: &crate::cmd::DatasetArgs,
    needs: Needs,
    device: &B::Device,
) -> anyhow::Result<Resources<B>> {
    let data = DatasetIdentity::new(dataset, origin);
    let in_sample: ItemSet = split.in_sample_items().into_iter().collect();
    Resources::load(at, dataset, &data, in_sample, needs, device)
}

/// Which checkpoints to load: the run directory and the TIGER model's IDs and preset.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoints<'a> {
    /// `<runs>/<dataset>`.
    pub run_dir: &'a RunDir,
    /// The semantic IDs TIGER was trained on.
    pub ids: IdsName,
    /// The TIGER preset.
    pub preset: TigerPreset,
    /// Whether a UniSRec drafter whose training has not finished may be used (its best
    /// epoch on valid so far): `specgr eval --allow-unfinished`; never when serving.
    pub allow_unfinished: bool,
    /// The TIGER checkpoint to load instead of the run's `tiger-<ids>-<preset>/best/`
    /// (`specgr eval --tiger-checkpoint`).
    pub tiger: Option<&'a std::path::Path>,
}

/// The loaded models and indexes; a method borrows what its [`Needs`] named.
pub struct Resources<B: Backend> {
    /// The semantic IDs.
    pub semid: SemanticIdModel<B>,
    /// The items seen in training.
    pub in_sample: ItemSet,
    /// TIGER, when needed.
    pub tiger: Option<Tiger<B>>,
    /// The SemanticKNN drafter, when needed.
    pub knn: Option<SemanticKnn>,
    /// The UniSRec drafter, when needed.
    pub unisrec: Option<drafters::UniSRec<B>>,
    /// The SpecGR++ model and its drafter, when needed.
    pub specgr_pp: Option<SpecGrPpEval<B>>,
    /// The popularity counts, when needed: `specgr eval` counts those before the part
    /// it evaluates ([`super::Prepared::load`]), [`Run::load`] (serving) those of
    /// every part.
    pub popularity: Option<drafters::Popularity>,
    /// Where the models live.
    pub device: B::Device,
    /// Items taken out of the catalog (`specgr items remove`): no method's space
    /// holds them ([`Resources::item_space`]).
    pub removed: ItemSet,
    /// What was loaded, for the report: the dataset's fingerprint, the semantic IDs'
    /// SHA-256 and each model's files, identity and samples seen
    /// ([`crate::cmd::identity::model_inputs`]).
    pub inputs: serde_json::Value,
}

impl<B: Backend> Resources<B> {
    /// Loads what `needs` names (the semantic IDs and the item embeddings always),
    /// refusing artifacts made from other data or other IDs.
    pub fn load(
        at: Checkpoints<'_>,
        dataset: &recdata::Dataset,
        data: &DatasetIdentity<'_>,
        in_sample: ItemSet,
        needs: Needs,
        device: &B::Device,
    ) -> anyhow::Result<Self> {
        let run_dir = at.run_dir;
        let semid_dir = run_dir.semid(&at.ids.name());
        let ids_sha256 = crate::cmd::identity::check_semid(&semid_dir, data, &at.ids.fit_args())?;
        let semid = SemanticIdModel::<B>::load(&semid_dir, device)
            .with_context(|| format!("reading {}", semid_dir.display()))?;
        let mut inputs = serde_json::json!({ "dataset": data.fingerprint, "ids_sha256": ids_sha256 });
        let tiger = match needs.tiger {
            true => {
                let dir = at.tiger.map_or_else(|| run_dir.tiger_best(&at.ids.name(), at.preset.name()), std::path::Path::to_path_buf);
                inputs["tiger"] = crate::cmd::identity::model_inputs(&dir);
                crate::cmd::identity::check_model(&dir, data, &at.ids.name(), &ids_sha256, &at.preset.name())?;
                Some(Tiger::<B>::load(&dir, device).with_context(|| format!("loading {}", dir.display()))?)
            }
            false => None,
        };
        let embeddings = crate::cmd::identity::load_embeddings(run_dir, data)?;
        let items: Vec<ItemId> = dataset.catalog.ids().collect();
        let knn = match needs.knn {
            true => Some(SemanticKnn::new(SemanticKnnConfig::new(embeddings.dim()), &items, embeddings.as_slice())?),
            false => None,
        };
        let unisrec = match needs.unisrec {
            true => {
                let dir = run_dir.unisrec();
                inputs["unisrec"] = crate::cmd::identity::model_inputs(&dir);
                if dir.exists() {
                    let emb_path = run_dir.embeddings_file();
                    crate::cmd::identity::check_unisrec(&dir, data, &emb_path, at.allow_unfinished)?;
                }
                let loaded = drafters::UniSRec::<B>::load(&dir, drafters::KnnConfig::new(0), device, &items, embeddings.as_slice())
                    .with_context(|| format!("loading {} (run `specgr train unisrec` first)", dir.display()))?;
                Some(loaded)
            }
            false => None,
        };
        if needs.specgr_pp {
            let dir = crate::cmd::specgr_pp::best_checkpoint(run_dir, at.ids, at.preset);
            inputs["specgr_pp"] = crate::cmd::identity::model_inputs(&dir);
        }
        let specgr_pp = match needs.specgr_pp {
            true => Some(SpecGrPpEval::<B>::load(run_dir, at.ids, at.preset, (data, &ids_sha256), semid.ids(), device)?),
            false => None,
        };
        Ok(Self { semid, in_sample, tiger, knn, unisrec, specgr_pp, popularity: None, device: device.clone(), removed: ItemSet::new(), inputs })
    }

    /// The semantic IDs of every item.
    pub fn ids(&self) -> &SemanticIds {
        self.semid.ids()
    }

    /// The items the methods search: every item but the removed ones, with its trie.
    pub fn item_space(&self) -> speculative::ItemSpace<'_> {
        speculative::ItemSpace::new(self.ids(), &self.in_sample).without(&self.removed)
    }

    /// TIGER; an error (not a panic) if it was not loaded.
    pub fn tiger(&self) -> anyhow::Result<&Tiger<B>> {
        self.tiger.as_ref().context("TIGER was not loaded (a method's needs do not name it)")
    }

    /// The SemanticKNN drafter.
    pub fn knn(&self) -> anyhow::Result<&SemanticKnn> {
        self.knn.as_ref().context("the SemanticKNN index was not built (a method's needs do not name it)")
    }

    /// The UniSRec drafter.
    pub fn unisrec(&self) -> anyhow::Result<&drafters::UniSRec<B>> {
        self.unisrec.as_ref().context("UniSRec was not loaded (a method's needs do not name it)")
    }

    /// The popularity counts.
    pub fn popularity(&self) -> anyhow::Result<&drafters::Popularity> {
        self.popularity.as_ref().context("the popularity counts were not made (a method's needs do not name them)")
    }

    /// The SpecGR++ model.
    pub fn specgr_pp(&self) -> anyhow::Result<&SpecGrPpEval<B>> {
        self.specgr_pp.as_ref().context("SpecGR++ was not loaded (a method's needs do not name it)")
    }
}
