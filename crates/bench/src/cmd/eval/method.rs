//! What `specgr eval` evaluates: a method is a value with an id, a display name, what
//! it needs loaded, and a [`Method::recommend`] call. The evaluation loop only times
//! and scores such values; [`super::methods::build`] makes them.

use recdata::ItemId;
use speculative::{Recommendation, Request, StepStats};

/// A method's identity. Its kebab-case id (`specgr-aux`) is what the command line
/// takes and what `results.json` records; [`MethodId::name`] is the paper's name,
/// printed in tables (`SpecGR_Aux`).
///
/// Registering a method is one variant here (with its id, name and needs below) and
/// one arm in [`super::methods::build`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum MethodId {
    /// TIGER: beam search over the IDs `--tiger-beams` allows.
    #[value(name = "tiger")]
    Tiger,
    /// TIGER_C: TIGER's list with up to ε·K unseen items whose code prefix it generated.
    #[value(name = "tiger-c")]
    TigerC,
    /// SemanticKNN alone: nearest items to the mean of the last five history embeddings.
    #[value(name = "semantic-knn")]
    SemanticKnn,
    /// UniSRec alone (`specgr train unisrec`; checkpoint in `<runs>/<dataset>/unisrec/`).
    #[value(name = "unisrec")]
    Unisrec,
    /// SpecGR-KNN: SpecGR with the SemanticKNN drafter and TIGER verifying.
    #[value(name = "specgr-knn")]
    SpecgrKnn,
    /// SpecGR_Aux: SpecGR with the UniSRec drafter and TIGER verifying.
    #[value(name = "specgr-aux", alias = "specgr-unisrec")]
    SpecgrAux,
    /// SpecGR++: the SpecGR++ model's encoder drafts (`specgr train specgr++`), its TIGER verifies.
    #[value(name = "specgr-pp", alias = "specgr++")]
    SpecgrPp,
    /// The SpecGR++ drafter alone: the SpecGR++ encoder's K nearest items to the
    /// history (what SpecGR++ drafts from; the drafter-alone baseline beside it).
    #[value(name = "specgr-pp-drafter")]
    SpecgrPpDrafter,
    /// TIGER-BS, TIGER by batch scoring: every allowed item scored, `--score-chunk` per
    /// pass (subset ranking's "BS").
    #[value(name = "tiger-bs")]
    TigerBs,
    /// Score-based ensemble (Table A5): `w`·TIGER score + (1 − `w`)·UniSRec similarity, `w` = `--ensemble-weight`.
    #[value(name = "ensemble-score")]
    EnsembleScore,
    /// Ranking-based ensemble (Table A5): mean position in TIGER's and UniSRec's lists.
    #[value(name = "ensemble-rank")]
    EnsembleRank,
    /// 2-Stage ensemble (Table A5): UniSRec's top K re-ranked by TIGER.
    #[value(name = "ensemble-2stage")]
    Ensemble2Stage,
    /// Popularity (not in the paper): the same list for every user, the items most
    /// interacted with before the evaluated part starts (`--popularity-days`).
    #[value(name = "popularity")]
    Popularity,
}

/// What a method needs loaded besides the semantic IDs and the item embeddings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The TIGER checkpoint (`tiger-<ids>-<preset>/best`).
    pub tiger: bool,
    /// The SemanticKNN index over the item embeddings.
    pub knn: bool,
    /// The UniSRec checkpoint (`unisrec/`).
    pub unisrec: bool,
    /// The SpecGR++ checkpoint (`specgr-pp-<ids>-<preset>/best`).
    pub specgr_pp: bool,
    /// The popularity counts of the interactions before the evaluated part.
    pub popularity: bool,
}

impl Needs {
    /// What any of `a` or `b` needs.
    pub fn union(self, b: Self) -> Self {
        Self {
            tiger: self.tiger || b.tiger,
            knn: self.knn || b.knn,
            unisrec: self.unisrec || b.unisrec,
            specgr_pp: self.specgr_pp || b.specgr_pp,
            popularity: self.popularity || b.popularity,
        }
    }

    /// What all of `methods` need together.
    pub fn of(methods: &[MethodId]) -> Self {
        methods.iter().fold(Self::default(), |n, m| n.union(m.needs()))
    }
}

impl MethodId {
    /// The kebab-case id of the command line and of `results.json`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Tiger => "tiger",
            Self::TigerC => "tiger-c",
            Self::SemanticKnn => "semantic-knn",
            Self::Unisrec => "unisrec",
            Self::SpecgrKnn => "specgr-knn",
            Self::SpecgrAux => "specgr-aux",
            Self::SpecgrPp => "specgr-pp",
            Self::SpecgrPpDrafter => "specgr-pp-drafter",
            Self::TigerBs => "tiger-bs",
            Self::EnsembleScore => "ensemble-score",
            Self::EnsembleRank => "ensemble-rank",
            Self::Ensemble2Stage => "ensemble-2stage",
            Self::Popularity => "popularity",
        }
    }

    /// The paper's name, printed in tables and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tiger => "TIGER",
            Self::TigerC => "TIGER_C",
            Self::SemanticKnn => "SemanticKNN",
            Self::Unisrec => "UniSRec",
            Self::SpecgrKnn => "SpecGR-KNN",
            Self::SpecgrAux => "SpecGR_Aux",
            Self::SpecgrPp => "SpecGR++",
            Self::SpecgrPpDrafter => "SpecGR++ drafter",
            Self::TigerBs => "TIGER-BS",
            Self::EnsembleScore => "Score-based Ensemble",
            Self::EnsembleRank => "Ranking-based Ensemble",
            Self::Ensemble2Stage => "2-Stage Ensemble",
            Self::Popularity => "Popularity",
        }
    }

    /// What the method needs loaded.
    pub fn needs(self) -> Needs {
        let tiger = Needs { tiger: true, ..Needs::default() };
        match self {
            Self::Tiger | Self::TigerC | Self::TigerBs => tiger,
            Self::SemanticKnn => Needs { knn: true, ..Needs::default() },
            Self::Unisrec => Needs { unisrec: true, ..Needs::default() },
            Self::SpecgrKnn => Needs { knn: true, ..tiger },
            Self::SpecgrAux | Self::EnsembleScore | Self::EnsembleRank | Self::Ensemble2Stage => {
                Needs { unisrec: true, ..tiger }
            }
            Self::SpecgrPp | Self::SpecgrPpDrafter => Needs { specgr_pp: true, ..Needs::default() },
            Self::Popularity => Needs { popularity: true, ..Needs::default() },
        }
    }

    /// Whether the method has an acceptance threshold γ (the SpecGR methods).
    pub fn has_threshold(self) -> bool {
        matches!(self, Self::SpecgrKnn | Self::SpecgrAux | Self::SpecgrPp)
    }

    /// Every method, in the order of `--help`.
    pub fn all() -> &'static [Self] {
        <Self as clap::ValueEnum>::value_variants()
    }

    /// The method with this id, an alias of it, or (in reports written before methods
    /// had ids) its old name (`SpecgrUnisrec`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        <Self as clap::ValueEnum>::from_str(s, true)
            .ok()
            .or_else(|| Self::all().iter().copied().find(|m| m.name() == s || format!("{m:?}") == s))
            .or_else(|| (s == "SpecgrUnisrec").then_some(Self::SpecgrAux))
    }

    /// Every id, for messages.
    pub fn ids_text(filter: impl Fn(Self) -> bool) -> String {
        Self::all().iter().filter(|&&m| filter(m)).map(|m| m.id()).collect::<Vec<_>>().join(", ")
    }
}

impl std::fmt::Display for MethodId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl serde::Serialize for MethodId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// A method's lists for every request, and the SpecGR loop's counters where it has them.
#[derive(Debug, Clone)]
pub struct Output {
    /// One list per request, best first.
    pub lists: Vec<Vec<ItemId>>,
    /// The score of each listed item, parallel to `lists`: what the method ranked by
    /// (a verification score, a beam's mean log-probability, a drafter's cosine; see
    /// [`speculative::Recommendation::score`]). `specgr recommend` prints them.
    pub scores: Vec<Vec<f32>>,
    /// The SpecGR loop's counters (SpecGR methods only).
    pub stats: Option<StepStats>,
}

impl Output {
    /// Scored lists without counters.
    pub fn scored(lists: Vec<Vec<(ItemId, f32)>>) -> Self {
        let (lists, scores) = lists.into_iter().map(|l| l.into_iter().unzip()).unzip();
        Self { lists, scores, stats: None }
    }

    /// The lists of the SpecGR loop or a baseline, with `stats` where the loop kept them.
    pub fn recommendations(lists: Vec<Vec<Recommendation>>, stats: Option<StepStats>) -> Self {
        let scored = lists.into_iter().map(|l| l.into_iter().map(|r| (r.item, r.score)).collect()).collect();
        Self { stats, ..Self::scored(scored) }
    }
}

/// A method ready to run: everything it needs is loaded and its settings are fixed.
pub trait Method {
    /// Which method this is.
    fn id(&self) -> MethodId;

    /// One list of up to K items per request, calling `progress` with the number of
    /// requests done so far.
    fn recommend(&self, requests: &[Request<'_>], progress: &mut dyn FnMut(usize)) -> anyhow::Result<Output>;
}

#[cfg(test)]
mod tests {
    use super::MethodId;

    /// Each method has one id, which parses back, and the paper's name; old ids and the
    /// names old reports used still parse.
    #[test]
    fn ids_and_names_round_trip() {
        for &m in MethodId::all() {
            assert_eq!(MethodId::parse(m.id()), Some(m));
            assert_eq!(MethodId::parse(m.name()), Some(m));
            assert_eq!(<MethodId as clap::ValueEnum>::to_possible_value(&m).unwrap().get_name(), m.id());
        }
        for (old, m) in [
            ("specgr-unisrec", MethodId::SpecgrAux),
            ("SpecgrUnisrec", MethodId::SpecgrAux),
            ("specgr++", MethodId::SpecgrPp),
            ("SpecgrPp", MethodId::SpecgrPp),
            ("TigerC", MethodId::TigerC),
        ] {
            assert_eq!(MethodId::parse(old), Some(m), "{old}");
        }
        assert_eq!(MethodId::parse("nope"), None);
        let names: Vec<_> = MethodId::all().iter().map(|m| m.name()).collect();
        for paper in ["TIGER", "TIGER_C", "SemanticKNN", "UniSRec", "SpecGR-KNN", "SpecGR_Aux", "SpecGR++"] {
            assert!(names.contains(&paper), "{paper}");
        }
    }
}
