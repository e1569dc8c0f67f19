//! The HTTP face of a [`Backend`]: SGLang's native API (`/generate`,
//! `/health`, `/get_model_info`, `/metrics`) and the OpenAI-compatible
//! `/v1/completions`, with replies shaped like those servers' so clients
//! written for them work unchanged. Any backend can sit behind it: the
//! embedded engine or the synthetic timing model.

mod metrics;
mod openai;
mod sglang;
pub(crate) mod text;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use backend::{Backend, BackendError, Event, GenerateOutput, GenerateRequest, Generation};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::stats::Finished;
use crate::ModelInfo;
use text::TextDecoder;

/// Request and token counters behind `/metrics`.
#[derive(Default)]
struct Metrics {
    requests: AtomicU64,
    bad_requests: AtomicU64,
    running: AtomicU64,
    finished: Finished,
    throughput: metrics::Throughput,
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

/// What every handler shares: the backend, what to report about its model,
/// how to shape replies, and the counters.
struct AppState {
    backend: Arc<dyn Backend>,
    info: ModelInfo,
    options: ServeOptions,
    metrics: Metrics,
    next_id: AtomicU64,
}

/// How SGLang's `/generate` streams `output_ids` and `text`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StreamOutput {
    /// Each chunk holds only what is new (SGLang's
    /// `--incremental-streaming-output`); cheapest for both sides.
    #[default]
    Incremental,
    /// Each chunk repeats every id and all text so far: SGLang's default.
    Cumulative,
}

/// The server's reply shapes that real servers choose by flag.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOptions {
    /// How `/generate` streams ids and text.
    pub sglang_stream_output: StreamOutput,
}

impl AppState {
    fn request_id(&self, prefix: &str) -> String {
        format!(
            "{prefix}-{:x}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// An error reply with a 4xx/5xx status, in the shape of the route's server.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
    shape: ErrorShape,
}

/// How a server writes its error replies.
#[derive(Debug, Clone, Copy)]
enum ErrorShape {
    /// OpenAI's, as vLLM writes it: `{"error": {"message", "type", "param", "code"}}`.
    OpenAi,
    /// SGLang's `/generate`: `{"error": {"message"}}` for a refused request,
    /// its OpenAI-style `{"object": "error", "message", "type", "param",
    /// "code"}` for a 503.
    Sglang,
}

impl ApiError {
    /// A 400 whose message says what was wrong with the request.
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            shape: ErrorShape::OpenAi,
        }
    }

    /// The same error in SGLang's `/generate` shape.
    fn sglang(self) -> ApiError {
        ApiError {
            shape: ErrorShape::Sglang,
            ..self
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> ApiError {
        let status = match e {
            BackendError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            // SGLang (a full queue) and vLLM (a retryable error) both say 503.
            BackendError::Overloaded(_) | BackendError::ShuttingDown => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            message: e.to_string(),
            shape: ErrorShape::OpenAi,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.status.as_u16();
        let body = match self.shape {
            ErrorShape::Sglang if self.status.is_client_error() => {
                json!({"error": {"message": self.message}})
            }
            ErrorShape::Sglang => json!({"object": "error", "message": self.message,
                "type": code.to_string(), "param": null, "code": code}),
            ErrorShape::OpenAi => {
                let kind = if self.status.is_client_error() {
                    "invalid_request_error"
                } else {
                    "server_error"
                };
                json!({"error": {"message": self.message, "type": kind, "param": null, "code": code}})
            }
        };
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

/// Builds the router for `backend` with the default [`ServeOptions`].
pub fn router(backend: Arc<dyn Backend>, info: ModelInfo) -> Router {
    router_with(backend, info, ServeOptions::default())
}

/// Builds the router for `backend`, replying as `options` say.
pub fn router_with(backend: Arc<dyn Backend>, info: ModelInfo, options: ServeOptions) -> Router {
    let state = Arc::new(AppState {
        backend,
        info,
        options,
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
        .route("/metrics", get(metrics::metrics))
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
    serve_with(listener, backend, info, ServeOptions::default(), shutdown).await
}

/// [`serve`], replying as `options` say.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn Backend>,
    info: ModelInfo,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY on a connection: {e}");
        }
    });
    axum::serve(listener, router_with(backend, info, options))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The JSON chunk both protocols stream when a generation fails mid-way.
fn error_chunk(message: &str) -> String {
    json!({"error": {"message": message, "type": "server_error", "code": 500}}).to_string()
}

/// Hands a parsed request to the backend; the request counts as running
/// until the returned guard is dropped.
async fn submit(
    state: &Arc<AppState>,
    request: GenerateRequest,
) -> Result<(Generation, Running), ApiError> {
    let running = Running::new(state);
    let generation = state
        .backend
        .generate(request)
        .await
        .map_err(|e| count_bad(state, e.into()))?;
    Ok((generation, running))
}

/// The ids that may end `request`'s generation: its stop ids and, unless it
/// ignores them, the model's end-of-sequence ids. Their text is held back
/// in a stream until it is known whether the generation stopped on them.
fn stop_candidates(state: &AppState, request: &GenerateRequest) -> Vec<u32> {
    let mut ids = request.sampling.stop_token_ids.clone();
    if !request.sampling.ignore_eos {
        ids.extend_from_slice(&state.info.eos_token_ids);
    }
    ids
}

/// Waits for a non-streamed generation's output and counts it.
async fn finish_plain(
    generation: Generation,
    running: Running,
) -> Result<GenerateOutput, ApiError> {
    let out = generation.finish().await?;
    running.0.metrics.finished.record(&out);
    Ok(out)
}

/// A streamed generation as both protocols consume it: the backend's events
/// turned into new ids with their text, one final piece, or an error chunk;
/// the request stays counted as running until this is dropped.
///
/// Like SGLang and vLLM, the last ids travel in the chunk that carries the
/// finish reason: a backend sends its last `Tokens` and its `Finished` back
/// to back, so after ids that must end the generation (a stop candidate, the
/// length limit) the stream waits for the end, and after any other ids it
/// takes an end that is already queued.
struct TokenStream {
    generation: Generation,
    decoder: TextDecoder,
    /// Ids sent to the client so far.
    streamed: usize,
    done: bool,
    running: Running,
    /// Ids that may be the matched stop: both servers leave it out of `text`.
    stops: Vec<u32>,
    /// `max_new_tokens`: the generation ends when this many ids are out.
    limit: usize,
    /// A streamed stop candidate whose text waits for the next piece.
    held: Option<u32>,
    /// An event read ahead that was not the end.
    ahead: Option<Result<Event, BackendError>>,
}

/// One piece of a streamed reply.
enum Piece {
    /// New ids and their text; `first` when nothing was streamed before.
    Tokens {
        ids: Vec<u32>,
        text: String,
        first: bool,
    },
    /// The end: the ids not streamed yet with the rest of the text (without
    /// the matched stop token), and the whole output; `first` when nothing
    /// was streamed before.
    Finished {
        rest: Vec<u32>,
        text: String,
        out: GenerateOutput,
        first: bool,
    },
    /// The generation failed: the JSON error chunk to send as the last piece.
    Failed(String),
}

impl TokenStream {
    fn new(generation: Generation, running: Running, stops: Vec<u32>, limit: u32) -> TokenStream {
        TokenStream {
            generation,
            decoder: TextDecoder::default(),
            streamed: 0,
            done: false,
            running,
            stops,
            limit: limit as usize,
            held: None,
            ahead: None,
        }
    }

    /// The text of `ids` after any held id, holding back a trailing stop
    /// candidate.
    fn text(&mut self, ids: &[u32]) -> String {
        let mut pending: Vec<u32> = self.held.take().into_iter().collect();
        pending.extend_from_slice(ids);
        if pending.last().is_some_and(|id| self.stops.contains(id)) {
            self.held = pending.pop();
        }
        self.decoder.push(&pending)
    }

    /// Ids streamed so far.
    fn streamed(&self) -> usize {
        self.streamed
    }

    /// True when `ids`, just received, must be the generation's last.
    fn ends_here(&self, ids: &[u32]) -> bool {
        ids.last().is_some_and(|id| self.stops.contains(id))
            || self.streamed + ids.len() >= self.limit
    }

    /// The next piece, or `None` after the final one.
    async fn next(&mut self) -> Option<Piece> {
        if self.done {
            return None;
        }
        let event = match self.ahead.take() {
            Some(event) => Some(event),
            None => self.generation.next().await,
        };
        Some(match event {
            Some(Ok(Event::Tokens(ids))) => {
                let end = if self.ends_here(&ids) {
                    self.generation.next().await
                } else {
                    self.generation.try_next()
                };
                match end {
                    Some(Ok(Event::Finished(out))) => self.finished(out),
                    other => {
                        self.ahead = other;
                        let first = self.streamed == 0;
                        self.streamed += ids.len();
                        let text = self.text(&ids);
                        Piece::Tokens { ids, text, first }
                    }
                }
            }
            Some(Ok(Event::Finished(out))) => self.finished(out),
            Some(Err(e)) => {
                self.done = true;
                Piece::Failed(error_chunk(&e.to_string()))
            }
            None => {
                self.done = true;
                Piece::Failed(error_chunk(
                    "the backend ended the generation without a result",
                ))
            }
        })
    }

    /// The final piece: every id of `out` not streamed yet, with its text.
    fn finished(&mut self, out: GenerateOutput) -> Piece {
        self.done = true;
        self.running.0.metrics.finished.record(&out);
        let first = self.streamed == 0;
        let rest = out.output_ids[self.streamed.min(out.output_ids.len())..].to_vec();
        self.streamed += rest.len();
        let mut text = self.text(&rest);
        // The held id is the matched stop unless the reason says otherwise.
        if let Some(id) = self.held.take() {
            if out.finish_reason != backend::FinishReason::Stop {
                text.push_str(&self.decoder.push(&[id]));
            }
        }
        text.push_str(&self.decoder.finish());
        Piece::Finished {
            rest,
            text,
            out,
            first,
        }
    }
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
