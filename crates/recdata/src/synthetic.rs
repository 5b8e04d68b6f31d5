//! A seeded synthetic dataset with the structure SpecGR is about: items with text
//! drawn from a latent taxonomy, users whose tastes drift along it, and new items
//! arriving over time, so that a good share of test targets are unseen in training.
//!
//! The generative story:
//! - A taxonomy of categories, each with subcategories (leaves). Each leaf has a
//!   successor leaf (the next step of a routine: cleanser, then toner, ...).
//! - Items belong to a leaf; their text names the brand, a descriptive adjective,
//!   the leaf's product noun and the category. A share of items exists from the
//!   start; the rest are released uniformly over time.
//! - Catalogs change over time: every era (`era_days`) launches its own brands and
//!   an ingredient trend, and the items released in it carry them in their text.
//!   Items released after the training period therefore describe things no
//!   training item did, so their text embeddings (and semantic IDs) leave the
//!   regions a generative model was trained on, as new items on real platforms
//!   do. Initial items carry neither.
//! - A user starts at a random time in a random leaf. At each interaction they stay
//!   in their leaf, move to its successor, or jump elsewhere; within the leaf they
//!   pick a released item, favouring popular and recently released ones.

use std::collections::HashMap;

use crate::dataset::{LoadReport, RawInteraction, build};
use crate::error::{DataError, Result};
use crate::rng::Rng;
use crate::Dataset;

/// Sizes and rates of the synthetic generator.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Mean interactions per user (at least 5 each, as in 5-core data).
    pub mean_interactions: f64,
    /// Share of items that exist from the start; the rest arrive over time.
    pub initial_item_share: f64,
    /// Probability of staying in the current leaf at each step.
    pub stay: f64,
    /// Probability of moving to the current leaf's successor.
    pub follow: f64,
    /// How strongly recently released items are favoured (0 = not at all).
    pub novelty: f64,
    /// The time span, in days.
    pub days: u32,
    /// Length of an era, in days: items released in one share its brands and trend.
    #[serde(default = "default_era_days")]
    pub era_days: u32,
}

fn default_era_days() -> u32 {
    60
}

impl Default for SyntheticConfig {
    /// The embedded default dataset: small enough for a CPU reproduction in minutes.
    fn default() -> Self {
        Self {
            users: 2000,
            items: 1200,
            mean_interactions: 9.0,
            initial_item_share: 0.45,
            stay: 0.45,
            follow: 0.45,
            novelty: 5.0,
            days: 720,
            era_days: default_era_days(),
        }
    }
}

impl SyntheticConfig {
    /// A tiny dataset for fast tests.
    pub fn tiny() -> Self {
        Self { users: 200, items: 120, mean_interactions: 8.0, ..Self::default() }
    }

    /// A dataset about the size of Amazon 2023 Games (≈650k interactions, 25k items).
    pub fn games_sized() -> Self {
        Self { users: 80_000, items: 25_000, mean_interactions: 8.1, ..Self::default() }
    }

    fn validate(&self) -> Result<()> {
        let prob = |x: f64| (0.0..=1.0).contains(&x);
        if self.users == 0 || self.items < TAXONOMY.len() {
            return Err(DataError::Config(format!(
                "synthetic data needs users > 0 and items >= {} (one per category)",
                TAXONOMY.len()
            )));
        }
        if !prob(self.initial_item_share) || !prob(self.stay) || !prob(self.follow) || self.stay + self.follow > 1.0 {
            return Err(DataError::Config("synthetic shares and probabilities must lie in [0, 1], stay + follow <= 1".into()));
        }
        if self.mean_interactions < 5.0 || self.days == 0 || self.era_days == 0 || self.novelty < 0.0 {
            return Err(DataError::Config(
                "mean_interactions >= 5, days > 0, era_days > 0 and novelty >= 0 are required".into(),
            ));
        }
        Ok(())
    }

    /// Generates the dataset; the same seed gives the same dataset.
    pub fn generate(&self, seed: u64) -> Result<Dataset> {
        self.validate()?;
        let mut rng = Rng::new(seed);
        let leaves: Vec<(usize, usize)> = TAXONOMY
            .iter()
            .enumerate()
            .flat_map(|(c, cat)| (0..cat.leaves.len()).map(move |l| (c, l)))
            .collect();
        // Each leaf's successor: the next leaf of the same category, wrapping, so
        // that routines stay within a category most of the time.
        let successor: Vec<usize> = leaves
            .iter()
            .map(|&(c, l)| {
                let n = TAXONOMY[c].leaves.len();
                leaves.iter().position(|&x| x == (c, (l + 1) % n)).unwrap_or(0)
            })
            .collect();

        let day_ms = 86_400_000i64;
        let start_ms = 1_600_000_000_000i64;
        let span = self.days as f64;
        // Items: leaf, release day, popularity, text.
        let mut items = Vec::with_capacity(self.items);
        let mut by_leaf: Vec<Vec<usize>> = vec![Vec::new(); leaves.len()];
        let mut texts = HashMap::new();
        for i in 0..self.items {
            let leaf = if i < leaves.len() { i } else { rng.below(leaves.len()) };
            let release = if rng.f64() < self.initial_item_share { 0.0 } else { rng.f64() * span };
            // Log-normal popularity gives a long tail, as in real catalogs.
            let popularity = (0.8 * rng.normal()).exp();
            let (c, l) = leaves[leaf];
            let cat = &TAXONOMY[c];
            let adjective = ADJECTIVES[rng.below(ADJECTIVES.len())];
            let noun = cat.leaves[l].1[rng.below(cat.leaves[l].1.len())];
            let audience = AUDIENCES[rng.below(AUDIENCES.len())];
            // Every product has its own line name and number, as real titles do
            // ("Hydro Boost 50"): item-specific words keep semantic IDs apart.
            let line = product_line(&mut rng);
            let text = if release > 0.0 {
                // The era's brands (two per era) and trend, cycling through the lists.
                let era = (release / self.era_days as f64) as usize;
                let brand = ERA_BRANDS[(2 * era + rng.below(2)) % ERA_BRANDS.len()];
                let trend = TRENDS[era % TRENDS.len()];
                format!("{brand} {line} {trend} {adjective} {noun} {} for {audience}, {}.", cat.leaves[l].0, cat.name)
            } else {
                let brand = BRANDS[rng.below(BRANDS.len())];
                format!("{brand} {line} {adjective} {noun} {} for {audience}, {}.", cat.leaves[l].0, cat.name)
            };
            let key = format!("S{i:06}");
            texts.insert(key.clone(), text);
            by_leaf[leaf].push(i);
            items.push((release, popularity, key));
        }

        let mut raw = Vec::new();
        let mut weights = Vec::new();
        for u in 0..self.users {
            let n = 5 + geometric(&mut rng, self.mean_interactions - 5.0);
            let mut day = rng.f64() * span * 0.95;
            let mut leaf = rng.below(leaves.len());
            let user = format!("U{u:06}");
            for _ in 0..n {
                let r = rng.f64();
                if r >= self.stay + self.follow {
                    leaf = rng.below(leaves.len());
                } else if r >= self.stay {
                    leaf = successor[leaf];
                }
                // Candidates: this leaf's released items; at least the oldest one.
                weights.clear();
                weights.extend(by_leaf[leaf].iter().map(|&i| {
                    let (release, pop, _) = &items[i];
                    if *release > day {
                        0.0
                    } else {
                        pop * (1.0 + self.novelty * (-(day - release) / 60.0).exp())
                    }
                }));
                let item = if weights.iter().any(|&w| w > 0.0) {
                    by_leaf[leaf][rng.weighted(&weights)]
                } else {
                    by_leaf[leaf][0]
                };
                let ts = start_ms + (day * day_ms as f64) as i64;
                raw.push(RawInteraction { user: user.clone(), item: items[item].2.clone(), timestamp_ms: ts });
                day = (day + 1.0 + 20.0 * rng.f64() * rng.f64()).min(span);
            }
        }
        let report = LoadReport { rows_read: raw.len(), ..LoadReport::default() };
        Ok(build("synthetic", raw, &mut texts, report))
    }
}

/// A made-up product line: two or three syllables and a model number ("Velora 240").
fn product_line(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    let mut name: String = (0..n).map(|_| SYLLABLES[rng.below(SYLLABLES.len())]).collect();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    format!("{name} {}", 10 * (1 + rng.below(99)))
}

/// A geometric count with the given mean.
fn geometric(rng: &mut Rng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    let p = 1.0 / (1.0 + mean);
    let u = rng.f64().max(f64::MIN_POSITIVE);
    (u.ln() / (1.0 - p).ln()).floor() as usize
}

struct Category {
    name: &'static str,
    /// (subcategory phrase, product nouns)
    leaves: &'static [(&'static str, &'static [&'static str])],
}

const TAXONOMY: &[Category] = &[
    Category {
        name: "Skin Care",
        leaves: &[
            ("Face Cleanser", &["foaming gel", "cleansing milk", "micellar water"]),
            ("Toner", &["hydrating toner", "exfoliating toner", "facial mist"]),
            ("Serum", &["vitamin C serum", "hyaluronic serum", "retinol serum"]),
            ("Moisturizer", &["day cream", "night cream", "gel moisturizer"]),
        ],
    },
    Category {
        name: "Makeup",
        leaves: &[
            ("Foundation", &["liquid foundation", "cushion compact", "tinted base"]),
            ("Lipstick", &["matte lipstick", "lip gloss", "lip tint"]),
            ("Eye Shadow", &["shadow palette", "shimmer shadow", "cream shadow"]),
            ("Mascara", &["volumizing mascara", "lengthening mascara", "waterproof mascara"]),
        ],
    },
    Category {
        name: "Hair Care",
        leaves: &[
            ("Shampoo", &["clarifying shampoo", "dry shampoo", "sulfate-free shampoo"]),
            ("Conditioner", &["leave-in conditioner", "deep conditioner", "rinse conditioner"]),
            ("Hair Oil", &["argan oil", "hair serum", "scalp oil"]),
            ("Styling", &["styling gel", "hair spray", "texture paste"]),
        ],
    },
    Category {
        name: "Nail Care",
        leaves: &[
            ("Nail Polish", &["nail lacquer", "gel polish", "glitter polish"]),
            ("Top Coat", &["quick-dry top coat", "matte top coat", "base coat"]),
            ("Polish Remover", &["acetone remover", "remover pads", "gentle remover"]),
            ("Cuticle Care", &["cuticle oil", "cuticle cream", "nail strengthener"]),
        ],
    },
    Category {
        name: "Fragrance",
        leaves: &[
            ("Eau de Parfum", &["floral perfume", "woody perfume", "citrus perfume"]),
            ("Body Mist", &["body spray", "scented mist", "hair mist"]),
            ("Cologne", &["fresh cologne", "spicy cologne", "aqua cologne"]),
            ("Scented Lotion", &["perfumed lotion", "body butter", "scented oil"]),
        ],
    },
    Category {
        name: "Bath and Body",
        leaves: &[
            ("Body Wash", &["shower gel", "body wash", "cream wash"]),
            ("Body Scrub", &["sugar scrub", "salt scrub", "coffee scrub"]),
            ("Body Lotion", &["body lotion", "body cream", "body milk"]),
            ("Bath Soak", &["bath bomb", "bath salts", "bubble bath"]),
        ],
    },
    Category {
        name: "Sun Care",
        leaves: &[
            ("Sunscreen", &["mineral sunscreen", "sport sunscreen", "daily SPF fluid"]),
            ("After Sun", &["aloe gel", "cooling lotion", "soothing spray"]),
            ("Self Tanner", &["tanning mousse", "tanning drops", "gradual tan lotion"]),
            ("Lip Balm SPF", &["SPF lip balm", "tinted lip balm", "lip shield"]),
        ],
    },
    Category {
        name: "Tools and Accessories",
        leaves: &[
            ("Makeup Brushes", &["brush set", "blending sponge", "kabuki brush"]),
            ("Hair Tools", &["flat iron", "curling wand", "blow dryer"]),
            ("Nail Tools", &["nail file", "cuticle pusher", "nail clipper"]),
            ("Mirrors", &["lighted mirror", "compact mirror", "travel mirror"]),
        ],
    },
];

const BRANDS: &[&str] = &[
    "Lumina", "Verdant", "Aurelia", "Nordic Bloom", "Solstice", "Kiri", "Maison Rue", "Pure Atlas",
    "Coral Bay", "Velvet Fox", "Halcyon", "Ember & Oak", "Mira", "Blue Fern", "Opaline", "Sable",
];

/// Brands launched over time, two per era.
const ERA_BRANDS: &[&str] = &[
    "Zephyra", "Quillon", "Brisa Lab", "Tamarind Co", "Orbelle", "Nuvique", "Saffrane", "Kelpwise",
    "Glacier Muse", "Driftwood Apothecary", "Yuzura", "Peony Forge", "Cobalt Petal", "Inkberry", "Vantablu",
    "Moss & Ion", "Lyra Botanics", "Fenwick", "Celestine", "Rookwood", "Amberlune", "Tidal Grove", "Noctua",
    "Palisade",
];

/// Ingredient or technology trends, one per era.
const TRENDS: &[&str] = &[
    "peptide-infused", "probiotic", "snail mucin", "bakuchiol", "ceramide-rich", "niacinamide", "squalane",
    "charcoal-activated", "rice water", "blue-light shield", "mushroom extract", "bio-fermented",
];

const SYLLABLES: &[&str] = &[
    "ve", "lo", "ra", "mi", "sa", "no", "ta", "ki", "zu", "bel", "dor", "fin", "gal", "hes", "jun", "lor",
    "mar", "nev", "pel", "quin", "ros", "sil", "tor", "vex",
];

const ADJECTIVES: &[&str] = &[
    "gentle", "radiant", "long-lasting", "lightweight", "nourishing", "vegan", "fragrance-free",
    "travel-size", "professional", "organic", "ultra-fine", "soothing", "vibrant", "classic",
];

const AUDIENCES: &[&str] = &[
    "dry skin", "oily skin", "sensitive skin", "all skin types", "everyday use", "evening wear",
    "curly hair", "fine hair", "men", "women",
];
