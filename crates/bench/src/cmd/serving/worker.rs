//! The model thread of `specgr serve`: it owns the loaded run and answers jobs one
//! batch at a time. Recommendation requests that arrive within `--max-wait-ms` of the
//! first are run together, up to `--batch-size`; a catalog change (add, remove) runs
//! alone, is written to the overlay before it is answered, and the method is built
//! again over the changed catalog before the next batch.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use burn::tensor::backend::Backend;
use serde::Serialize;
use tokio::sync::oneshot;

use super::Served;
use super::items::Embedder;
use super::metrics::Metrics;
use super::overlay::AddedItem;
use super::recommend::{MethodRun, Scored, run_batch};
use super::requests::{self, BadInput, RecommendRequest};
use crate::cmd::eval::methods;

/// A refused or failed job: the HTTP status, and the field and message of its JSON body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// What was wrong.
    pub error: BadInput,
}

impl ApiError {
    /// A refusal of `field` with `status`.
    pub fn new(status: u16, field: &str, message: impl Into<String>) -> Self {
        Self { status, error: BadInput::new(field, message) }
    }
}

/// A recommendation answer.
#[derive(Debug, Serialize)]
pub struct Recommended {
    /// The request's `id`, echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    /// The method's id.
    pub method: &'static str,
    /// The list, best first.
    pub items: Vec<Scored>,
}

/// An add's answer.
#[derive(Debug, Serialize)]
pub struct Added {
    /// The item's id.
    pub id: String,
    /// Its item number.
    pub item: u32,
    /// Its semantic ID, identification digit last.
    pub semantic_id: Vec<u32>,
    /// The overlay version that holds it.
    pub version: u64,
}

/// A removal's answer.
#[derive(Debug, Serialize)]
pub struct Removed {
    /// The item's id.
    pub removed: String,
    /// The overlay version that records it.
    pub version: u64,
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

/// Work for the model thread.
pub enum Job {
    /// A `POST /recommend` body.
    Recommend(String, Reply<Recommended>),
    /// A `POST /items` body.
    Add(String, Reply<Added>),
    /// A `DELETE /items/{id}`.
    Remove(String, Reply<Removed>),
}

/// The settings of the model thread.
pub struct WorkerConfig {
    /// The run and method.
    pub run: MethodRun,
    /// The encoder directory for added items' texts.
    pub encoder: Option<std::path::PathBuf>,
    /// How long the first request of a batch waits for others.
    pub max_wait: Duration,
}

/// Loads the run, says so on `ready`, and answers `jobs` until every sender is gone.
/// Holds the lock of the run's `catalog/` throughout, so no `specgr items` command
/// writes the overlay behind the server's back.
pub fn run<B: Backend>(
    config: WorkerConfig,
    device: B::Device,
    jobs: Receiver<Job>,
    metrics: Arc<Metrics>,
    ready: std::sync::mpsc::Sender<anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let loaded = (|| {
        let run_dir = recdata::RunDir::new(&config.run.run.runs, &config.run.run.dataset.name()?);
        let lock = crate::cmd::lock_run_dir(&run_dir.catalog())?;
        let served = config.run.open::<B>(&device)?;
        let (eval, gamma) = config.run.gamma(&served)?;
        methods::build(config.run.method, &served.resources, &eval, gamma)?;
        anyhow::Ok((lock, served, eval, gamma))
    })();
    let (_lock, mut served, eval, gamma) = match loaded {
        Ok(l) => l,
        Err(e) => {
            let message = format!("{e:#}");
            let _ = ready.send(Err(e));
            anyhow::bail!("{message}");
        }
    };
    metrics.catalog_items.store(served.num_live(), Ordering::Relaxed);
    let _ = ready.send(Ok(()));
    let mut embedder = Embedder::<B>::new(config.encoder.clone());
    let batch = config.run.spec.batch_size.max(1);
    let mut carry: Option<Job> = None;
    loop {
        // Batches under one built method, until a catalog change or the end.
        let change = {
            let method = methods::build(config.run.method, &served.resources, &eval, gamma)?;
            loop {
                let first = match carry.take() {
                    Some(job) => job,
                    None => match jobs.recv() {
                        Ok(job) => job,
                        Err(_) => return Ok(()),
                    },
                };
                let Job::Recommend(body, reply) = first else { break first };
                let mut group = vec![(body, reply)];
                let deadline = Instant::now() + config.max_wait;
                while group.len() < batch {
                    match jobs.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                        Ok(Job::Recommend(body, reply)) => group.push((body, reply)),
                        Ok(other) => {
                            carry = Some(other);
                            break;
                        }
                        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                    }
                }
                answer(&served, method.as_ref(), group, config.run.spec.k, &metrics);
                // Only a catalog change is ever carried over.
                if let Some(change) = carry.take() {
                    break change;
                }
            }
        };
        match change {
            Job::Add(body, reply) => {
                let _ = reply.send(add(&mut served, &mut embedder, &body, &device));
            }
            Job::Remove(id, reply) => {
                let _ = reply.send(remove(&mut served, &id));
            }
            Job::Recommend(..) => unreachable!("recommendations are answered in the batch loop"),
        }
        metrics.catalog_items.store(served.num_live(), Ordering::Relaxed);
    }
}

/// Parses and runs one group of recommendation bodies as one batch.
fn answer<B: Backend>(
    served: &Served<B>,
    method: &dyn crate::cmd::eval::Method,
    group: Vec<(String, Reply<Recommended>)>,
    k: usize,
    metrics: &Metrics,
) {
    let max_history = served.run.resolved.split.max_history();
    let mut parsed: Vec<(RecommendRequest, Reply<Recommended>)> = Vec::new();
    for (body, reply) in group {
        match requests::recommend(&body, |key| served.item(key), k, k, max_history) {
            Ok(request) => parsed.push((request, reply)),
            Err(e) => {
                let _ = reply.send(Err(ApiError { status: 400, error: e }));
            }
        }
    }
    if parsed.is_empty() {
        return;
    }
    let refs: Vec<&RecommendRequest> = parsed.iter().map(|(r, _)| r).collect();
    metrics.batches.fetch_add(1, Ordering::Relaxed);
    metrics.batched_requests.fetch_add(refs.len() as u64, Ordering::Relaxed);
    match run_batch(served, method, &refs) {
        Ok(lists) => {
            for ((request, reply), items) in parsed.into_iter().zip(lists) {
                let _ = reply.send(Ok(Recommended { id: request.id, method: method.id().id(), items }));
            }
        }
        Err(e) => {
            let message = format!("{} failed: {e:#}", method.id());
            for (_, reply) in parsed {
                let _ = reply.send(Err(ApiError::new(500, "", message.clone())));
            }
        }
    }
}

fn add<B: Backend>(served: &mut Served<B>, embedder: &mut Embedder<B>, body: &str, device: &B::Device) -> Result<Added, ApiError> {
    let dim = semid::Quantizer::dim(&served.resources.semid.quantizer);
    let (id, text, embedding) = requests::new_item(body, dim).map_err(|error| ApiError { status: 400, error })?;
    served.check_new_id(&id).map_err(|e| ApiError::new(409, "id", e))?;
    let embedding = embedder
        .embedding(&text, embedding, &served.run.run_dir, device)
        .map_err(|e| ApiError::new(503, "text", format!("{e:#}")))?;
    let item = served.add(AddedItem { id: id.clone(), text, embedding }).map_err(|e| ApiError::new(422, "embedding", format!("{e:#}")))?;
    served.persist().map_err(|e| ApiError::new(500, "", format!("item `{id}` is served but was not saved: {e:#}")))?;
    let semantic_id = served.resources.ids().codes(item.0).to_vec();
    Ok(Added { id, item: item.0, semantic_id, version: served.overlay.version })
}

fn remove<B: Backend>(served: &mut Served<B>, id: &str) -> Result<Removed, ApiError> {
    match served.item(id) {
        None => return Err(ApiError::new(404, "id", format!("no item `{id}` in the catalog"))),
        Some(item) if served.is_removed(item) => return Err(ApiError::new(409, "id", format!("item `{id}` was already removed"))),
        Some(_) => {}
    }
    served.remove(id).map_err(|e| ApiError::new(409, "id", format!("{e:#}")))?;
    served.persist().map_err(|e| ApiError::new(500, "", format!("item `{id}` is no longer served but its removal was not saved: {e:#}")))?;
    Ok(Removed { removed: id.to_owned(), version: served.overlay.version })
}
