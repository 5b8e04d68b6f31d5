//! Serving a saved run: `specgr recommend` (top-K lists for histories given as JSON
//! lines), `specgr items add|remove` (catalog changes without retraining) and
//! `specgr serve` (the same over HTTP).
//!
//! Both open the run as `specgr eval` does ([`Run::open`], [`Run::load`]) and then
//! apply the run's catalog overlay ([`overlay`]): each added item goes through
//! [`Resources::add_item`], the same online path a fresh `items add` takes, so an
//! item gets the same semantic ID and drafter vectors in every process.

pub mod items;
pub mod loadtest;
pub mod metrics;
pub mod online;
pub mod overlay;
pub mod recommend;
pub mod requests;
pub mod serve;
pub mod worker;

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use burn::tensor::backend::Backend;
use drafters::ItemSet;
use gr_model::TigerPreset;
use recdata::ItemId;

use crate::cmd::eval::load::{Resources, Run};
use crate::cmd::eval::Needs;
use crate::cmd::{DatasetArgs, IdsName};
use overlay::{AddedItem, Overlay};

/// A run opened for serving: its models with the catalog overlay applied, and the
/// map between item ids (the dataset's keys and added ids) and item numbers.
pub struct Served<B: Backend> {
    /// The dataset, split and run directory.
    pub run: Run,
    /// The loaded models, overlay items included.
    pub resources: Resources<B>,
    /// The catalog overlay as last read or written.
    pub overlay: Overlay,
    /// Where the overlay lives.
    pub overlay_path: PathBuf,
    /// Item ids by item number.
    keys: Vec<String>,
    /// Item numbers by id.
    index: HashMap<String, ItemId>,
    /// The removed items.
    removed: ItemSet,
    /// Every item that is not removed (kept only while some item is removed).
    live: Option<ItemSet>,
}

impl<B: Backend> Served<B> {
    /// Opens the run of `dataset` under `runs`, loads what `needs` names from the
    /// checkpoints of `ids` and `preset`, and applies the catalog overlay.
    pub fn open(
        dataset: &DatasetArgs,
        runs: &std::path::Path,
        ids: IdsName,
        preset: TigerPreset,
        needs: Needs,
        device: &B::Device,
    ) -> anyhow::Result<Self> {
        let run = Run::open(dataset, runs)?;
        let resources = run.load::<B>(dataset, ids, preset, needs, device)?;
        let dim = semid::Quantizer::dim(&resources.semid.quantizer);
        let base = overlay::base_of(&run.run_dir, &run.resolved.dataset, dim)?;
        let overlay_path = overlay::path(&run.run_dir);
        let overlay = Overlay::read_for(&overlay_path, &base)?;
        let keys: Vec<String> = run.resolved.dataset.catalog.keys().to_vec();
        ensure!(
            keys.len() == resources.ids().len(),
            "the semantic IDs cover {} items, the dataset {}",
            resources.ids().len(),
            keys.len()
        );
        let index = keys.iter().enumerate().map(|(i, k)| (k.clone(), ItemId(i as u32))).collect();
        let mut served = Self {
            run,
            resources,
            overlay: Overlay::new(base),
            overlay_path,
            keys,
            index,
            removed: ItemSet::new(),
            live: None,
        };
        for (i, added) in overlay.added.iter().enumerate() {
            let item = served
                .insert(added)
                .with_context(|| format!("{}: added item {i} (`{}`)", served.overlay_path.display(), added.id))?;
            ensure!(item.index() == overlay.base.items + i, "added item `{}` got number {}", added.id, item.index());
        }
        for id in &overlay.removed {
            let item = served.item(id).with_context(|| format!("{}: removed `{id}` is no item", served.overlay_path.display()))?;
            served.removed.insert(item);
        }
        served.overlay = overlay;
        served.refresh_live();
        Ok(served)
    }

    /// The item numbered by `id`, removed or not.
    pub fn item(&self, id: &str) -> Option<ItemId> {
        self.index.get(id).copied()
    }

    /// The id of item `item`.
    pub fn key(&self, item: ItemId) -> &str {
        &self.keys[item.index()]
    }

    /// Whether `item` was seen in training (what `unseen` reports the opposite of).
    pub fn is_in_sample(&self, item: ItemId) -> bool {
        self.resources.in_sample.contains(item)
    }

    /// Whether `item` was removed.
    pub fn is_removed(&self, item: ItemId) -> bool {
        self.removed.contains(item)
    }

    /// The items a request may be recommended: `None` (all) while none is removed.
    pub fn live(&self) -> Option<&ItemSet> {
        self.live.as_ref()
    }

    /// The number of items that can be recommended.
    pub fn num_live(&self) -> usize {
        self.keys.len() - self.removed.len()
    }

    /// Adds `item` to the models and the overlay (not yet written: [`Served::persist`]).
    pub fn add(&mut self, item: AddedItem) -> anyhow::Result<ItemId> {
        if let Err(e) = self.check_new_id(&item.id) {
            bail!("{e}");
        }
        let number = self.insert(&item)?;
        self.overlay.added.push(item);
        Ok(number)
    }

    /// Refuses an id already in the catalog, removed or not.
    pub fn check_new_id(&self, id: &str) -> Result<(), String> {
        match self.item(id) {
            None => Ok(()),
            Some(old) if self.removed.contains(old) => {
                Err(format!("item `{id}` is already a removed item; removed ids are not reused"))
            }
            Some(_) => Err(format!("item `{id}` is already in the catalog")),
        }
    }

    /// Removes the item `id` (from recommendations; it keeps its number and ID).
    pub fn remove(&mut self, id: &str) -> anyhow::Result<ItemId> {
        let item = self.item(id).with_context(|| format!("no item `{id}` in the catalog"))?;
        ensure!(!self.removed.contains(item), "item `{id}` was already removed");
        self.removed.insert(item);
        self.overlay.removed.push(id.to_owned());
        self.refresh_live();
        Ok(item)
    }

    /// Writes the overlay atomically.
    pub fn persist(&mut self) -> anyhow::Result<()> {
        self.overlay.write(&self.overlay_path)
    }

    /// The models' part of an add: the semantic ID, trie and drafters, and the id map.
    fn insert(&mut self, item: &AddedItem) -> anyhow::Result<ItemId> {
        ensure!(!item.id.is_empty(), "an empty item id");
        let number = self.resources.add_item(&item.embedding)?;
        self.keys.push(item.id.clone());
        self.index.insert(item.id.clone(), number);
        Ok(number)
    }

    fn refresh_live(&mut self) {
        // Methods built after this see the removed items nowhere, TIGER's beams included.
        self.resources.removed = self.removed.clone();
        self.live = (!self.removed.is_empty()).then(|| {
            (0..self.keys.len() as u32).map(ItemId).filter(|&i| !self.removed.contains(i)).collect()
        });
    }
}

/// The stem of a list of ids for messages: the first few, then a count.
pub fn some_of(ids: &[String]) -> String {
    match ids.len() {
        0..=3 => ids.join(", "),
        n => format!("{}, ... ({n} in all)", ids[..3].join(", ")),
    }
}
