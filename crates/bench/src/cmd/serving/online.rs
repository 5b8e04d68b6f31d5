//! Adding an item to loaded models without retraining: its semantic ID from the frozen
//! quantiser plus the identification digit, its entry in the prefix trie, and its
//! vector in every loaded drafter's KNN index.

use anyhow::{Context, ensure};
use burn::tensor::backend::Backend;
use drafters::Drafter;
use recdata::ItemId;

use crate::cmd::eval::load::Resources;

impl<B: Backend> Resources<B> {
    /// Adds one item with text embedding `embedding` as the next item number
    /// (`ids().len()`), unseen:
    ///
    /// - its semantic ID: the frozen quantiser's codes for `embedding`, and the
    ///   identification digit that numbers it after every item already sharing those
    ///   codes (what a batch assignment over the catalog with this item last gives);
    /// - the prefix trie over all items (constrained beams can spell it);
    /// - SemanticKNN's index (the normalised embedding) and its history table;
    /// - UniSRec's item table (the MoE adaptor's output for `embedding`);
    /// - SpecGR++'s item vector (its GR encoder over the item's new semantic ID).
    ///
    /// Only the drafters that were loaded are updated; methods built before the call
    /// must be built again (they borrow the ID table).
    pub fn add_item(&mut self, embedding: &[f32]) -> anyhow::Result<ItemId> {
        let dim = semid::Quantizer::dim(&self.semid.quantizer);
        ensure!(embedding.len() == dim, "an embedding of {} values, but the run's are {dim}-wide", embedding.len());
        ensure!(embedding.iter().all(|x| x.is_finite()), "the embedding holds a value that is not finite");
        let item = ItemId(self.semid.assign(embedding).context("assigning a semantic ID")?);
        if let Some(knn) = &mut self.knn {
            knn.add_items(&[item], embedding).context("adding to the SemanticKNN index")?;
        }
        if let Some(unisrec) = &mut self.unisrec {
            unisrec.add_items(&[item], embedding).context("adding to UniSRec's item table")?;
        }
        if let Some(pp) = &mut self.specgr_pp {
            let vector = pp.model.tiger.embed_items(&pp.model.head, &[item.0], self.semid.ids(), &self.device)?;
            let vector = gr_model::projection::to_flat(vector)?;
            pp.drafter.add_items(&[item], &vector).context("adding to SpecGR++'s item vectors")?;
        }
        Ok(item)
    }
}
