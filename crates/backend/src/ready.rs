//! Is a server there and answering? [`check_ready`] asks before a run
//! starts, so an unreachable endpoint fails the run with a clear message
//! before LoadGen issues a single sample.

use std::time::Duration;

use crate::error::{Fault, RequestLabel, TransportKind};
use crate::h1::{self, Connector, Piece};
use crate::http::{snippet, Endpoint, HttpConfig};
use crate::pool::EndpointPool;
use crate::BackendError;

/// What a ready server told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The server's base URL.
    pub endpoint: String,
    /// The path that answered 2xx (`/health`, `/v1/models` or `/get_model_info`).
    pub probe: String,
    /// Model names from `/v1/models`, when it answers; empty otherwise.
    pub models: Vec<String>,
}

/// Probes `GET /health`, then `/v1/models`, then `/get_model_info` (SGLang,
/// vLLM and our `serve` have all three; other servers at least one) and
/// succeeds on the first 2xx. Fails naming the URL: unreachable (nothing
/// listening, wrong host or port), or answering with errors on every probe.
pub async fn check_ready(
    config: &HttpConfig,
    endpoint: &str,
    timeout: Duration,
) -> Result<Readiness, BackendError> {
    probe(
        &Connector::new(config)?,
        &Endpoint::parse(endpoint)?,
        timeout,
    )
    .await
}

async fn probe(
    connector: &Connector,
    endpoint: &Endpoint,
    timeout: Duration,
) -> Result<Readiness, BackendError> {
    let label = RequestLabel::Probe {
        endpoint: endpoint.to_string(),
    };
    let fail = |kind, detail| label.error(endpoint.as_str(), Fault::new(kind, detail));
    let mut answers = Vec::new();
    let mut probe_ok = None;
    for path in ["/health", "/v1/models", "/get_model_info"] {
        let url = endpoint.url(path);
        match tokio::time::timeout(timeout, get(connector, endpoint, path)).await {
            Err(_) => {
                return Err(fail(
                    TransportKind::Timeout,
                    format!("not ready: GET {url} got no answer within {timeout:?}"),
                ))
            }
            Ok(Err(e)) => {
                return Err(fail(
                    e.kind,
                    format!(
                        "unreachable: GET {url}: {e}. Is it running, and are the host and \
                         port right?"
                    ),
                ))
            }
            Ok(Ok((status, body))) if (200..300).contains(&status) => {
                probe_ok = Some((path, body));
                break;
            }
            Ok(Ok((status, body))) => answers.push(format!(
                "GET {url}: HTTP {status}: {}",
                snippet(body.as_bytes())
            )),
        }
    }
    let Some((probe, body)) = probe_ok else {
        return Err(fail(
            TransportKind::NotReady,
            format!(
                "the server answers but is not ready: {}",
                answers.join("; ")
            ),
        ));
    };
    // The model list, unless the probe that answered already was it.
    let models = if probe == "/v1/models" {
        model_names(&body)
    } else {
        match tokio::time::timeout(timeout, get(connector, endpoint, "/v1/models")).await {
            Ok(Ok((200..=299, body))) => model_names(&body),
            _ => Vec::new(),
        }
    };
    Ok(Readiness {
        endpoint: endpoint.to_string(),
        probe: probe.to_owned(),
        models,
    })
}

impl EndpointPool {
    /// [`check_ready`] on every endpoint, all at once; the first failure wins.
    pub async fn check_ready(&self, timeout: Duration) -> Result<Vec<Readiness>, BackendError> {
        let mut tasks = Vec::new();
        for e in self.endpoints() {
            let connector = self.connector().clone();
            tasks.push(tokio::spawn(
                async move { probe(&connector, &e, timeout).await },
            ));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(
                t.await.map_err(|e| {
                    BackendError::Internal(format!("readiness probe failed: {e}"))
                })??,
            );
        }
        Ok(out)
    }
}

/// `GET path` on a connection of its own: the status and the body (the
/// first MiB of it), or what went wrong on the way.
pub(crate) async fn get(
    connector: &Connector,
    endpoint: &Endpoint,
    path: &str,
) -> Result<(u16, String), Fault> {
    const MAX: usize = 1 << 20;
    let mut conn = connector.connect(endpoint).await?;
    conn.send(&h1::get_message(endpoint, path))
        .await
        .map_err(|e| {
            Fault::new(
                TransportKind::Sent,
                format!("sending the request failed: {e}"),
            )
        })?;
    let mut response = conn.read_head().await?;
    let mut body = Vec::new();
    loop {
        match response.next_piece()? {
            Piece::Data(range) => {
                let take = range.len().min(MAX - body.len());
                body.extend_from_slice(&response.bytes()[range][..take]);
                if body.len() == MAX {
                    break;
                }
            }
            Piece::End => break,
            Piece::NeedMore => {
                if !response.fill().await? {
                    break;
                }
            }
        }
    }
    Ok((
        response.head.status,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

/// `data[].id` of an OpenAI model list.
fn model_names(body: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    value
        .get("data")
        .and_then(|d| d.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|m| m.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn model_names_come_from_data_ids() {
        let body = r#"{"object":"list","data":[{"id":"openai/gpt-oss-120b","object":"model"}]}"#;
        assert_eq!(super::model_names(body), vec!["openai/gpt-oss-120b"]);
        assert!(super::model_names("not json").is_empty());
    }
}
