//! What every HTTP backend shares: the [`HttpConfig`] (timeouts, pool
//! sizes), endpoint URLs, and the pieces of error messages (status texts,
//! the start of a body). Requests and readiness probes go over `h1`.

use std::time::Duration;

use crate::BackendError;

/// Transport settings of the HTTP backends. The defaults follow the MLPerf
/// reference (a 1200 s request timeout) and size the pool for thousands of
/// concurrent streams.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Whole-request limit, from sending to the last byte (the reference's
    /// `--timeout`, default 1200 s).
    pub request_timeout: Duration,
    /// A stream that delivers no byte for this long is declared hung. `None`
    /// leaves only `request_timeout`. Non-streaming requests ignore it: the
    /// server legitimately says nothing until the whole answer is ready.
    pub idle_timeout: Option<Duration>,
    /// Limit on establishing a TCP connection.
    pub connect_timeout: Duration,
    /// Idle keep-alive connections kept per endpoint; at least the expected
    /// concurrency, so a burst never has to reconnect. Open connections are
    /// not capped: every concurrent stream gets its own.
    pub pool_max_idle_per_host: usize,
    /// How long an unused keep-alive connection is kept. Below uvicorn's
    /// 5 s keep-alive (SGLang's and vLLM's HTTP server), so we never send on
    /// a connection the server is closing: such a request may have reached
    /// it, so it could not be retried.
    pub pool_idle_timeout: Duration,
    /// How many times a request is re-sent after a failure in which nothing
    /// reached the server (a refused or failed connect). Each one is counted.
    pub max_connect_retries: u32,
    /// Pause before such a retry on the same endpoint (a retry on another
    /// endpoint goes at once).
    pub retry_backoff: Duration,
    /// An endpoint that refused a connection gets no new requests for this
    /// long while another endpoint is up, so a dead server does not turn
    /// every request into a retry.
    pub down_cooldown: Duration,
    /// PEM files of certificate authorities trusted for `https://` endpoints
    /// besides the public web roots (a private CA, a self-signed gateway).
    pub ca_certs: Vec<std::path::PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            request_timeout: Duration::from_secs(1200),
            idle_timeout: Some(Duration::from_secs(300)),
            connect_timeout: Duration::from_secs(10),
            pool_max_idle_per_host: 8192,
            pool_idle_timeout: Duration::from_secs(4),
            max_connect_retries: 3,
            retry_backoff: Duration::from_millis(50),
            down_cooldown: Duration::from_secs(1),
            ca_certs: Vec::new(),
        }
    }
}

/// A server's base URL, validated once: `http://host:port[/prefix]`, no
/// trailing slash, so paths can be appended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    base: String,
    /// Host name or address to connect to (IPv6 without brackets).
    host: String,
    port: u16,
    /// `host[:port]` as written, for the `Host` header.
    authority: String,
    /// The path prefix (`""` or `/prefix`), without a trailing slash.
    prefix: String,
    tls: bool,
}

impl Endpoint {
    /// Parses a base URL. A bare `host:port` means `http://host:port`.
    pub fn parse(url: &str) -> Result<Endpoint, BackendError> {
        let trimmed = url.trim();
        let full = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("http://{trimmed}")
        };
        let parsed = url::Url::parse(&full).map_err(|e| {
            BackendError::InvalidRequest(format!("endpoint {url:?} is not a valid URL: {e}"))
        })?;
        match parsed.scheme() {
            "http" => {}
            "https" if cfg!(feature = "https") => {}
            "https" => {
                return Err(BackendError::InvalidRequest(format!(
                    "endpoint {url:?} uses https, but this build has no TLS: rebuild with the \
                     `https` feature of the backend crate, or use http://"
                )))
            }
            other => {
                return Err(BackendError::InvalidRequest(format!(
                    "endpoint {url:?} has scheme {other:?}; use http://host:port"
                )))
            }
        }
        let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
            return Err(BackendError::InvalidRequest(format!(
                "endpoint {url:?} has no host; use http://host:port"
            )));
        };
        let Some(port) = parsed.port_or_known_default() else {
            return Err(BackendError::InvalidRequest(format!(
                "endpoint {url:?} has no port; use http://host:port"
            )));
        };
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(BackendError::InvalidRequest(format!(
                "endpoint {url:?} must not have a query or fragment"
            )));
        }
        let authority = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        Ok(Endpoint {
            base: parsed.as_str().trim_end_matches('/').to_owned(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            authority,
            prefix: parsed.path().trim_end_matches('/').to_owned(),
            tls: parsed.scheme() == "https",
        })
    }

    /// The base URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Host name or address to connect to.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.tls
    }

    /// `base` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)
    }
}

/// `404 Not Found`: a status code with its reason phrase (RFC 9110) when
/// it is one a generation server sends, else the bare number.
pub(crate) fn status_text(status: u16) -> String {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return status.to_string(),
    };
    format!("{status} {reason}")
}

/// The start of a body for an error message: at most 300 characters, lossy UTF-8.
pub(crate) fn snippet(body: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX * 4)]);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_normalised_and_checked() {
        let e = Endpoint::parse("http://127.0.0.1:30000/").unwrap();
        assert_eq!(e.url("/generate"), "http://127.0.0.1:30000/generate");
        let e = Endpoint::parse("localhost:8000").unwrap();
        assert_eq!(e.as_str(), "http://localhost:8000");
        let e = Endpoint::parse("http://h:1/prefix/").unwrap();
        assert_eq!(e.url("/v1/models"), "http://h:1/prefix/v1/models");
        assert_eq!((e.host(), e.port(), e.prefix()), ("h", 1, "/prefix"));
        let e = Endpoint::parse("http://[::1]:8000").unwrap();
        assert_eq!(
            (e.host(), e.authority(), e.prefix()),
            ("::1", "[::1]:8000", "")
        );
        let e = Endpoint::parse("http://example.com").unwrap();
        assert_eq!((e.port(), e.authority()), (80, "example.com"));
        for bad in [
            "ftp://h:1",
            "http://",
            "not a url at all",
            "http://h:1/?q=1",
        ] {
            let err = Endpoint::parse(bad).unwrap_err().to_string();
            assert!(err.contains("endpoint"), "{bad}: {err}");
        }
    }

    #[cfg(not(feature = "https"))]
    #[test]
    fn https_without_the_feature_says_how_to_get_it() {
        let err = Endpoint::parse("https://h:1").unwrap_err().to_string();
        assert!(err.contains("`https` feature"), "{err}");
    }

    #[test]
    fn status_texts_name_the_reason_when_known() {
        assert_eq!(status_text(429), "429 Too Many Requests");
        assert_eq!(status_text(503), "503 Service Unavailable");
        assert_eq!(status_text(599), "599");
    }

    #[test]
    fn snippet_is_bounded() {
        assert_eq!(snippet(b"  "), "(empty body)");
        let long = "é".repeat(1000);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), 301);
    }
}
