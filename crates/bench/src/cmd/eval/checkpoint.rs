//! Resumable evaluation. With `--report DIR` (and one repetition), each method's lists
//! are saved under `DIR/checkpoint/` every `--checkpoint-every` examples, so the same
//! command run again after a kill computes only what is missing and ends with the
//! report an uninterrupted run writes. A full-test table of a dozen methods takes
//! hours of a CPU core; without this, a run stopped in its last method started over.
//!
//! The directory holds `key.json`, every setting that decides the lists (the report's
//! provenance settings, with the device and the binary's build, and the seed), and per method and
//! chunk of examples a `<method>.<chunk>.lists` file (the lists and their scores,
//! binary) with its `<method>.<chunk>.json` (its SpecGR counters and seconds), each
//! written through a temporary and a rename, the JSON last: a chunk counts as done
//! only once both are whole. A run with other settings is refused rather than mixed
//! in. The directory is removed once the report is written.
//!
//! A chunk holds a whole number of batches, so every batch is the one an uninterrupted
//! run forms, and the lists are the same.

use std::path::{Path, PathBuf};

use anyhow::Context;
use recdata::ItemId;
use speculative::StepStats;

use super::method::{MethodId, Output};

/// The examples a chunk holds by default.
pub const DEFAULT_EXAMPLES: usize = 1024;

/// What a finished chunk's JSON file says.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ChunkInfo {
    /// Lists in the chunk.
    lists: usize,
    /// Wall seconds the chunk took.
    seconds: f64,
    /// The SpecGR loop's counters of the chunk.
    stats: Option<StepStats>,
}

/// The first bytes of a lists file.
const MAGIC: &[u8; 8] = b"SPGRLST1";

/// An evaluation's checkpoint directory.
pub struct Checkpoint {
    dir: PathBuf,
    /// Examples per chunk: a multiple of the batch size.
    chunk: usize,
}

/// The examples per chunk for `every` requested and batches of `batch`: `every`
/// rounded up to a whole number of batches.
pub fn chunk_size(every: usize, batch: usize) -> usize {
    let batch = batch.max(1);
    every.max(1).div_ceil(batch) * batch
}

impl Checkpoint {
    /// Opens (or starts) the checkpoint of `report` for the run `key` describes, with
    /// chunks of `chunk` examples. A checkpoint of other settings is refused, naming
    /// the settings that differ.
    pub fn open(report: &Path, key: serde_json::Value, chunk: usize) -> anyhow::Result<Self> {
        let dir = report.join("checkpoint");
        let key = serde_json::json!({ "chunk": chunk, "run": key });
        let key_path = dir.join("key.json");
        match std::fs::read_to_string(&key_path) {
            Ok(text) => {
                let old: serde_json::Value = serde_json::from_str(&text)
                    .with_context(|| format!("{}: not a checkpoint key (remove {} to start over)", key_path.display(), dir.display()))?;
                if old != key {
                    let mut differ = Vec::new();
                    differences("", &old, &key, &mut differ);
                    anyhow::bail!(
                        "{} holds a checkpoint of another evaluation (it differs in {}); give another --report directory, or remove {} to start this one over",
                        report.display(),
                        differ.join(", "),
                        dir.display()
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                recdata::fsio::write_atomic(&key_path, serde_json::to_string_pretty(&key)?.as_bytes())?;
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", key_path.display())),
        }
        Ok(Self { dir, chunk })
    }

    /// Examples per chunk.
    pub fn chunk(&self) -> usize {
        self.chunk
    }

    fn paths(&self, method: MethodId, index: usize) -> (PathBuf, PathBuf) {
        let stem = format!("{}.{index}", method.id());
        (self.dir.join(format!("{stem}.lists")), self.dir.join(format!("{stem}.json")))
    }

    /// The saved output of `method`'s chunk `index` and its seconds, if it is done; it
    /// must hold `lists` lists.
    pub fn load(&self, method: MethodId, index: usize, lists: usize) -> anyhow::Result<Option<(Output, f64)>> {
        let (lists_path, info_path) = self.paths(method, index);
        let text = match std::fs::read_to_string(&info_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", info_path.display())),
        };
        let corrupt = |what: String| anyhow::anyhow!("{what} (remove {} to start over)", self.dir.display());
        let info: ChunkInfo =
            serde_json::from_str(&text).map_err(|e| corrupt(format!("{}: not a chunk record: {e}", info_path.display())))?;
        if info.lists != lists {
            return Err(corrupt(format!("{}: {} lists, expected {lists}", info_path.display(), info.lists)));
        }
        let bytes = std::fs::read(&lists_path).with_context(|| format!("reading {}", lists_path.display()))?;
        let (items, scores) = decode(&bytes, lists).map_err(|e| corrupt(format!("{}: {e}", lists_path.display())))?;
        Ok(Some((Output { lists: items, scores, stats: info.stats }, info.seconds)))
    }

    /// Saves `method`'s chunk `index`: the lists file, then the JSON that marks it done.
    pub fn save(&self, method: MethodId, index: usize, out: &Output, seconds: f64) -> anyhow::Result<()> {
        let (lists_path, info_path) = self.paths(method, index);
        recdata::fsio::write_atomic(&lists_path, &encode(&out.lists, &out.scores))?;
        let info = ChunkInfo { lists: out.lists.len(), seconds, stats: out.stats.clone() };
        recdata::fsio::write_atomic(&info_path, serde_json::to_string(&info)?.as_bytes())?;
        Ok(())
    }

    /// Removes the directory: the report it was kept for is written.
    pub fn finish(self) -> anyhow::Result<()> {
        std::fs::remove_dir_all(&self.dir).with_context(|| format!("removing {}", self.dir.display()))
    }
}

/// The top-level-first paths at which `a` and `b` differ (`run.inputs.tiger`).
fn differences(at: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => differences(&path, p, q, out),
                    _ => out.push(path),
                }
            }
        }
        _ if a != b => out.push(if at.is_empty() { "everything".to_owned() } else { at.to_owned() }),
        _ => {}
    }
}

/// The lists file: the magic, the list count, then per list its length, its items and
/// their scores, all little-endian 32-bit.
fn encode(lists: &[Vec<ItemId>], scores: &[Vec<f32>]) -> Vec<u8> {
    let mut b = Vec::with_capacity(12 + lists.iter().map(|l| 4 + 8 * l.len()).sum::<usize>());
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&(lists.len() as u32).to_le_bytes());
    for (i, list) in lists.iter().enumerate() {
        b.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for item in list {
            b.extend_from_slice(&item.0.to_le_bytes());
        }
        // A method without scores for a list writes NaN for each item.
        let s = scores.get(i).filter(|s| s.len() == list.len());
        for j in 0..list.len() {
            b.extend_from_slice(&s.map_or(f32::NAN, |s| s[j]).to_le_bytes());
        }
    }
    b
}

/// Reads what [`encode`] wrote, which must hold `expected` lists.
fn decode(bytes: &[u8], expected: usize) -> Result<(Vec<Vec<ItemId>>, Vec<Vec<f32>>), String> {
    if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err("not a lists file".into());
    }
    let mut at = MAGIC.len();
    let mut word = || -> Result<[u8; 4], String> {
        let w = bytes.get(at..at + 4).ok_or_else(|| format!("cut short at byte {at}"))?;
        at += 4;
        Ok(w.try_into().expect("4 bytes"))
    };
    let n = u32::from_le_bytes(word()?) as usize;
    if n != expected {
        return Err(format!("{n} lists, expected {expected}"));
    }
    let (mut lists, mut scores) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let len = u32::from_le_bytes(word()?) as usize;
        let items = (0..len).map(|_| word().map(|w| ItemId(u32::from_le_bytes(w)))).collect::<Result<Vec<_>, _>>()?;
        let s = (0..len).map(|_| word().map(f32::from_le_bytes)).collect::<Result<Vec<_>, _>>()?;
        lists.push(items);
        scores.push(s);
    }
    let rest = bytes.len() - at;
    if rest != 0 {
        return Err(format!("{rest} bytes after the last list"));
    }
    Ok((lists, scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(lists: &[&[u32]], stats: Option<StepStats>) -> Output {
        Output {
            lists: lists.iter().map(|l| l.iter().map(|&i| ItemId(i)).collect()).collect(),
            scores: lists.iter().map(|l| l.iter().map(|&i| -(i as f32) / 3.0).collect()).collect(),
            stats,
        }
    }

    #[test]
    fn chunks_are_whole_batches() {
        assert_eq!(chunk_size(1024, 32), 1024);
        assert_eq!(chunk_size(1000, 32), 1024);
        assert_eq!(chunk_size(1, 32), 32);
        assert_eq!(chunk_size(100, 1), 100);
    }

    /// What is saved loads back bit for bit; a chunk not saved, or only half saved (its
    /// lists without its record), is not done.
    #[test]
    fn saved_chunks_load_back_and_half_saved_ones_do_not_count() {
        let tmp = tempfile::tempdir().unwrap();
        let key = serde_json::json!({ "k": 50 });
        let c = Checkpoint::open(tmp.path(), key.clone(), 64).unwrap();
        let stats = StepStats { queries: 2, beam_steps: 7, ..Default::default() };
        let a = out(&[&[3, 1, 4], &[], &[1, 5]], Some(stats.clone()));
        c.save(MethodId::SpecgrKnn, 0, &a, 1.5).unwrap();
        let (b, s) = c.load(MethodId::SpecgrKnn, 0, 3).unwrap().unwrap();
        assert_eq!((&b.lists, b.stats, s), (&a.lists, Some(stats), 1.5));
        assert_eq!(b.scores.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>(),
                   a.scores.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>());
        assert!(c.load(MethodId::SpecgrKnn, 1, 3).unwrap().is_none());
        assert!(c.load(MethodId::Tiger, 0, 3).unwrap().is_none());
        // A kill between the two writes leaves the lists without the record.
        let (lists, _) = c.paths(MethodId::Tiger, 0);
        std::fs::write(lists, encode(&a.lists, &a.scores)).unwrap();
        assert!(c.load(MethodId::Tiger, 0, 3).unwrap().is_none());
        // Reopened with the same key, the chunk is still there; wrong counts are refused.
        let c = Checkpoint::open(tmp.path(), key, 64).unwrap();
        assert!(c.load(MethodId::SpecgrKnn, 0, 3).unwrap().is_some());
        let err = c.load(MethodId::SpecgrKnn, 0, 4).unwrap_err().to_string();
        assert!(err.contains("3 lists, expected 4") && err.contains("to start over"), "{err}");
        c.finish().unwrap();
        assert!(!tmp.path().join("checkpoint").exists());
    }

    #[test]
    fn a_checkpoint_of_other_settings_is_refused_naming_them() {
        let tmp = tempfile::tempdir().unwrap();
        Checkpoint::open(tmp.path(), serde_json::json!({ "k": 50, "inputs": { "tiger": "a", "ids": 1 } }), 64).unwrap();
        let err = Checkpoint::open(tmp.path(), serde_json::json!({ "k": 50, "inputs": { "tiger": "b", "ids": 1 } }), 64)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("run.inputs.tiger") && !err.contains("ids") && err.contains("another --report"), "{err}");
        let err = Checkpoint::open(tmp.path(), serde_json::json!({ "k": 50, "inputs": { "tiger": "a", "ids": 1 } }), 32)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("chunk"), "{err}");
    }

    #[test]
    fn damaged_lists_files_are_refused() {
        let a = out(&[&[3, 1, 4], &[2]], None);
        let bytes = encode(&a.lists, &a.scores);
        assert!(decode(&bytes, 2).is_ok());
        assert!(decode(&bytes[..bytes.len() - 1], 2).unwrap_err().contains("cut short"));
        assert!(decode(&bytes, 3).unwrap_err().contains("expected 3"));
        assert!(decode(b"nonsense", 2).unwrap_err().contains("not a lists file"));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, 2).unwrap_err().contains("after the last list"));
    }
}
