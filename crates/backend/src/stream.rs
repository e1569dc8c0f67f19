//! Reading a reply body into [`Event`]s, shared by the SGLang and OpenAI
//! clients: they differ only in how one JSON payload is read ([`Reply`]).
//!
//! Every way a body can go wrong ends the generation with one error that
//! names the request: the whole-request deadline, a stream idle for too
//! long (a hung server), a broken connection, invalid SSE or JSON, a body
//! that ends before the generation finished. The reading task stops when
//! the caller drops its [`Generation`](crate::Generation).

use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use crate::error::{Fault, TransportKind};
use crate::h1::{Piece, Response};
use crate::pool::Started;
use crate::sse::{Flow, SseDecoder, SseError};
use crate::{Event, EventSender, GenerateOutput};

/// How one protocol reads its replies. Every error is a
/// [`TransportKind::Protocol`] fault: the reply is not what the protocol says.
pub(crate) trait Reply: Send + 'static {
    /// One SSE `data` payload other than `[DONE]`; returns the new ids.
    fn chunk(&mut self, payload: &str) -> Result<Vec<u32>, Fault>;
    /// The whole body of a non-streaming reply.
    fn body(&mut self, body: &[u8]) -> Result<GenerateOutput, Fault>;
    /// The final output once the stream ended, with or without `[DONE]`;
    /// an error if the generation had not finished.
    fn end(&mut self, saw_done: bool) -> Result<GenerateOutput, Fault>;
    /// How many ids were streamed so far (for error messages).
    fn streamed(&self) -> usize;
}

/// Parses one SSE payload (already valid UTF-8, so strings are not
/// validated again), naming the problem and showing its start.
pub(crate) fn parse_chunk<'a, T: Deserialize<'a>>(payload: &'a str) -> Result<T, Fault> {
    serde_json::from_str(payload).map_err(|e| {
        Fault::protocol(format!(
            "malformed JSON in the stream chunk ({e}): {}",
            crate::http::snippet(payload.as_bytes())
        ))
    })
}

/// Parses one JSON payload, naming the problem and showing its start.
pub(crate) fn parse_json<'a, T: Deserialize<'a>>(text: &'a [u8], what: &str) -> Result<T, Fault> {
    serde_json::from_slice(text).map_err(|e| {
        Fault::protocol(format!(
            "malformed JSON in the {what} ({e}): {}",
            crate::http::snippet(text)
        ))
    })
}

/// The text of an `error` field, whatever its shape.
pub(crate) fn error_text(e: &serde_json::Value) -> String {
    e.get("message")
        .and_then(|m| m.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| e.to_string())
}

/// Reads `started`'s body on a new task, sending events on `tx`.
pub(crate) fn spawn<R: Reply>(started: Started, reply: R, tx: EventSender, idle: Option<Duration>) {
    tokio::spawn(async move {
        let Started {
            response,
            lease,
            label,
            endpoint,
            deadline,
            idle_conns,
            stream,
        } = started;
        let is_json = response.head.is_json;
        let mut body = Body::new(response, &tx, deadline, idle.filter(|_| stream));
        let result = if stream && is_json {
            // Pitfall: a server that ignores `stream: true` and answers once
            // would make every token arrive at the end (TTFT = latency).
            match read_body_bytes(&mut body).await {
                Ok(Some(b)) => Err(Fault::protocol(format!(
                    "a stream was asked for but the server answered with one JSON body \
                     (it does not stream, so first-token times would be wrong): {}",
                    crate::http::snippet(&b)
                ))),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            }
        } else if stream {
            read_stream(&mut body, reply).await
        } else {
            read_body(&mut body, reply)
                .await
                .map(|o| o.map(|o| (o, false)))
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
            Ok(Some((output, after_done))) => {
                // A body already read to its end (the usual case: the last
                // chunk comes in the same read as `[DONE]`) goes back to the
                // pool first, so the caller's next request can reuse it.
                if !after_done || body.drain_buffered() {
                    body.response.release(&idle_conns);
                    tx.send(Ok(Event::Finished(output)));
                    return;
                }
                // Otherwise only after the caller has its result: the end
                // of the body, so the connection can be reused.
                tx.send(Ok(Event::Finished(output)));
                body.drain().await;
                body.response.release(&idle_conns);
            }
            Ok(None) => {} // the caller is gone
            Err(fault) => {
                tx.send(Err(label.error(&endpoint, fault)));
            }
        }
    });
}

/// How often a quiet body checks whether the caller is still there.
const CALLER_CHECK: Duration = Duration::from_secs(1);

/// A body being read under the request deadline, the idle limit, and the
/// caller's interest. One timer per request, re-armed only when it fires
/// (not per chunk): at thousands of streams and one token per chunk, a
/// timer per chunk would be a large share of the client's work.
struct Body<'a> {
    response: Response,
    tx: &'a EventSender,
    deadline: Instant,
    idle: Option<Duration>,
    last_byte: Instant,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<'a> Body<'a> {
    fn new(
        response: Response,
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

    /// The next piece of the body out of the buffer, waiting for bytes when
    /// none are buffered; `None` when the caller is gone.
    async fn next(&mut self, streamed: usize) -> Result<Option<Piece>, Fault> {
        loop {
            match self.response.next_piece() {
                Ok(Piece::NeedMore) => {}
                Ok(piece) => return Ok(Some(piece)),
                Err(e) => return Err(broken(streamed, e)),
            }
            if self.wait(streamed).await?.is_none() {
                return Ok(None);
            }
        }
    }

    /// Waits until more bytes arrived (or the close ended the body);
    /// `None` when the caller is gone.
    async fn wait(&mut self, streamed: usize) -> Result<Option<()>, Fault> {
        loop {
            tokio::select! {
                biased;
                r = self.response.fill() => {
                    self.last_byte = Instant::now();
                    return r.map(|_| Some(())).map_err(|e| broken(streamed, e));
                }
                _ = self.timer.as_mut() => {
                    let now = Instant::now();
                    if self.tx.is_closed() {
                        return Ok(None);
                    }
                    if now >= self.deadline {
                        return Err(Fault::new(TransportKind::Timeout, format!(
                            "the request timeout ran out after {streamed} tokens"
                        )));
                    }
                    if let Some(idle) = self.idle {
                        if now >= self.last_byte + idle {
                            return Err(Fault::new(TransportKind::Timeout, format!(
                                "the stream was idle for {idle:?} after {streamed} tokens (hung server?)"
                            )));
                        }
                    }
                    self.rearm(now);
                }
            }
        }
    }

    /// Consumes what is buffered after `[DONE]`; true when that was the
    /// end of the body.
    fn drain_buffered(&mut self) -> bool {
        loop {
            match self.response.next_piece() {
                Ok(Piece::Data(_)) => {}
                Ok(Piece::End) => return true,
                Ok(Piece::NeedMore) | Err(_) => return false,
            }
        }
    }

    /// Reads what follows `[DONE]` (normally just the end of the chunked
    /// body) so the connection can be reused; gives up quickly.
    async fn drain(&mut self) {
        let until = self.deadline.min(Instant::now() + Duration::from_secs(1));
        loop {
            match self.response.next_piece() {
                Ok(Piece::Data(_)) => {}
                Ok(Piece::NeedMore) => {
                    match tokio::time::timeout_at(until, self.response.fill()).await {
                        Ok(Ok(_)) => {}
                        _ => return,
                    }
                }
                Ok(Piece::End) | Err(_) => return,
            }
        }
    }
}

/// A body that failed after `streamed` tokens: the connection broke, or
/// its HTTP framing was invalid.
fn broken(streamed: usize, fault: Fault) -> Fault {
    fault.context(|what| {
        format!("the connection broke after {streamed} tokens (server died or reset?): {what}")
    })
}

/// Why decoding a streamed piece stopped.
enum FeedError {
    Sse(SseError),
    Fault(Fault),
}

impl From<SseError> for FeedError {
    fn from(e: SseError) -> Self {
        FeedError::Sse(e)
    }
}

/// Reads an event stream; the flag says whether it ended at `[DONE]`
/// (with the rest of the body still to drain).
async fn read_stream<R: Reply>(
    body: &mut Body<'_>,
    mut reply: R,
) -> Result<Option<(GenerateOutput, bool)>, Fault> {
    let tx = body.tx;
    let mut decoder = SseDecoder::new();
    loop {
        let streamed = reply.streamed();
        let Some(piece) = body.next(streamed).await? else {
            return Ok(None);
        };
        match piece {
            Piece::Data(range) => {
                let bytes = &body.response.bytes()[range];
                let flow = decoder
                    .feed_with(bytes, |payload| {
                        handle(payload, &mut reply, tx).map_err(FeedError::Fault)
                    })
                    .map_err(|e| match e {
                        FeedError::Sse(e) => {
                            Fault::protocol(format!("{e} after {streamed} tokens"))
                        }
                        FeedError::Fault(f) => f,
                    })?;
                if flow == Flow::Stop {
                    let output = reply.end(true)?;
                    return Ok(Some((output, true)));
                }
                if tx.is_closed() {
                    return Ok(None);
                }
            }
            Piece::End | Piece::NeedMore => {
                // End of body: a last event without its blank line still counts.
                let last = decoder
                    .finish()
                    .map_err(|e| Fault::protocol(e.to_string()))?;
                let mut saw_done = false;
                if let Some(payload) = last {
                    saw_done = handle(&payload, &mut reply, tx)? == Flow::Stop;
                }
                let output = reply.end(saw_done)?;
                return Ok(Some((output, false)));
            }
        }
    }
}

/// Handles one payload; [`Flow::Stop`] for `[DONE]`.
fn handle<R: Reply>(payload: &str, reply: &mut R, tx: &EventSender) -> Result<Flow, Fault> {
    if payload.trim() == "[DONE]" {
        return Ok(Flow::Stop);
    }
    let ids = reply.chunk(payload)?;
    if !ids.is_empty() {
        tx.send(Ok(Event::Tokens(ids)));
    }
    Ok(Flow::Continue)
}

async fn read_body<R: Reply>(
    body: &mut Body<'_>,
    mut reply: R,
) -> Result<Option<GenerateOutput>, Fault> {
    match read_body_bytes(body).await? {
        Some(bytes) => reply.body(&bytes).map(Some),
        None => Ok(None),
    }
}

/// The whole body, bounded; `None` when the caller left first.
async fn read_body_bytes(body: &mut Body<'_>) -> Result<Option<Vec<u8>>, Fault> {
    const MAX_BODY: usize = 1 << 30;
    let mut bytes = Vec::new();
    loop {
        match body.next(0).await? {
            None => return Ok(None),
            Some(Piece::Data(range)) if bytes.len() + range.len() > MAX_BODY => {
                return Err(Fault::protocol(format!(
                    "the reply is larger than {MAX_BODY} bytes"
                )))
            }
            Some(Piece::Data(range)) => bytes.extend_from_slice(&body.response.bytes()[range]),
            Some(Piece::End | Piece::NeedMore) => return Ok(Some(bytes)),
        }
    }
}
