//! [`SpecGrConfig`]: the loop's sizes, its threshold, the paper's ablation switches
//! and the choices where the authors' two code versions differ.

use serde::{Deserialize, Serialize};

use rec_core::{Result, SpecError};

/// From which round on re-drafting is restricted to the beams' prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RedraftFrom {
    /// From round 1 (the second round), with one-digit prefixes: the paper's Eq. 3
    /// and the reference V1. The default.
    #[default]
    FirstStep,
    /// From round 2, with two-digit prefixes (the reference V2, `r > 1`).
    SecondStep,
}

/// Which accepted items are kept when at least K were accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Selection {
    /// The K accepted items with the best verification scores (reference V1). The
    /// default: it uses all the verifier's information, and it is the only choice
    /// under which running all rounds (no adaptive exit) can change the result,
    /// as the paper's Table 3 row 1.5 shows it does.
    #[default]
    BestScore,
    /// The first K accepted items in drafting order (reference V2).
    DraftingOrder,
}

/// How many digits of an unseen item's semantic ID are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum UnseenDigits {
    /// All digits but the identification digit (the paper's Eq. 2 and V1). The default.
    #[default]
    DropIdentification,
    /// The longest code prefix the item shares with any in-sample item, but at least
    /// `min` and at most the number of code levels (reference V2: `min` 3 for SpecGR++,
    /// 2 with an auxiliary drafter).
    SharedPrefix {
        /// The fewest digits scored.
        min: usize,
    },
}

/// What a drafted item's summed log-probability is divided by to give its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Normalisation {
    /// The number of digits scored (the paper's Eq. 2 and both reference versions):
    /// an unseen item scored over fewer digits than an in-sample one is divided by
    /// fewer. The default.
    #[default]
    ScoredDigits,
    /// The full semantic ID's number of digits, whatever was scored: an unscored digit
    /// of an unseen item counts as log-probability 0, as an in-sample item's last,
    /// nearly determined digits almost do. Ours, not the paper's: with the paper's
    /// rule an unseen item and an in-sample item that share the same scored prefix get
    /// scores a factor (digits / scored digits) apart, and unseen items rank below
    /// in-sample ones wherever the verifier is sure of the later digits (measured on
    /// Beauty: `experiments/results/beauty-2014/specgr-knn-ts/`).
    AllDigits,
}

/// The settings of one SpecGR run.
///
/// Defaults follow the paper and the reference V1 (see each field); the switches
/// named `*_` off reproduce the ablations of the paper's Table 3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecGrConfig {
    /// Number of recommendations per query (K).
    pub k: usize,
    /// Items drafted per query and round (δ). Zero turns SpecGR into plain beam
    /// search (Table 3, row 1.1: without inductive drafting).
    pub draft_size: usize,
    /// Beams kept per query (β).
    pub beam_size: usize,
    /// Acceptance threshold on the length-normalised log-likelihood (γ): an item is
    /// accepted when its score is strictly greater.
    pub threshold: f32,
    /// Most draft-verify rounds (the paper's I, the number of digits: 4). Capped at
    /// the verifier's number of digits.
    pub max_rounds: usize,
    /// Score unseen items without their identification digit (Table 3, row 1.2 off).
    pub likelihood_adjustment: bool,
    /// Restrict later rounds' drafts to the beams' prefixes (Table 3, row 1.3 off).
    pub guided_redrafting: bool,
    /// Rank the final list by verification score; off keeps accepted items in
    /// drafting order, followed by the fill (Table 3, row 1.4 off).
    pub rerank: bool,
    /// Stop a query's rounds as soon as K items are accepted (Table 3, row 1.5 off).
    pub adaptive_exit: bool,
    /// From which round guided re-drafting applies.
    pub redraft_from: RedraftFrom,
    /// Which K are kept when more were accepted.
    pub selection: Selection,
    /// How many digits of an unseen item are scored (with `likelihood_adjustment`).
    pub unseen_digits: UnseenDigits,
    /// What a draft's summed log-probability is divided by.
    #[serde(default)]
    pub normalisation: Normalisation,
}

impl Default for SpecGrConfig {
    /// K 50 with the reference's quick-start V1 settings: δ 50, β 30, γ −1.4.
    fn default() -> Self {
        Self::new(50, 50, 30, -1.4)
    }
}

impl SpecGrConfig {
    /// A config with every component on and the default version choices.
    pub fn new(k: usize, draft_size: usize, beam_size: usize, threshold: f32) -> Self {
        Self {
            k,
            draft_size,
            beam_size,
            threshold,
            max_rounds: 4,
            likelihood_adjustment: true,
            guided_redrafting: true,
            rerank: true,
            adaptive_exit: true,
            redraft_from: RedraftFrom::default(),
            selection: Selection::default(),
            unseen_digits: UnseenDigits::default(),
            normalisation: Normalisation::default(),
        }
    }

    /// The reference V2's choices: re-drafting from round 2, the first K accepted in
    /// drafting order, unseen items scored over their shared prefix (at least `min` digits).
    pub fn with_v2_choices(mut self, min_unseen_digits: usize) -> Self {
        self.redraft_from = RedraftFrom::SecondStep;
        self.selection = Selection::DraftingOrder;
        self.unseen_digits = UnseenDigits::SharedPrefix {
            min: min_unseen_digits,
        };
        self
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(SpecError::Config("k must be at least 1".into()));
        }
        if self.beam_size == 0 {
            return Err(SpecError::Config("beam_size must be at least 1".into()));
        }
        if self.max_rounds == 0 {
            return Err(SpecError::Config("max_rounds must be at least 1".into()));
        }
        if self.threshold.is_nan() {
            return Err(SpecError::Config("threshold is NaN".into()));
        }
        if let UnseenDigits::SharedPrefix { min: 0 } = self.unseen_digits {
            return Err(SpecError::Config(
                "unseen_digits min must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The first round whose drafts are restricted to beam prefixes, if any.
    pub(crate) fn first_guided_round(&self) -> Option<usize> {
        self.guided_redrafting.then_some(match self.redraft_from {
            RedraftFrom::FirstStep => 1,
            RedraftFrom::SecondStep => 2,
        })
    }
}
