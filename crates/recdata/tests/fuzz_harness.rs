//! The property-test harness shared by the crates' reader tests (`recdata`, `semid`,
//! `gr-model` include this file): seed files with random edits, run for a number of
//! cases or, with `SPECGR_FUZZ_SECS` set, for that many seconds.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// One edit of a seed file.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Delete up to `len` bytes at a position.
    Delete { at: usize, len: usize },
    /// Insert bytes at a position.
    Insert { at: usize, bytes: Vec<u8> },
    /// Copy a slice of the file to another position.
    Duplicate { from: usize, len: usize, to: usize },
    /// Cut the file at a position.
    Truncate { at: usize },
}

/// Bytes that mean something to one of the formats, and any byte now and then.
fn syntax_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(b",\"'\n\r{}[]:\\ -0123456789aeTFNu.#=".to_vec()),
        1 => any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..16).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), prop::collection::vec(syntax_byte(), 1..8)).prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
        (any::<usize>(), 1usize..64, any::<usize>()).prop_map(|(from, len, to)| Edit::Duplicate { from, len, to }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

/// Edits for the files of one case.
pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 0..6)
}

/// Applies edits to a seed.
pub fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let n = b.len();
        let pos = |at: usize| if n == 0 { 0 } else { at % (n + 1) };
        match e {
            Edit::Delete { at, len } => {
                let start = pos(*at);
                b.drain(start..(start + len).min(n));
            }
            Edit::Insert { at, bytes } => {
                let at = pos(*at);
                b.splice(at..at, bytes.iter().copied());
            }
            Edit::Duplicate { from, len, to } => {
                let start = pos(*from);
                let slice = b[start..(start + len).min(n)].to_vec();
                let to = pos(*to);
                b.splice(to..to, slice);
            }
            Edit::Truncate { at } => b.truncate(pos(*at)),
        }
    }
    b
}

/// Runs `test` on cases drawn from `strategy`: 256 in `cargo test`, or as many as
/// `SPECGR_FUZZ_SECS` seconds allow. A panic in `test` fails with the (shrunk) case.
pub fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value)) {
    let secs: Option<f64> = std::env::var("SPECGR_FUZZ_SECS").ok().and_then(|s| s.parse().ok());
    let cases = 256;
    let start = std::time::Instant::now();
    let mut total = 0u64;
    for round in 0u64.. {
        // Short runs are the same every time; each round of a long run has its own seed.
        let mut seed = [0u8; 32];
        let salt = if secs.is_some() { start.elapsed().as_nanos() as u64 } else { 0 };
        seed[..8].copy_from_slice(&round.to_le_bytes());
        seed[8..16].copy_from_slice(&salt.to_le_bytes());
        let config = Config { cases, failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        if let Err(e) = runner.run(&strategy, |value| {
            test(value);
            Ok(())
        }) {
            panic!("{name}: {e}");
        }
        total += u64::from(cases);
        if secs.is_none_or(|s| start.elapsed().as_secs_f64() >= s) {
            break;
        }
    }
    eprintln!("fuzz {name}: {total} cases in {:.1} s, no panic", start.elapsed().as_secs_f64());
}
