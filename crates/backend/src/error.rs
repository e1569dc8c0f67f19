//! The crate's errors. A [`BackendError`] says whose fault a failure is
//! (the request's, an overloaded server's, the transport's); a
//! [`TransportError`] names the endpoint, the request and the [`TransportKind`],
//! so a caller can tell a refused connection from a hung stream without
//! reading the message.

/// Errors of any backend. `InvalidRequest` is the caller's fault (HTTP 4xx).
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// The request cannot be served as it is (a bad field, a refused setting,
    /// or a server's 4xx answer); sending it again will not help.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The server is at capacity (HTTP 429 or 503); a later try may work.
    #[error("backend is overloaded: {0}")]
    Overloaded(String),
    /// The backend stopped taking work.
    #[error("backend is shutting down; retry on another endpoint")]
    ShuttingDown,
    /// The backend itself failed (a server's 5xx answer, an engine fault).
    #[error("backend failed: {0}")]
    Internal(String),
    /// A request to a server went wrong on the way there or back.
    #[error("{heading} error: {0}", heading = .0.kind.heading())]
    Transport(#[from] TransportError),
}

/// How a request to a server failed, for callers that decide by kind
/// (retry, report, give up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection could be made: nothing reached the server, so the
    /// request may be sent again.
    Connect,
    /// The request went out (or may have) and no response head came back.
    Sent,
    /// The request timeout, or a stream's idle limit, ran out.
    Timeout,
    /// The connection broke in the middle of the response.
    Broken,
    /// The server answered something that is not valid HTTP, SSE or the
    /// protocol's JSON.
    Protocol,
    /// A readiness probe got only error statuses.
    NotReady,
}

impl TransportKind {
    /// The first words of the message.
    fn heading(self) -> &'static str {
        match self {
            TransportKind::Protocol => "protocol",
            _ => "transport",
        }
    }
}

/// A failed request, naming where it went and what happened.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{request}: {detail}")]
pub struct TransportError {
    /// The server's base URL.
    pub endpoint: String,
    /// Which request failed.
    pub request: RequestLabel,
    /// What kind of failure it was.
    pub kind: TransportKind,
    /// What happened, in words, with how far the response had got.
    pub detail: String,
}

/// Which request a message is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestLabel {
    /// A generation: `POST http://h:p/generate (request #17, 512 prompt
    /// tokens, streaming)`.
    Generate {
        /// The full URL posted to.
        url: String,
        /// The pool's running number of the request (from 1).
        number: u64,
        /// How many prompt ids it carried.
        prompt_tokens: usize,
        /// Whether it asked for a stream.
        stream: bool,
    },
    /// The readiness probes of one server.
    Probe {
        /// The server's base URL.
        endpoint: String,
    },
    /// A plain `GET` of a page (a Prometheus `/metrics` scrape).
    Page {
        /// The full URL fetched.
        url: String,
    },
}

impl std::fmt::Display for RequestLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestLabel::Generate {
                url,
                number,
                prompt_tokens,
                stream,
            } => write!(
                f,
                "POST {url} (request #{number}, {prompt_tokens} prompt tokens, {})",
                if *stream {
                    "streaming"
                } else {
                    "non-streaming"
                }
            ),
            RequestLabel::Probe { endpoint } => write!(f, "readiness probe of {endpoint}"),
            RequestLabel::Page { url } => write!(f, "GET {url}"),
        }
    }
}

impl RequestLabel {
    /// The error for `fault`, naming this request and its endpoint.
    pub(crate) fn error(&self, endpoint: &str, fault: Fault) -> BackendError {
        BackendError::Transport(TransportError {
            endpoint: endpoint.to_owned(),
            request: self.clone(),
            kind: fault.kind,
            detail: fault.detail,
        })
    }

    /// The error for a non-2xx reply, classified by status: 4xx is the
    /// request's fault, 429/503 an overloaded server, the rest a server failure.
    pub(crate) fn status(&self, status: u16, body: &[u8]) -> BackendError {
        let msg = format!(
            "{self}: HTTP {}: {}",
            crate::http::status_text(status),
            crate::http::snippet(body)
        );
        match status {
            429 | 503 => BackendError::Overloaded(msg),
            400..=499 => BackendError::InvalidRequest(msg),
            _ => BackendError::Internal(msg),
        }
    }
}

/// What went wrong below the request level (a connection, a body, a
/// reply), before it is known which request it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub kind: TransportKind,
    pub detail: String,
}

impl Fault {
    pub fn new(kind: TransportKind, detail: impl Into<String>) -> Fault {
        Fault {
            kind,
            detail: detail.into(),
        }
    }

    /// The server's reply is not what the protocol says.
    pub fn protocol(detail: impl Into<String>) -> Fault {
        Fault::new(TransportKind::Protocol, detail)
    }

    /// The same fault, its detail put in context.
    pub fn context(self, f: impl FnOnce(&str) -> String) -> Fault {
        Fault {
            kind: self.kind,
            detail: f(&self.detail),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}
