//! Reading a reply body into [`Event`]s, shared by the SGLang and OpenAI
//! clients: they differ only in how one JSON payload is read ([`Reply`]).
//!
//! Every way a body can go wrong ends the generation with one error that
//! names the request: the whole-request deadline, a stream idle for too
//! long (a hung server), a broken connection, invalid SSE or JSON, a body
//! that ends before the generation finished. The reading task stops when
//! the caller drops its [`Generation`](crate::Generation).

use std::time::Duration;

use tokio::time::Instant;

use crate::pool::Started;
use crate::sse::SseDecoder;
use crate::{Event, EventSender, GenerateOutput};

/// How one protocol reads its replies.
pub(crate) trait Reply: Send + 'static {
    /// One SSE `data` payload other than `[DONE]`; returns the new ids.
    fn chunk(&mut self, payload: &str) -> Result<Vec<u32>, String>;
    /// The whole body of a non-streaming reply.
    fn body(&mut self, body: &[u8]) -> Result<GenerateOutput, String>;
    /// The final output once the stream ended, with or without `[DONE]`;
    /// an error if the generation had not finished.
    fn end(&mut self, saw_done: bool) -> Result<GenerateOutput, String>;
    /// How many ids were streamed so far (for error messages).
    fn streamed(&self) -> usize;
}

/// Reads `started`'s body on a new task, sending events on `tx`.
pub(crate) fn spawn<R: Reply>(started: Started, reply: R, tx: EventSender, idle: Option<Duration>) {
    tokio::spawn(async move {
        let Started {
            response,
            lease,
            label,
            deadline,
        } = started;
        let stream = label.stream;
        let result = if stream && is_json(&response) {
            // Pitfall: a server that ignores `stream: true` and answers once
            // would make every token arrive at the end (TTFT = latency).
            let body = read_body_bytes(response, &tx, deadline).await;
            body.and_then(|b| {
                b.map(|b| {
                    Err(Failure::Protocol(format!(
                        "a stream was asked for but the server answered with one JSON body \
                         (it does not stream, so first-token times would be wrong): {}",
                        crate::http::snippet(&b)
                    )))
                })
                .transpose()
            })
            .map(|o: Option<GenerateOutput>| o.map(|o| (o, None)))
        } else if stream {
            read_stream(response, reply, &tx, idle, deadline).await
        } else {
            read_body(response, reply, &tx, deadline)
                .await
                .map(|o| o.map(|o| (o, None)))
        };
        // The lease is released before the caller hears the outcome, so
        // counters and routing already agree with what the caller sees.
        // A caller that left (`Ok(None)`) counts as neither.
        match &result {
            Ok(Some(_)) => lease.finish(true),
            Ok(None) => {}
            Err(_) => lease.finish(false),
        }
        drop(lease);
        match result {
            Ok(Some((output, rest))) => {
                tx.send(Ok(Event::Finished(output)));
                // Only after the caller has its result: the end of the
                // body, so the connection can be reused.
                if let Some(response) = rest {
                    drain(response, deadline).await;
                }
            }
            Ok(None) => {} // the caller is gone
            Err(Failure::Transport(what)) => {
                tx.send(Err(label.transport(what)));
            }
            Err(Failure::Protocol(what)) => {
                tx.send(Err(label.protocol(what)));
            }
        }
    });
}

enum Failure {
    Transport(String),
    Protocol(String),
}

/// How often a quiet body checks whether the caller is still there.
const CALLER_CHECK: Duration = Duration::from_secs(1);

/// A body being read under the request deadline, the idle limit, and the
/// caller's interest. One timer per request, re-armed only when it fires
/// (not per chunk): at thousands of streams and one token per chunk, a
/// timer per chunk would be a large share of the client's work.
struct Body<'a> {
    response: reqwest::Response,
    tx: &'a EventSender,
    deadline: Instant,
    idle: Option<Duration>,
    last_byte: Instant,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<'a> Body<'a> {
    fn new(
        response: reqwest::Response,
        tx: &'a EventSender,
        deadline: Instant,
        idle: Option<Duration>,
    ) -> Self {
        let now = Instant::now();
        let mut body = Body {
            response,
            tx,
            deadline,
            idle,
            last_byte: now,
            timer: Box::pin(tokio::time::sleep_until(now)),
        };
        body.rearm(now);
        body
    }

    fn rearm(&mut self, now: Instant) {
        let mut at = self.deadline.min(now + CALLER_CHECK);
        if let Some(idle) = self.idle {
            at = at.min(self.last_byte + idle);
        }
        self.timer.as_mut().reset(at);
    }

    /// The next piece of the body (`Some(None)` at its end), `None` when
    /// the caller is gone, or why there is none.
    async fn next(&mut self, streamed: usize) -> Result<Option<Option<bytes::Bytes>>, Failure> {
        loop {
            tokio::select! {
                biased;
                r = self.response.chunk() => {
                    self.last_byte = Instant::now();
                    return match r {
                        Ok(bytes) => Ok(Some(bytes)),
                        Err(e) => Err(Failure::Transport(format!(
                            "the connection broke after {streamed} tokens (server died or reset?): {}",
                            crate::http::describe(&e)
                        ))),
                    };
                }
                _ = self.timer.as_mut() => {
                    let now = Instant::now();
                    if self.tx.is_closed() {
                        return Ok(None);
                    }
                    if now >= self.deadline {
                        return Err(Failure::Transport(format!(
                            "the request timeout ran out after {streamed} tokens"
                        )));
                    }
                    if let Some(idle) = self.idle {
                        if now >= self.last_byte + idle {
                            return Err(Failure::Transport(format!(
                                "the stream was idle for {idle:?} after {streamed} tokens (hung server?)"
                            )));
                        }
                    }
                    self.rearm(now);
                }
            }
        }
    }
}

async fn read_stream<R: Reply>(
    response: reqwest::Response,
    mut reply: R,
    tx: &EventSender,
    idle: Option<Duration>,
    deadline: Instant,
) -> Result<Option<(GenerateOutput, Option<reqwest::Response>)>, Failure> {
    let mut body = Body::new(response, tx, deadline, idle);
    let mut decoder = SseDecoder::new();
    let mut payloads = Vec::new();
    loop {
        let streamed = reply.streamed();
        let Some(bytes) = body.next(streamed).await? else {
            return Ok(None);
        };
        let Some(bytes) = bytes else {
            // End of body: a last event without its blank line still counts.
            let last = decoder
                .finish()
                .map_err(|e| Failure::Protocol(e.to_string()))?;
            let mut saw_done = false;
            if let Some(payload) = last {
                saw_done = handle(&payload, &mut reply, tx)?;
            }
            let output = reply.end(saw_done).map_err(Failure::Protocol)?;
            return Ok(Some((output, None)));
        };
        decoder
            .feed(&bytes, &mut payloads)
            .map_err(|e| Failure::Protocol(format!("{e} after {streamed} tokens")))?;
        for payload in payloads.drain(..) {
            if handle(&payload, &mut reply, tx)? {
                let output = reply.end(true).map_err(Failure::Protocol)?;
                return Ok(Some((output, Some(body.response))));
            }
        }
        if tx.is_closed() {
            return Ok(None);
        }
    }
}

/// Handles one payload; true for `[DONE]`.
fn handle<R: Reply>(payload: &str, reply: &mut R, tx: &EventSender) -> Result<bool, Failure> {
    if payload.trim() == "[DONE]" {
        return Ok(true);
    }
    let ids = reply.chunk(payload).map_err(Failure::Protocol)?;
    if !ids.is_empty() {
        tx.send(Ok(Event::Tokens(ids)));
    }
    Ok(false)
}

/// Reads what follows `[DONE]` (normally just the end of the chunked body)
/// so the connection can go back to the pool; gives up quickly.
async fn drain(mut response: reqwest::Response, deadline: Instant) {
    let until = deadline.min(Instant::now() + Duration::from_secs(1));
    while let Ok(Ok(Some(_))) = tokio::time::timeout_at(until, response.chunk()).await {}
}

/// True when the reply says it is JSON rather than an event stream.
fn is_json(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"))
}

async fn read_body<R: Reply>(
    response: reqwest::Response,
    mut reply: R,
    tx: &EventSender,
    deadline: Instant,
) -> Result<Option<GenerateOutput>, Failure> {
    match read_body_bytes(response, tx, deadline).await? {
        Some(body) => reply.body(&body).map(Some).map_err(Failure::Protocol),
        None => Ok(None),
    }
}

/// The whole body, bounded; `None` when the caller left first.
async fn read_body_bytes(
    response: reqwest::Response,
    tx: &EventSender,
    deadline: Instant,
) -> Result<Option<Vec<u8>>, Failure> {
    const MAX_BODY: usize = 1 << 30;
    let mut reader = Body::new(response, tx, deadline, None);
    let mut body = Vec::new();
    loop {
        let Some(bytes) = reader.next(0).await? else {
            return Ok(None);
        };
        match bytes {
            Some(bytes) if body.len() + bytes.len() > MAX_BODY => {
                return Err(Failure::Protocol(format!(
                    "the reply is larger than {MAX_BODY} bytes"
                )))
            }
            Some(bytes) => body.extend_from_slice(&bytes),
            None => return Ok(Some(body)),
        }
    }
}
