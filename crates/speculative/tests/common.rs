//! Fixtures: a table verifier (exact log-probabilities from a seeded hash), a table
//! drafter that records what it was asked, a small catalogue, and independent
//! oracles (a plain beam search, plain scoring).

use std::cell::RefCell;

use recdata::ItemId;
use semid::{PrefixTrie, SemanticIds, TokenLayout};
use speculative::{Beam, DraftFilter, Drafter, DrafterResult, ItemSet, Neighbor, Query, Verifier};

/// SplitMix64 finaliser.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of a sequence of numbers under a seed, as a float in [-1, 1).
pub fn unit(seed: u64, parts: impl IntoIterator<Item = u64>) -> f32 {
    let h = parts
        .into_iter()
        .fold(mix(seed), |h, p| mix(h ^ p.wrapping_mul(0x100_0000_01B3)));
    ((h >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

/// Three levels of 4 codes plus a 4-valued identification digit.
pub fn layout() -> TokenLayout {
    TokenLayout::new(3, 4).unwrap()
}

/// `n` items with seeded random codes; the first `in_sample` are in-sample.
/// Collisions number the identification digit, so unseen items sharing a prefix
/// with an in-sample one get a higher identification digit.
pub fn catalogue(n: usize, seed: u64) -> SemanticIds {
    let mut ids = SemanticIds::new(layout());
    let mut i = 0u64;
    while ids.len() < n {
        let codes: Vec<u32> = (0..3)
            .map(|d| (mix(seed ^ (i * 3 + d)) % 4) as u32)
            .collect();
        i += 1;
        // Groups overflow at 4 items; skip codes that would.
        if ids.group_size(&codes) < 4 {
            ids.push(&codes).unwrap();
        }
    }
    ids
}

/// The first `n` items as a set.
pub fn first(n: usize) -> ItemSet {
    (0..n as u32).map(ItemId).collect()
}

/// A verifier whose log-probabilities are a fixed function of (history, prefix, code):
/// seeded hash logits in [-2, 2], plus `id_bias[c]` on the identification digit,
/// normalised over the digit's codes.
pub struct TableVerifier {
    pub seed: u64,
    pub widths: Vec<usize>,
    pub id_bias: Vec<f32>,
    /// Beams constrained to prefixes of items in this trie.
    pub trie: Option<PrefixTrie>,
}

impl TableVerifier {
    pub fn new(seed: u64, trie: Option<PrefixTrie>) -> Self {
        Self {
            seed,
            widths: vec![4; 4],
            id_bias: vec![0.0; 4],
            trie,
        }
    }

    fn logit(&self, history: &[ItemId], prefix: &[u32], code: u32) -> f32 {
        let parts = history
            .iter()
            .map(|i| u64::from(i.0) + 1)
            .chain([u64::MAX])
            .chain(prefix.iter().map(|&c| u64::from(c) + 1))
            .chain([u64::MAX - 1, u64::from(code)]);
        let bias = if prefix.len() == self.widths.len() - 1 {
            self.id_bias[code as usize]
        } else {
            0.0
        };
        2.0 * unit(self.seed, parts) + bias
    }

    /// log p(code | history, prefix), exactly.
    pub fn log_prob(&self, history: &[ItemId], prefix: &[u32], code: u32) -> f32 {
        let width = self.widths[prefix.len()];
        let logits: Vec<f32> = (0..width as u32)
            .map(|c| self.logit(history, prefix, c))
            .collect();
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + logits.iter().map(|l| (l - max).exp()).sum::<f32>().ln();
        logits[code as usize] - lse
    }

    /// Summed log-probability of a code sequence.
    pub fn sequence(&self, history: &[ItemId], codes: &[u32]) -> f32 {
        (0..codes.len())
            .map(|d| self.log_prob(history, &codes[..d], codes[d]))
            .sum()
    }

    fn expand(&self, history: &[ItemId], beams: &[Beam], beam_size: usize) -> Vec<Beam> {
        let mut options: Vec<(f32, usize, u32)> = Vec::new();
        for (j, b) in beams.iter().enumerate() {
            let codes: Vec<u32> = match &self.trie {
                Some(t) => t.next_codes(&b.codes).to_vec(),
                None => (0..self.widths[b.codes.len()] as u32).collect(),
            };
            options.extend(
                codes
                    .into_iter()
                    .map(|c| (b.log_prob + self.log_prob(history, &b.codes, c), j, c)),
            );
        }
        options.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        options.truncate(beam_size);
        options
            .into_iter()
            .map(|(lp, j, c)| {
                let mut codes = beams[j].codes.clone();
                codes.push(c);
                Beam {
                    codes,
                    log_prob: lp,
                }
            })
            .collect()
    }

    /// The oracle beam search: the beams of `history` after each of `steps` steps.
    pub fn beams(&self, history: &[ItemId], beam_size: usize, steps: usize) -> Vec<Vec<Beam>> {
        let mut beams = vec![Beam {
            codes: Vec::new(),
            log_prob: 0.0,
        }];
        (0..steps)
            .map(|_| {
                beams = self.expand(history, &beams, beam_size);
                beams.clone()
            })
            .collect()
    }
}

pub struct TableSession {
    histories: Vec<Vec<ItemId>>,
    beams: Vec<Vec<Beam>>,
    depth: Vec<usize>,
    calls: usize,
}

impl Verifier for TableVerifier {
    type Session = TableSession;

    fn num_digits(&self) -> usize {
        self.widths.len()
    }

    fn begin(&self, histories: &[&[ItemId]]) -> speculative::Result<TableSession> {
        Ok(TableSession {
            histories: histories.iter().map(|h| h.to_vec()).collect(),
            beams: vec![
                vec![Beam {
                    codes: Vec::new(),
                    log_prob: 0.0
                }];
                histories.len()
            ],
            depth: vec![0; histories.len()],
            calls: 0,
        })
    }

    fn score(
        &self,
        s: &mut TableSession,
        queries: &[usize],
        candidates: &[Vec<&[u32]>],
    ) -> speculative::Result<Vec<Vec<Vec<f32>>>> {
        s.calls += 1;
        Ok(queries
            .iter()
            .zip(candidates)
            .map(|(&q, cands)| {
                cands
                    .iter()
                    .map(|c| {
                        (0..c.len())
                            .map(|d| self.log_prob(&s.histories[q], &c[..d], c[d]))
                            .collect()
                    })
                    .collect()
            })
            .collect())
    }

    fn beam_step(
        &self,
        s: &mut TableSession,
        queries: &[usize],
        beam_size: usize,
    ) -> speculative::Result<Vec<Vec<Beam>>> {
        s.calls += 1;
        Ok(queries
            .iter()
            .map(|&q| {
                s.beams[q] = self.expand(&s.histories[q], &s.beams[q], beam_size);
                s.depth[q] += 1;
                s.beams[q].clone()
            })
            .collect())
    }

    fn beam_depth(&self, s: &TableSession, query: usize) -> usize {
        s.depth[query]
    }

    fn decoder_calls(&self, s: &TableSession) -> usize {
        s.calls
    }
}

/// One drafter call for one query: the guiding prefixes and the items returned.
#[derive(Debug, Clone)]
pub struct DraftCall {
    pub history: Vec<ItemId>,
    pub prefixes: Option<Vec<Vec<u32>>>,
    pub items: Vec<ItemId>,
}

/// A drafter with seeded hash scores per (history, item), searched by brute force
/// under the real [`DraftFilter`]; `boost` is added to the scores of the listed items.
pub struct TableDrafter {
    pub seed: u64,
    pub num_items: usize,
    pub boost: ItemSet,
    pub calls: RefCell<Vec<DraftCall>>,
    /// Precomputed query vectors received by `embed_queries`.
    pub vectors: RefCell<Vec<Vec<f32>>>,
}

impl TableDrafter {
    pub fn new(seed: u64, num_items: usize) -> Self {
        Self {
            seed,
            num_items,
            boost: ItemSet::new(),
            calls: RefCell::new(Vec::new()),
            vectors: RefCell::new(Vec::new()),
        }
    }

    pub fn score(&self, history: &[ItemId], item: ItemId) -> f32 {
        let parts = history
            .iter()
            .map(|i| u64::from(i.0))
            .chain([u64::MAX, u64::from(item.0)]);
        unit(self.seed, parts) + if self.boost.contains(item) { 2.0 } else { 0.0 }
    }

    /// The drafter's full ranking for a history (the oracle of drafting order).
    pub fn ranking(&self, history: &[ItemId]) -> Vec<ItemId> {
        let mut all: Vec<ItemId> = (0..self.num_items as u32).map(ItemId).collect();
        all.sort_by(|&a, &b| {
            self.score(history, b)
                .total_cmp(&self.score(history, a))
                .then(a.cmp(&b))
        });
        all
    }
}

impl Drafter for TableDrafter {
    fn name(&self) -> &str {
        "table"
    }
    fn dim(&self) -> usize {
        0
    }
    fn num_items(&self) -> usize {
        self.num_items
    }
    fn embed_queries(&self, queries: &[Query<'_>]) -> DrafterResult<Vec<Vec<f32>>> {
        self.vectors
            .borrow_mut()
            .extend(queries.iter().filter_map(|q| q.vector.map(<[f32]>::to_vec)));
        // The "vector" is the history itself, so `search` can recompute scores.
        Ok(queries
            .iter()
            .map(|q| q.history.iter().map(|i| i.0 as f32).collect())
            .collect())
    }
    fn search(
        &self,
        vectors: &[Vec<f32>],
        filters: &[DraftFilter<'_>],
        n: usize,
    ) -> DrafterResult<Vec<Vec<Neighbor>>> {
        Ok(vectors
            .iter()
            .zip(filters)
            .map(|(v, f)| {
                let history: Vec<ItemId> = v.iter().map(|&x| ItemId(x as u32)).collect();
                let prepared = f.prepare();
                let items: Vec<ItemId> = self
                    .ranking(&history)
                    .into_iter()
                    .filter(|&i| prepared.allows(i))
                    .take(n)
                    .collect();
                self.calls.borrow_mut().push(DraftCall {
                    history: history.clone(),
                    prefixes: f.prefixes.map(|p| p.prefixes.to_vec()),
                    items: items.clone(),
                });
                items
                    .into_iter()
                    .map(|item| Neighbor {
                        item,
                        score: self.score(&history, item),
                    })
                    .collect()
            })
            .collect())
    }
    fn add_items(&mut self, _items: &[ItemId], _embeddings: &[f32]) -> DrafterResult<()> {
        Ok(())
    }
}

/// Seeded histories over `num_items` items, distinct (query q starts with item q).
pub fn histories(count: usize, num_items: usize, seed: u64) -> Vec<Vec<ItemId>> {
    (0..count as u64)
        .map(|q| {
            let len = (mix(seed ^ (q << 20)) % 5) as usize;
            std::iter::once(ItemId(q as u32 % num_items as u32))
                .chain(
                    (0..len as u64).map(|p| {
                        ItemId((mix(seed ^ (q << 20) ^ (p + 1)) % num_items as u64) as u32)
                    }),
                )
                .collect()
        })
        .collect()
}

/// Item ids of a list.
pub fn items(list: &[speculative::Recommendation]) -> Vec<u32> {
    list.iter().map(|r| r.item.0).collect()
}
