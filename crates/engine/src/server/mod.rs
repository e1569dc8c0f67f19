//! The HTTP face of a [`Backend`]: SGLang's native API (`/generate`,
//! `/health`, `/get_model_info`, `/metrics`) and the OpenAI-compatible
//! `/v1/completions`, with replies shaped like those servers' so clients
//! written for them work unchanged. Any backend can sit behind it: the
//! embedded engine or the synthetic timing model.

mod openai;
mod sglang;
pub mod text;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use backend::{Backend, BackendError, GenerateOutput};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::ModelInfo;

/// Request and token counters behind `/metrics`.
#[derive(Default)]
pub struct Metrics {
    requests: AtomicU64,
    finished: AtomicU64,
    bad_requests: AtomicU64,
    running: AtomicU64,
    prompt_tokens: AtomicU64,
    generation_tokens: AtomicU64,
}

impl Metrics {
    fn finished(&self, out: &GenerateOutput) {
        self.finished.fetch_add(1, Ordering::Relaxed);
        self.prompt_tokens
            .fetch_add(out.prompt_tokens as u64, Ordering::Relaxed);
        self.generation_tokens
            .fetch_add(out.completion_tokens as u64, Ordering::Relaxed);
    }
}

/// Counts a request as running until dropped (also when a client hangs up).
struct Running(Arc<AppState>);

impl Running {
    fn new(state: &Arc<AppState>) -> Running {
        state.metrics.requests.fetch_add(1, Ordering::Relaxed);
        state.metrics.running.fetch_add(1, Ordering::Relaxed);
        Running(state.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.metrics.running.fetch_sub(1, Ordering::Relaxed);
    }
}

pub struct AppState {
    backend: Arc<dyn Backend>,
    info: ModelInfo,
    metrics: Metrics,
    next_id: AtomicU64,
}

impl AppState {
    fn request_id(&self, prefix: &str) -> String {
        format!(
            "{prefix}-{:x}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// An error reply: `{"error": {"message", "type", "code"}}` with a 4xx/5xx status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> ApiError {
        let status = match e {
            BackendError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            BackendError::Overloaded(_) => StatusCode::TOO_MANY_REQUESTS,
            BackendError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = if self.status.is_client_error() {
            "invalid_request_error"
        } else {
            "server_error"
        };
        let body =
            json!({"error": {"message": self.message, "type": kind, "code": self.status.as_u16()}});
        (self.status, Json(body)).into_response()
    }
}

/// Parses a JSON body with an error that says what was wrong and where.
fn parse_body<T: DeserializeOwned>(state: &AppState, body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        state.metrics.bad_requests.fetch_add(1, Ordering::Relaxed);
        ApiError::bad_request(format!("malformed JSON body: {e}"))
    })
}

fn count_bad(state: &AppState, e: ApiError) -> ApiError {
    if e.status.is_client_error() {
        state.metrics.bad_requests.fetch_add(1, Ordering::Relaxed);
    }
    e
}

/// Builds the router for `backend`.
pub fn router(backend: Arc<dyn Backend>, info: ModelInfo) -> Router {
    let state = Arc::new(AppState {
        backend,
        info,
        metrics: Metrics::default(),
        next_id: AtomicU64::new(1),
    });
    Router::new()
        .route("/generate", post(sglang::generate))
        .route("/v1/completions", post(openai::completions))
        .route("/v1/models", get(openai::models))
        .route("/health", get(health))
        .route("/health_generate", get(health))
        .route("/get_model_info", get(model_info))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight
/// requests (streams included) finish. Nagle is off on every connection:
/// with it, a stream's first SSE chunk waits for the client to acknowledge
/// the response head (a delayed ACK, up to 40 ms), which lands in TTFT.
pub async fn serve(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn Backend>,
    info: ModelInfo,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY on a connection: {e}");
        }
    });
    axum::serve(listener, router(backend, info))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The JSON chunk both protocols stream when a generation fails mid-way.
fn error_chunk(message: &str) -> String {
    json!({"error": {"message": message, "type": "server_error", "code": 500}}).to_string()
}

/// An SSE reply: the protocol's `events`, then the `data: [DONE]` line
/// SGLang and OpenAI clients wait for.
fn sse_with_done<S>(events: S) -> Response
where
    S: futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>
        + Send
        + 'static,
{
    use futures::StreamExt;
    let done = futures::stream::once(async {
        Ok::<_, std::convert::Infallible>(axum::response::sse::Event::default().data("[DONE]"))
    });
    axum::response::sse::Sse::new(events.chain(done)).into_response()
}

async fn health() -> StatusCode {
    StatusCode::OK
}

async fn model_info(State(s): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let i = &s.info;
    Json(json!({
        "model_path": i.model_name,
        "tokenizer_path": "o200k_harmony",
        "is_generation": true,
        "vocab_size": i.vocab_size,
        "max_context_length": i.max_context,
        "eos_token_ids": i.eos_token_ids,
        "synthetic": i.synthetic,
    }))
}

async fn metrics(State(s): State<Arc<AppState>>) -> impl IntoResponse {
    let m = &s.metrics;
    let g = |v: &AtomicU64| v.load(Ordering::Relaxed);
    let name = s.info.model_name.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::new();
    for (metric, kind, help, value) in [
        (
            "sglang:num_requests_total",
            "counter",
            "Generation requests received.",
            g(&m.requests),
        ),
        (
            "sglang:num_finished_requests_total",
            "counter",
            "Generation requests finished.",
            g(&m.finished),
        ),
        (
            "sglang:num_bad_requests_total",
            "counter",
            "Requests refused with a 4xx.",
            g(&m.bad_requests),
        ),
        (
            "sglang:num_running_reqs",
            "gauge",
            "Requests being served now.",
            g(&m.running),
        ),
        (
            "sglang:prompt_tokens_total",
            "counter",
            "Prompt tokens of finished requests.",
            g(&m.prompt_tokens),
        ),
        (
            "sglang:generation_tokens_total",
            "counter",
            "Generated tokens of finished requests.",
            g(&m.generation_tokens),
        ),
    ] {
        out.push_str(&format!("# HELP {metric} {help}\n# TYPE {metric} {kind}\n{metric}{{model_name=\"{name}\"}} {value}\n"));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
