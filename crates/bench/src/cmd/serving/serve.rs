//! `specgr serve`: the HTTP front of a saved run (axum on tokio).
//!
//! `POST /recommend` (a `specgr recommend` line as the body), `POST /items` (a
//! `specgr items add` line), `DELETE /items/{id}`, `GET /health`, `GET /metrics`.
//! Handlers only parse the envelope and wait; the model thread ([`super::worker`])
//! batches requests across clients and applies catalog changes. Every refusal is a
//! 4xx with `{"error": {"field": ..., "message": ...}}`. SIGTERM (or Ctrl-C) stops
//! accepting connections, lets the requests in flight finish (catalog writes happen
//! before their answer), and then ends the model thread.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use burn::tensor::backend::Backend;
use serde::Serialize;
use tokio::sync::oneshot;

use super::metrics::Metrics;
use super::recommend::MethodRun;
use super::worker::{self, ApiError, Job, WorkerConfig};

/// `specgr serve` arguments.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The run and the method; `--batch-size` is the most requests run together.
    #[command(flatten)]
    pub run: MethodRun,
    /// The address to listen on (loopback by default; port 0 takes a free port). The
    /// address is printed on stdout once the models are loaded.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,
    /// How long the first request of a batch waits for others, in milliseconds.
    #[arg(long, default_value_t = 5)]
    pub max_wait_ms: u64,
    /// The largest request body, in bytes (larger: 413).
    #[arg(long, default_value_t = 1 << 20, value_parser = crate::cmd::args::positive)]
    pub max_body: usize,
    /// The sentence encoder for the texts of `POST /items` (see `specgr items add --encoder`).
    #[arg(long)]
    pub encoder: Option<std::path::PathBuf>,
}

/// What every handler shares.
struct App {
    jobs: Sender<Job>,
    metrics: Arc<Metrics>,
    method: &'static str,
}

/// Runs `specgr serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    crate::with_backend!(args.run.run.device, |B, device| serve::<B>(args, device))
}

fn serve<B: Backend>(args: ServeArgs, device: B::Device) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::default());
    let (jobs, inbox) = std::sync::mpsc::channel();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let method = args.run.method.id();
    let config = WorkerConfig {
        run: args.run,
        encoder: args.encoder.clone(),
        max_wait: Duration::from_millis(args.max_wait_ms),
    };
    let worker_metrics = metrics.clone();
    let model = std::thread::Builder::new()
        .name("model".into())
        .spawn(move || worker::run::<B>(config, device, inbox, worker_metrics, ready_tx))
        .context("starting the model thread")?;
    if let Ok(Err(e)) | Err(e) = ready.recv().map_err(anyhow::Error::from) {
        let _ = model.join();
        return Err(e.context("loading the run"));
    }
    let app = Arc::new(App { jobs, metrics, method });
    let router = Router::new()
        .route("/recommend", post(recommend))
        .route("/items", post(add_item))
        .route("/items/{id}", delete(remove_item))
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(DefaultBodyLimit::max(args.max_body))
        .with_state(app);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
        let local = listener.local_addr()?;
        println!("listening on http://{local}");
        eprintln!("specgr serve: {method} on http://{local} (SIGTERM or Ctrl-C stops it)");
        axum::serve(listener, router).with_graceful_shutdown(shutdown()).await.context("serving")
    })?;
    // The router and with it every job sender are gone: the model thread finishes the
    // jobs it holds and returns.
    drop(runtime);
    model.join().map_err(|_| anyhow::anyhow!("the model thread panicked"))??;
    eprintln!("specgr serve: stopped");
    Ok(())
}

/// Resolves at SIGTERM or Ctrl-C.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The JSON error body.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a super::requests::BadInput,
}

/// A JSON response; errors as `{"error": {"field", "message"}}`, a missing field
/// naming the body.
fn respond<T: Serialize>(result: Result<(StatusCode, T), ApiError>) -> Response {
    match result {
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(mut e) => {
            if e.error.field.is_empty() {
                e.error.field = "body".into();
            }
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(ErrorBody { error: &e.error })).into_response()
        }
    }
}

/// The body as UTF-8 text, or the refusal of an unreadable or oversized one.
fn body_text(body: Result<Bytes, BytesRejection>) -> Result<String, ApiError> {
    let bytes = body.map_err(|r| ApiError::new(r.status().as_u16(), "body", r.body_text()))?;
    String::from_utf8(bytes.to_vec()).map_err(|e| ApiError::new(400, "body", format!("not UTF-8 text: {e}")))
}

/// Sends a job to the model thread and waits for its answer.
async fn ask<T>(app: &App, job: impl FnOnce(oneshot::Sender<Result<T, ApiError>>) -> Job) -> Result<T, ApiError> {
    let (tx, rx) = oneshot::channel();
    app.jobs.send(job(tx)).map_err(|_| ApiError::new(503, "", "the server is shutting down"))?;
    rx.await.map_err(|_| ApiError::new(500, "", "the model thread stopped before answering"))?
}

/// Times a handler's work and counts its status under `route`.
async fn timed<T: Serialize>(app: &App, route: &'static str, work: impl Future<Output = Result<(StatusCode, T), ApiError>>) -> Response {
    let start = Instant::now();
    let response = respond(work.await);
    app.metrics.record(route, response.status().as_u16(), start.elapsed());
    response
}

async fn recommend(State(app): State<Arc<App>>, body: Result<Bytes, BytesRejection>) -> Response {
    timed(&app, "recommend", async {
        let text = body_text(body)?;
        Ok((StatusCode::OK, ask(&app, |tx| Job::Recommend(text, tx)).await?))
    })
    .await
}

async fn add_item(State(app): State<Arc<App>>, body: Result<Bytes, BytesRejection>) -> Response {
    timed(&app, "items_add", async {
        let text = body_text(body)?;
        Ok((StatusCode::CREATED, ask(&app, |tx| Job::Add(text, tx)).await?))
    })
    .await
}

async fn remove_item(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    timed(&app, "items_remove", async { Ok((StatusCode::OK, ask(&app, |tx| Job::Remove(id, tx)).await?)) }).await
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    method: &'static str,
    catalog_items: usize,
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let catalog_items = app.metrics.catalog_items.load(std::sync::atomic::Ordering::Relaxed);
    timed(&app, "health", async { Ok((StatusCode::OK, Health { status: "ok", method: app.method, catalog_items })) }).await
}

async fn metrics_text(State(app): State<Arc<App>>) -> Response {
    let start = Instant::now();
    let response = ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render()).into_response();
    app.metrics.record("metrics", 200, start.elapsed());
    response
}

async fn not_found(State(app): State<Arc<App>>) -> Response {
    timed::<()>(&app, "other", async {
        Err(ApiError::new(
            404,
            "path",
            "no such route: POST /recommend, POST /items, DELETE /items/{id}, GET /health, GET /metrics",
        ))
    })
    .await
}
