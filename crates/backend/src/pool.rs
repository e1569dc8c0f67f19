//! An [`EndpointPool`]: several servers behind one backend. Each request goes
//! to the endpoint with the fewest outstanding requests (ties rotate), is
//! re-sent only when nothing reached the server, and is counted.
//!
//! Why least-outstanding rather than round-robin: generation lengths vary by
//! two orders of magnitude, so round-robin piles long requests onto one
//! server while another idles; the outstanding count is the queue we see.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Fault, RequestLabel, TransportKind};
use crate::h1::{self, Connector, IdleConns};
use crate::http::{Endpoint, HttpConfig};
use crate::BackendError;

/// A set of endpoints sharing one connection pool; cheap to clone.
#[derive(Clone, Debug)]
pub struct EndpointPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    slots: Vec<Slot>,
    /// Opens the connections requests go over (`h1`).
    connector: Connector,
    config: HttpConfig,
    /// Where the next tie-break starts, so idle endpoints share the load.
    rotate: AtomicUsize,
    /// Numbers requests for error messages.
    numbers: AtomicU64,
    /// Time zero of the slots' `down_until`.
    epoch: Instant,
}

#[derive(Debug)]
struct Slot {
    endpoint: Endpoint,
    /// Keep-alive connections to this endpoint.
    idle: Arc<IdleConns>,
    outstanding: AtomicUsize,
    requests: AtomicU64,
    retries: AtomicU64,
    connect_errors: AtomicU64,
    connections: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    /// Nanoseconds after `epoch` until which this endpoint is skipped
    /// (it refused a connection); 0 when up.
    down_until: AtomicU64,
}

/// Counters of one endpoint at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointStats {
    /// The endpoint's base URL.
    pub endpoint: String,
    /// Requests sent and not yet finished (streams still open included).
    pub outstanding: usize,
    /// Requests routed here, first tries and retries alike.
    pub requests: u64,
    /// Re-sends of a request whose earlier try here never reached a server.
    pub retries: u64,
    /// Connections that could not be established (refused, unreachable, timed out).
    pub connect_errors: u64,
    /// Connections opened (the others were kept alive and reused).
    pub connections: u64,
    /// Requests that ended with a final result.
    pub completed: u64,
    /// Requests that ended with an error (after any retries).
    pub failed: u64,
}

/// Counters of a whole pool, per endpoint in the order given; the
/// methods sum one counter over every endpoint (see [`EndpointStats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    /// One entry per endpoint, in the order the pool was given them.
    pub endpoints: Vec<EndpointStats>,
}

impl PoolStats {
    fn sum(&self, counter: impl Fn(&EndpointStats) -> u64) -> u64 {
        self.endpoints.iter().map(counter).sum()
    }

    /// Re-sends after a connect failure, over all endpoints.
    pub fn retries(&self) -> u64 {
        self.sum(|e| e.retries)
    }

    /// Requests routed, first tries and retries alike, over all endpoints.
    pub fn requests(&self) -> u64 {
        self.sum(|e| e.requests)
    }

    /// Requests that ended with a final result, over all endpoints.
    pub fn completed(&self) -> u64 {
        self.sum(|e| e.completed)
    }

    /// Requests that ended with an error, over all endpoints.
    pub fn failed(&self) -> u64 {
        self.sum(|e| e.failed)
    }

    /// Connections that could not be established, over all endpoints.
    pub fn connect_errors(&self) -> u64 {
        self.sum(|e| e.connect_errors)
    }

    /// Requests sent and not yet finished, over all endpoints.
    pub fn outstanding(&self) -> usize {
        self.endpoints.iter().map(|e| e.outstanding).sum()
    }
}

/// One request's claim on an endpoint: counted as outstanding until dropped.
#[derive(Debug)]
pub(crate) struct Lease {
    inner: Arc<Inner>,
    index: usize,
}

impl Lease {
    /// Records how the request ended (once; a lease dropped without it,
    /// as when the caller cancels, counts as neither).
    pub fn finish(&self, ok: bool) {
        let slot = &self.inner.slots[self.index];
        if ok {
            slot.completed.fetch_add(1, Ordering::Relaxed);
        } else {
            slot.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.inner.slots[self.index]
            .outstanding
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// A request whose response headers arrived with a 2xx status.
pub(crate) struct Started {
    pub response: h1::Response,
    /// Where the connection goes back once the body was read to its end.
    pub idle_conns: Arc<IdleConns>,
    pub lease: Lease,
    pub label: RequestLabel,
    /// The endpoint's base URL, for errors.
    pub endpoint: String,
    /// The request asked for a stream.
    pub stream: bool,
    /// When the whole-request timeout runs out.
    pub deadline: Instant,
}

impl EndpointPool {
    /// A pool over `urls` (at least one), validated up front.
    pub fn new<S: AsRef<str>>(urls: &[S], config: HttpConfig) -> Result<Self, BackendError> {
        if urls.is_empty() {
            return Err(BackendError::InvalidRequest(
                "no endpoint given: pass at least one --endpoint URL".into(),
            ));
        }
        let slots = urls
            .iter()
            .map(|u| {
                Ok(Slot {
                    endpoint: Endpoint::parse(u.as_ref())?,
                    idle: IdleConns::new(config.pool_max_idle_per_host, config.pool_idle_timeout),
                    outstanding: AtomicUsize::new(0),
                    requests: AtomicU64::new(0),
                    retries: AtomicU64::new(0),
                    connect_errors: AtomicU64::new(0),
                    connections: AtomicU64::new(0),
                    completed: AtomicU64::new(0),
                    failed: AtomicU64::new(0),
                    down_until: AtomicU64::new(0),
                })
            })
            .collect::<Result<Vec<_>, BackendError>>()?;
        Ok(EndpointPool {
            inner: Arc::new(Inner {
                slots,
                connector: Connector::new(&config)?,
                config,
                rotate: AtomicUsize::new(0),
                numbers: AtomicU64::new(0),
                epoch: Instant::now(),
            }),
        })
    }

    /// The endpoints, in the order given.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.inner
            .slots
            .iter()
            .map(|s| s.endpoint.clone())
            .collect()
    }

    /// The transport settings every request of this pool uses.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// Opens this pool's connections (TLS roots loaded once).
    pub(crate) fn connector(&self) -> &Connector {
        &self.inner.connector
    }

    /// A snapshot of every counter.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            endpoints: self
                .inner
                .slots
                .iter()
                .map(|s| EndpointStats {
                    endpoint: s.endpoint.to_string(),
                    outstanding: s.outstanding.load(Ordering::Relaxed),
                    requests: s.requests.load(Ordering::Relaxed),
                    retries: s.retries.load(Ordering::Relaxed),
                    connect_errors: s.connect_errors.load(Ordering::Relaxed),
                    connections: s.connections.load(Ordering::Relaxed),
                    completed: s.completed.load(Ordering::Relaxed),
                    failed: s.failed.load(Ordering::Relaxed),
                })
                .collect(),
        }
    }

    /// Claims the endpoint with the fewest outstanding requests among those
    /// up, avoiding `avoid` (the one that just refused a connection) when
    /// there is another; when all are down, the least loaded of all.
    fn lease(&self, avoid: Option<usize>) -> Lease {
        let slots = &self.inner.slots;
        let n = slots.len();
        let start = self.inner.rotate.fetch_add(1, Ordering::Relaxed) % n;
        let now = self.nanos();
        let mut best = None;
        // Key: (down, load); lower is better, first seen wins ties.
        let mut best_key = (true, usize::MAX);
        for k in 0..n {
            let i = (start + k) % n;
            if Some(i) == avoid && n > 1 {
                continue;
            }
            let down = slots[i].down_until.load(Ordering::Relaxed) > now;
            let key = (down, slots[i].outstanding.load(Ordering::Relaxed));
            if best.is_none() || key < best_key {
                best = Some(i);
                best_key = key;
            }
        }
        let best = best.unwrap_or(start);
        slots[best].outstanding.fetch_add(1, Ordering::Relaxed);
        Lease {
            inner: self.inner.clone(),
            index: best,
        }
    }

    fn nanos(&self) -> u64 {
        u64::try_from(self.inner.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Sends `POST path` with a JSON `body` and waits for the response
    /// headers. A try that failed to connect is re-sent (counted) up to
    /// `max_connect_retries` times; any other failure, or a non-2xx status,
    /// is returned as an error naming the endpoint and the request.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: Vec<u8>,
        prompt_tokens: usize,
        stream: bool,
    ) -> Result<Started, BackendError> {
        let config = &self.inner.config;
        let deadline = Instant::now() + config.request_timeout;
        let number = self.inner.numbers.fetch_add(1, Ordering::Relaxed) + 1;
        let accept = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        let mut avoid = None;
        let mut attempt = 0u32;
        loop {
            let lease = self.lease(avoid);
            let slot = &self.inner.slots[lease.index];
            slot.requests.fetch_add(1, Ordering::Relaxed);
            if attempt > 0 {
                slot.retries.fetch_add(1, Ordering::Relaxed);
            }
            let label = RequestLabel::Generate {
                url: slot.endpoint.url(path),
                number,
                prompt_tokens,
                stream,
            };
            let fail = |fault: Fault| label.error(slot.endpoint.as_str(), fault);
            let message = h1::post_message(&slot.endpoint, path, accept, &body);
            let exchange = tokio::time::timeout_at(deadline, self.exchange(slot, &message));
            let response = match exchange.await {
                Err(_) => {
                    lease.finish(false);
                    return Err(fail(Fault::new(
                        TransportKind::Timeout,
                        format!(
                            "no response within the request timeout of {:?}",
                            config.request_timeout
                        ),
                    )));
                }
                Ok(Ok(r)) => {
                    slot.down_until.store(0, Ordering::Relaxed);
                    r
                }
                Ok(Err(e)) if e.kind == TransportKind::Connect => {
                    slot.connect_errors.fetch_add(1, Ordering::Relaxed);
                    let cooldown = u64::try_from(config.down_cooldown.as_nanos()).unwrap_or(0);
                    slot.down_until
                        .store(self.nanos().saturating_add(cooldown), Ordering::Relaxed);
                    if attempt < config.max_connect_retries && Instant::now() < deadline {
                        tracing::debug!("{label}: connect failed ({e}); retrying");
                        attempt += 1;
                        avoid = Some(lease.index);
                        drop(lease);
                        if self.inner.slots.len() == 1 {
                            tokio::time::sleep(config.retry_backoff).await;
                        }
                        continue;
                    }
                    lease.finish(false);
                    return Err(fail(e.context(|e| {
                        format!(
                            "cannot connect after {} tries: {e}; is the server running at {}?",
                            attempt + 1,
                            slot.endpoint
                        )
                    })));
                }
                Ok(Err(e)) => {
                    lease.finish(false);
                    return Err(fail(e.context(|e| {
                        format!(
                            "the request failed before a response arrived (not retried: the \
                             server may have received it): {e}"
                        )
                    })));
                }
            };
            let status = response.head.status;
            if !(200..300).contains(&status) {
                lease.finish(false);
                let body = read_error_body(response, deadline).await;
                return Err(label.status(status, &body));
            }
            return Ok(Started {
                response,
                idle_conns: slot.idle.clone(),
                lease,
                label,
                endpoint: slot.endpoint.as_str().to_owned(),
                stream,
                deadline,
            });
        }
    }

    /// One try: a kept-alive connection or a new one, the request, the
    /// response head. Only a [`TransportKind::Connect`] fault means nothing
    /// reached the server.
    async fn exchange(&self, slot: &Slot, message: &[u8]) -> Result<h1::Response, Fault> {
        let mut conn = match slot.idle.take() {
            Some(conn) => conn,
            None => {
                let conn = self.inner.connector.connect(&slot.endpoint).await?;
                slot.connections.fetch_add(1, Ordering::Relaxed);
                conn
            }
        };
        conn.send(message).await.map_err(|e| {
            Fault::new(
                TransportKind::Sent,
                format!("sending the request failed: {e}"),
            )
        })?;
        conn.read_head().await
    }
}

/// The start of an error reply's body, for the message; bounded in size and time.
async fn read_error_body(mut response: h1::Response, deadline: Instant) -> Vec<u8> {
    let limit = deadline.min(Instant::now() + Duration::from_secs(5));
    let mut body = Vec::new();
    while body.len() < 4096 {
        match response.next_piece() {
            Ok(h1::Piece::Data(range)) => body.extend_from_slice(&response.bytes()[range]),
            Ok(h1::Piece::NeedMore) => {
                match tokio::time::timeout_at(limit, response.fill()).await {
                    Ok(Ok(_)) => {}
                    _ => break,
                }
            }
            Ok(h1::Piece::End) | Err(_) => break,
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_go_to_the_least_loaded_endpoint() {
        let pool = EndpointPool::new(
            &["http://a:1", "http://b:2", "http://c:3"],
            HttpConfig::default(),
        )
        .unwrap();
        let leases: Vec<Lease> = (0..6).map(|_| pool.lease(None)).collect();
        let loads: Vec<usize> = pool
            .stats()
            .endpoints
            .iter()
            .map(|e| e.outstanding)
            .collect();
        assert_eq!(loads, vec![2, 2, 2]);
        // Free two on `b`: the next two go there.
        let mut leases = leases;
        leases.retain(|l| l.index != 1);
        let a = pool.lease(None);
        let b = pool.lease(None);
        assert_eq!((a.index, b.index), (1, 1));
        let c = pool.lease(Some(0));
        assert_ne!(c.index, 0);
        drop((a, b, c, leases));
        assert_eq!(pool.stats().outstanding(), 0);
    }

    #[test]
    fn a_down_endpoint_gets_nothing_while_another_is_up() {
        let pool = EndpointPool::new(&["http://a:1", "http://b:2"], HttpConfig::default()).unwrap();
        pool.inner.slots[0]
            .down_until
            .store(u64::MAX, Ordering::Relaxed);
        let leases: Vec<Lease> = (0..4).map(|_| pool.lease(None)).collect();
        assert!(leases.iter().all(|l| l.index == 1));
        pool.inner.slots[1]
            .down_until
            .store(u64::MAX, Ordering::Relaxed);
        // All down: the least loaded of all.
        assert_eq!(pool.lease(None).index, 0);
    }

    #[test]
    fn a_pool_needs_an_endpoint() {
        let empty: [&str; 0] = [];
        assert!(EndpointPool::new(&empty, HttpConfig::default()).is_err());
    }
}
