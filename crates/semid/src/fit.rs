//! Fitting semantic IDs end to end: quantizer on in-sample items, IDs for all.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SemidError};
use crate::hkmeans::{HierarchicalKMeans, HierarchicalKMeansConfig};
use crate::ids::SemanticIds;
use crate::kmeans::KMeansConfig;
use crate::layout::TokenLayout;
use crate::matrix::EmbeddingMatrix;
use crate::quantizer::{Method, Quantizer};
use crate::report::FitReport;
use crate::rqkmeans::{ResidualKMeans, ResidualKMeansConfig};
use crate::rqvae::{EpochStats, RqVaeConfig, RqVaeTrainConfig, train_rqvae};
use crate::tokenizer::{FittedQuantizer, SemanticIdModel};

/// Settings of a semantic-ID fit, saved with its artifacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    /// The method.
    pub method: Method,
    /// Code levels (without the identification digit).
    pub levels: usize,
    /// Codes per level (K).
    pub codebook_size: usize,
    /// Values of the identification digit; `None` means K (the reference layout).
    pub id_size: Option<usize>,
    /// Seed of every random choice (it replaces `rqvae_train.seed`).
    pub seed: u64,
    /// Most Lloyd iterations per k-means.
    pub kmeans_iters: usize,
    /// RQ-VAE hidden widths (encoder side, input first).
    pub rqvae_hidden: Vec<usize>,
    /// RQ-VAE latent dimension.
    pub rqvae_latent: usize,
    /// RQ-VAE training schedule.
    pub rqvae_train: RqVaeTrainConfig,
}

impl FitConfig {
    /// Defaults for `method`: three levels of 256 codes, seed 42, the reference RQ-VAE
    /// shape (…-2048-1024-512-256-128) with our CPU training schedule.
    pub fn new(method: Method) -> Self {
        Self {
            method,
            levels: 3,
            codebook_size: 256,
            id_size: None,
            seed: 42,
            kmeans_iters: KMeansConfig::new(1, 0).max_iters,
            rqvae_hidden: vec![2048, 1024, 512, 256],
            rqvae_latent: 128,
            rqvae_train: RqVaeTrainConfig::new(),
        }
    }

    /// The token layout the IDs use.
    pub fn layout(&self) -> Result<TokenLayout> {
        TokenLayout::with_id_size(
            self.levels,
            self.codebook_size,
            self.id_size.unwrap_or(self.codebook_size),
        )
    }

    /// The RQ-VAE network settings for embeddings of width `input_dim`.
    pub fn rqvae_config(&self, input_dim: usize) -> RqVaeConfig {
        RqVaeConfig::new(input_dim)
            .with_hidden(self.rqvae_hidden.clone())
            .with_latent_dim(self.rqvae_latent)
            .with_levels(self.levels)
            .with_codebook_size(self.codebook_size)
    }

    /// The residual k-means settings.
    pub fn rqkmeans_config(&self) -> ResidualKMeansConfig {
        ResidualKMeansConfig {
            levels: self.levels,
            codebook_size: self.codebook_size,
            max_iters: self.kmeans_iters,
            seed: self.seed,
            ..ResidualKMeansConfig::default()
        }
    }

    /// The hierarchical k-means settings.
    pub fn hkmeans_config(&self) -> HierarchicalKMeansConfig {
        HierarchicalKMeansConfig {
            levels: self.levels,
            codebook_size: self.codebook_size,
            max_iters: self.kmeans_iters,
            seed: self.seed,
            ..HierarchicalKMeansConfig::default()
        }
    }
}

/// Progress of a fit, for a progress bar.
#[derive(Debug, Clone, PartialEq)]
pub enum FitProgress {
    /// The quantizer is being fitted (k-means methods report once, at the start).
    Fitting {
        /// The method.
        method: Method,
    },
    /// An RQ-VAE epoch finished.
    Epoch(EpochStats),
    /// All items are being encoded with the fitted quantizer.
    Encoding {
        /// Items to encode.
        items: usize,
    },
}

/// Fits `config.method` on the rows of `embeddings` where `in_sample` is true, then
/// gives every row (in-sample and unseen, in row order) its semantic ID from the
/// frozen quantizer. Rows are items: row `i` is `ItemId(i)`.
///
/// The fit sees only the in-sample rows: they are copied out before fitting, so
/// the unseen rows cannot influence the codebooks. Training runs on `A`; the
/// returned model lives on `A`'s inner (non-autodiff) backend.
pub fn fit<A: AutodiffBackend>(
    config: &FitConfig,
    embeddings: &EmbeddingMatrix,
    in_sample: &[bool],
    device: &A::Device,
    progress: &mut dyn FnMut(&FitProgress),
) -> Result<(SemanticIdModel<A::InnerBackend>, FitReport)> {
    let layout = config.layout()?;
    let fitted_rows = embeddings.select_mask(in_sample)?;
    if fitted_rows.rows() < config.codebook_size {
        return Err(SemidError::TooFewItems {
            items: fitted_rows.rows(),
            codes: config.codebook_size,
        });
    }
    let start = Instant::now();
    progress(&FitProgress::Fitting {
        method: config.method,
    });
    let quantizer = match config.method {
        Method::RqKMeans => FittedQuantizer::RqKMeans(ResidualKMeans::fit(
            config.rqkmeans_config(),
            &fitted_rows,
            device,
        )?),
        Method::HKMeans => FittedQuantizer::HKMeans(HierarchicalKMeans::fit(
            config.hkmeans_config(),
            &fitted_rows,
            device,
        )?),
        Method::RqVae => {
            let net = config.rqvae_config(embeddings.dim());
            let train = config.rqvae_train.clone().with_seed(config.seed);
            let mut on_epoch = |s: &EpochStats| progress(&FitProgress::Epoch(s.clone()));
            FittedQuantizer::RqVae(train_rqvae::<A>(
                &net,
                &train,
                &fitted_rows,
                device,
                &mut on_epoch,
            )?)
        }
    };
    let fit_seconds = start.elapsed().as_secs_f64();
    progress(&FitProgress::Encoding {
        items: embeddings.rows(),
    });
    let start = Instant::now();
    let codes = quantizer.encode(embeddings)?;
    let ids = SemanticIds::from_codes(layout, &codes)?;
    let encode_seconds = start.elapsed().as_secs_f64();
    let mut report = FitReport::measure(config.method, embeddings.dim(), &ids, in_sample);
    report.reconstruction_mse = quantizer.reconstruction_mse(embeddings)?;
    report.fit_seconds = fit_seconds;
    report.encode_seconds = encode_seconds;
    tracing::info!(method = %config.method, fit_seconds, unique = report.unique_prefix_share, "semantic IDs fitted");
    Ok((SemanticIdModel::new(config.clone(), quantizer, ids), report))
}
