//! Plain `GET`s of whole pages, such as a server's Prometheus `/metrics`,
//! over the request path's own connections and TLS settings, so that a
//! scrape reaches every server a run can reach (a private CA included).

use std::time::Duration;

use crate::error::{Fault, RequestLabel, TransportKind};
use crate::h1::Connector;
use crate::http::{snippet, Endpoint, HttpConfig};
use crate::ready::get;
use crate::BackendError;

/// Fetches pages, one short-lived connection each (a scrape every second
/// or so does not need a pool).
#[derive(Clone)]
pub struct PageClient {
    connector: Connector,
}

impl PageClient {
    /// A client with `config`'s TLS settings.
    pub fn new(config: &HttpConfig) -> Result<PageClient, BackendError> {
        Ok(PageClient {
            connector: Connector::new(config)?,
        })
    }

    /// The body of `GET url` (its first MiB), or an error naming the URL:
    /// unreachable, no answer within `timeout`, or a non-2xx status.
    pub async fn get(&self, url: &str, timeout: Duration) -> Result<String, BackendError> {
        let endpoint = Endpoint::parse(url)?;
        let label = RequestLabel::Page {
            url: endpoint.to_string(),
        };
        let fail = |kind, detail: String| label.error(endpoint.as_str(), Fault::new(kind, detail));
        // The URL's path is the endpoint's prefix; a bare host gets `/`.
        let path = if endpoint.prefix().is_empty() {
            "/"
        } else {
            ""
        };
        match tokio::time::timeout(timeout, get(&self.connector, &endpoint, path)).await {
            Err(_) => Err(fail(
                TransportKind::Timeout,
                format!("no answer within {timeout:?}"),
            )),
            Ok(Err(e)) => Err(fail(e.kind, e.detail)),
            Ok(Ok((status, body))) if (200..300).contains(&status) => Ok(body),
            Ok(Ok((status, body))) => Err(fail(
                TransportKind::NotReady,
                format!("HTTP {status}: {}", snippet(body.as_bytes())),
            )),
        }
    }
}
