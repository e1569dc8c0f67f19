//! A minimal HTTP/1.1 client connection: one request at a time, the
//! response head parsed with `httparse`, the body framed by
//! `Content-Length`, chunked transfer coding, or the connection's close.
//!
//! Why not `reqwest`/`hyper` on this path: a hyper connection is a task of
//! its own that hands every body chunk to the reader through a channel, so
//! each SSE event of a stream costs two task wake-ups, a channel hand-off and
//! several boxed body layers, and the per-stream state they touch grows
//! with the number of open streams (the client's CPU per token rose 2.5×
//! from 256 to 4096 streams). Here the task that reads a stream owns its
//! socket and decodes the framing in place out of one read buffer, so a
//! token costs one wake-up and one `read`. Only what the SGLang and OpenAI
//! clients need is implemented: `POST` with a JSON body, keep-alive, no
//! pipelining, no `Expect`, no upgrades; and `GET` for readiness probes.

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::error::{Fault, TransportKind};
use crate::http::{Endpoint, HttpConfig};
use crate::BackendError;

/// The largest response head we accept (status line and headers).
const MAX_HEAD: usize = 64 << 10;
/// The largest chunk-size line (with extensions) or trailer line.
const MAX_LINE: usize = 4 << 10;
/// Initial read buffer of a connection; an SSE event of SGLang or vLLM is a
/// few hundred bytes, so one read usually takes several.
const READ_BUF: usize = 8 << 10;

/// A socket, plain or (with the `https` feature) TLS.
enum Io {
    Plain(TcpStream),
    #[cfg(feature = "https")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Io {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Io::Plain(s) => s.read(buf).await,
            #[cfg(feature = "https")]
            Io::Tls(s) => s.read(buf).await,
        }
    }

    async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Io::Plain(s) => s.write_all(buf).await,
            #[cfg(feature = "https")]
            Io::Tls(s) => {
                s.write_all(buf).await?;
                s.flush().await
            }
        }
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(s) => s,
            #[cfg(feature = "https")]
            Io::Tls(s) => s.get_ref().0,
        }
    }
}

/// Opens connections to endpoints.
#[derive(Clone)]
pub(crate) struct Connector {
    connect_timeout: Duration,
    #[cfg(feature = "https")]
    tls: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Fails only on CA files that cannot be used (or given to a build
    /// without TLS).
    pub fn new(config: &HttpConfig) -> Result<Connector, BackendError> {
        #[cfg(not(feature = "https"))]
        if let Some(file) = config.ca_certs.first() {
            return Err(BackendError::InvalidRequest(format!(
                "CA certificate {} given, but this build has no TLS (the `https` feature of the backend crate)",
                file.display()
            )));
        }
        Ok(Connector {
            connect_timeout: config.connect_timeout,
            #[cfg(feature = "https")]
            tls: tls_connector(&config.ca_certs)?,
        })
    }

    /// A new connection with Nagle off (small SSE chunks and requests go
    /// out at once). Any error means nothing reached the server.
    pub async fn connect(&self, endpoint: &Endpoint) -> Result<Conn, Fault> {
        let addr = (endpoint.host(), endpoint.port());
        let tcp = match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => return Err(connect_fault(e)),
            Err(_) => {
                return Err(connect_fault(format_args!(
                    "no connection within the connect timeout of {:?}",
                    self.connect_timeout
                )))
            }
        };
        tcp.set_nodelay(true)
            .map_err(|e| connect_fault(format_args!("cannot set TCP_NODELAY: {e}")))?;
        let io = if endpoint.is_tls() {
            self.tls(endpoint, tcp).await?
        } else {
            Io::Plain(tcp)
        };
        Ok(Conn {
            io,
            buf: Buffer::new(),
        })
    }

    #[cfg(feature = "https")]
    async fn tls(&self, endpoint: &Endpoint, tcp: TcpStream) -> Result<Io, Fault> {
        let name = rustls::pki_types::ServerName::try_from(endpoint.host().to_owned())
            .map_err(|e| connect_fault(format_args!("bad TLS server name: {e}")))?;
        let handshake = self.tls.connect(name, tcp);
        match tokio::time::timeout(self.connect_timeout, handshake).await {
            Ok(Ok(s)) => Ok(Io::Tls(Box::new(s))),
            Ok(Err(e)) => Err(connect_fault(format_args!("TLS handshake failed: {e}"))),
            Err(_) => Err(connect_fault("the TLS handshake timed out")),
        }
    }

    #[cfg(not(feature = "https"))]
    async fn tls(&self, endpoint: &Endpoint, _tcp: TcpStream) -> Result<Io, Fault> {
        Err(Fault::new(
            TransportKind::Connect,
            format!("{endpoint} uses https, but this build has no TLS (the `https` feature)"),
        ))
    }
}

/// A failed connect: nothing reached the server.
fn connect_fault(what: impl std::fmt::Display) -> Fault {
    Fault::new(
        TransportKind::Connect,
        format!("error trying to connect: {what}"),
    )
}

/// The public web roots plus the certificates of each PEM file in `ca_files`.
#[cfg(feature = "https")]
fn tls_connector(
    ca_files: &[std::path::PathBuf],
) -> Result<tokio_rustls::TlsConnector, BackendError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for file in ca_files {
        let bad = |what: String| {
            BackendError::InvalidRequest(format!(
                "CA certificate file {}: {what}; pass a PEM file with -----BEGIN CERTIFICATE----- blocks",
                file.display()
            ))
        };
        let certs = CertificateDer::pem_file_iter(file)
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no certificate in it".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BackendError::Internal(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Bytes read from a connection: `buf[start..end]` is not yet consumed.
#[derive(Debug)]
struct Buffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buffer {
    fn new() -> Buffer {
        Buffer::with_capacity(READ_BUF)
    }

    /// A buffer that starts at `capacity` bytes (and grows on demand).
    fn with_capacity(capacity: usize) -> Buffer {
        Buffer {
            buf: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
        }
    }

    /// Unconsumed bytes.
    fn len(&self) -> usize {
        self.end - self.start
    }

    /// Room for the next read, after moving what is unconsumed to the
    /// front or growing the buffer up to `limit` bytes; an error when
    /// `limit` bytes are buffered and none could be consumed.
    fn spare(&mut self, limit: usize) -> std::io::Result<&mut [u8]> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buf.len() && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= limit {
                return Err(std::io::Error::other(format!(
                    "a header or chunk line is longer than {limit} bytes"
                )));
            }
            self.buf.resize((self.buf.len() * 2).min(limit), 0);
        }
        Ok(&mut self.buf[self.end..])
    }

    /// Counts `n` bytes written into [`Buffer::spare`] as read.
    fn filled(&mut self, n: usize) {
        self.end += n;
    }
}

/// An open connection and the bytes read from it but not yet consumed.
pub(crate) struct Conn {
    io: Io,
    buf: Buffer,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl Conn {
    /// Sends one request: the whole message in one write.
    pub async fn send(&mut self, message: &[u8]) -> std::io::Result<()> {
        self.io.write_all(message).await
    }

    /// Reads more bytes into the buffer; 0 at the end of the stream.
    /// Cancel-safe: nothing is lost when the future is dropped.
    async fn fill(&mut self, limit: usize) -> std::io::Result<usize> {
        let n = self.io.read(self.buf.spare(limit)?).await?;
        self.buf.filled(n);
        Ok(n)
    }

    /// True when the server has closed this idle connection or sent
    /// something unasked (it cannot carry a request then). Does not block.
    fn is_stale(&self) -> bool {
        if self.buf.len() != 0 {
            return true;
        }
        let mut probe = [0u8; 1];
        let mut buf = tokio::io::ReadBuf::new(&mut probe);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        !matches!(
            self.io.tcp().poll_peek(&mut cx, &mut buf),
            std::task::Poll::Pending
        )
    }

    /// Reads the response head (skipping `1xx` interim responses).
    pub async fn read_head(mut self) -> Result<Response, Fault> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut headers);
            let b = &self.buf;
            match parsed.parse(&b.buf[b.start..b.end]) {
                Ok(httparse::Status::Complete(len)) => {
                    let head = Head::new(&parsed);
                    self.buf.start += len;
                    match head {
                        Ok(head) if head.status / 100 == 1 => continue,
                        Ok(head) => return Ok(Response::new(self, head)),
                        Err(e) => return Err(Fault::protocol(e)),
                    }
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => return Err(Fault::protocol(format!("invalid HTTP response head: {e}"))),
            }
            let sent = |what: String| Err(Fault::new(TransportKind::Sent, what));
            match self.fill(MAX_HEAD).await {
                Ok(0) if self.buf.len() == 0 => {
                    return sent("connection closed before a response arrived".into())
                }
                Ok(0) => {
                    return sent("connection closed in the middle of the response head".into())
                }
                Ok(_) => {}
                Err(e) => return sent(format!("reading the response failed: {e}")),
            }
        }
    }
}

/// What the response head says.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub status: u16,
    /// `Content-Type` starts with `application/json`.
    pub is_json: bool,
    framing: Framing,
    keep_alive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    Length(u64),
    Chunked,
    /// The body ends when the server closes the connection.
    Close,
}

impl Head {
    fn new(r: &httparse::Response<'_, '_>) -> Result<Head, String> {
        let status = r.code.unwrap_or(0);
        let mut keep_alive = r.version == Some(1);
        let (mut length, mut chunked, mut coded) = (None::<u64>, false, false);
        let mut is_json = false;
        for h in r.headers.iter() {
            let value = std::str::from_utf8(h.value).unwrap_or("").trim();
            if h.name.eq_ignore_ascii_case("content-length") {
                let n = value
                    .parse::<u64>()
                    .map_err(|_| format!("invalid Content-Length {value:?}"))?;
                if length.is_some_and(|l| l != n) {
                    return Err("conflicting Content-Length headers".into());
                }
                length = Some(n);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                coded = true;
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            } else if h.name.eq_ignore_ascii_case("content-type") {
                is_json = value.starts_with("application/json");
            } else if h.name.eq_ignore_ascii_case("connection") {
                for token in value.split(',').map(str::trim) {
                    if token.eq_ignore_ascii_case("close") {
                        keep_alive = false;
                    } else if token.eq_ignore_ascii_case("keep-alive") {
                        keep_alive = true;
                    }
                }
            }
        }
        // RFC 9112 §6.3: no body for 1xx, 204 and 304; Transfer-Encoding
        // overrides Content-Length; a non-chunked coding runs to the close.
        let framing = if status / 100 == 1 || status == 204 || status == 304 {
            Framing::Length(0)
        } else if chunked {
            Framing::Chunked
        } else if coded {
            Framing::Close
        } else {
            length.map_or(Framing::Close, Framing::Length)
        };
        if framing == Framing::Close {
            keep_alive = false;
        }
        Ok(Head {
            status,
            is_json,
            framing,
            keep_alive,
        })
    }
}

/// Where the body decoder is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// This many body bytes are still to come (Content-Length).
    Length(u64),
    /// Expecting a chunk-size line.
    ChunkSize,
    /// Inside a chunk; this many data bytes remain.
    ChunkData(u64),
    /// Expecting the CRLF that ends a chunk's data.
    ChunkEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
    /// Until the connection closes.
    UntilClose,
    Done,
}

/// One step of [`Response::next_piece`].
#[derive(Debug, PartialEq)]
pub(crate) enum Piece {
    /// Body bytes, as a range of [`Response::bytes`].
    Data(Range<usize>),
    /// The body is complete.
    End,
    /// Nothing buffered: call [`Response::fill`].
    NeedMore,
}

/// A response whose head was read; its body is read piece by piece.
pub(crate) struct Response {
    conn: Conn,
    pub head: Head,
    body: BodyDecoder,
}

impl Response {
    fn new(conn: Conn, head: Head) -> Response {
        let body = BodyDecoder::new(head.framing);
        Response { conn, head, body }
    }

    /// The buffer that [`Piece::Data`] ranges index.
    pub fn bytes(&self) -> &[u8] {
        &self.conn.buf.buf
    }

    /// The next piece of body out of what is buffered (no I/O).
    pub fn next_piece(&mut self) -> Result<Piece, Fault> {
        self.body.next_piece(&mut self.conn.buf)
    }

    /// Reads more of the body from the socket; cancel-safe. `Ok(false)`
    /// when the connection closed, which ends a body framed by the close
    /// and is an error for any other.
    pub async fn fill(&mut self) -> Result<bool, Fault> {
        match self.conn.fill(MAX_LINE.max(READ_BUF)).await {
            Ok(0) => self.body.closed().map(|()| false),
            Ok(_) => Ok(true),
            Err(e) => Err(Fault::new(
                TransportKind::Broken,
                format!("reading the body failed: {e}"),
            )),
        }
    }

    /// Gives the connection back to `idle` if it can carry another request:
    /// the body was read to its end, nothing follows it, and neither side
    /// asked to close.
    pub fn release(self, idle: &IdleConns) {
        if self.body.state == State::Done && self.head.keep_alive && self.conn.buf.len() == 0 {
            idle.put(self.conn);
        }
    }
}

/// The body framing (RFC 9112 §6-7) decoded out of a [`Buffer`], apart
/// from the socket so that it can be tested on its own.
#[derive(Debug)]
struct BodyDecoder {
    state: State,
}

impl BodyDecoder {
    fn new(framing: Framing) -> BodyDecoder {
        let state = match framing {
            Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
            Framing::Close => State::UntilClose,
        };
        BodyDecoder { state }
    }

    /// The next piece of body out of `c`, consuming it.
    fn next_piece(&mut self, c: &mut Buffer) -> Result<Piece, Fault> {
        loop {
            let avail = c.len();
            match self.state {
                State::Done => return Ok(Piece::End),
                _ if avail == 0 => return Ok(Piece::NeedMore),
                State::Length(n) | State::ChunkData(n) => {
                    let take = avail.min(usize::try_from(n).unwrap_or(usize::MAX));
                    let range = c.start..c.start + take;
                    c.start += take;
                    let left = n - take as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), _) => State::Length(left),
                        (_, 0) => State::ChunkEnd,
                        _ => State::ChunkData(left),
                    };
                    return Ok(Piece::Data(range));
                }
                State::UntilClose => {
                    let range = c.start..c.end;
                    c.start = c.end;
                    return Ok(Piece::Data(range));
                }
                State::ChunkSize | State::ChunkEnd | State::Trailers => {
                    let Some(line) = take_line(c)? else {
                        return Ok(Piece::NeedMore);
                    };
                    self.state = match self.state {
                        State::ChunkSize => match chunk_size(&c.buf[line])? {
                            0 => State::Trailers,
                            n => State::ChunkData(n),
                        },
                        State::ChunkEnd if line.is_empty() => State::ChunkSize,
                        State::ChunkEnd => {
                            return Err(Fault::protocol("a chunk is longer than its size"))
                        }
                        _ if line.is_empty() => State::Done,
                        _ => State::Trailers,
                    };
                }
            }
        }
    }

    /// The connection closed: the end of a body framed by the close, and
    /// an error for any other that is not complete.
    fn closed(&mut self) -> Result<(), Fault> {
        match self.state {
            State::UntilClose => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(Fault::new(
                TransportKind::Broken,
                "connection closed before the body ended",
            )),
        }
    }
}

/// The range of the next complete line (without its `\r\n` or `\n`), if
/// one is buffered; consumes it.
fn take_line(c: &mut Buffer) -> Result<Option<Range<usize>>, Fault> {
    let avail = &c.buf[c.start..c.end];
    let Some(nl) = avail.iter().position(|&b| b == b'\n') else {
        if avail.len() >= MAX_LINE {
            return Err(Fault::protocol(format!(
                "a chunk-size or trailer line is longer than {MAX_LINE} bytes"
            )));
        }
        return Ok(None);
    };
    let mut end = c.start + nl;
    if end > c.start && c.buf[end - 1] == b'\r' {
        end -= 1;
    }
    let line = c.start..end;
    c.start += nl + 1;
    Ok(Some(line))
}

/// The size of a chunk-size line: hex digits, then optional `;extensions`.
fn chunk_size(line: &[u8]) -> Result<u64, Fault> {
    let bad = || {
        Fault::protocol(format!(
            "invalid chunk size line {:?}",
            String::from_utf8_lossy(line)
        ))
    };
    let digits = line.split(|&b| b == b';').next().unwrap_or(b"");
    let digits = std::str::from_utf8(digits).map_err(|_| bad())?.trim();
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    u64::from_str_radix(digits, 16).map_err(|_| bad())
}

/// Keep-alive connections to one endpoint, most recently used first out.
#[derive(Debug)]
pub(crate) struct IdleConns {
    conns: Mutex<std::collections::VecDeque<(Instant, Conn)>>,
    max: usize,
    timeout: Duration,
}

impl IdleConns {
    /// Keeps at most `max` connections, each for at most `timeout`.
    pub fn new(max: usize, timeout: Duration) -> Arc<IdleConns> {
        Arc::new(IdleConns {
            conns: Mutex::new(Default::default()),
            max,
            timeout,
        })
    }

    /// The most recently used live connection, if any. Connections idle
    /// longer than the timeout are closed, never reused: the server may be
    /// closing them at that very moment.
    pub fn take(&self) -> Option<Conn> {
        let now = Instant::now();
        loop {
            let (expired, conn) = {
                let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
                let keep = conns
                    .iter()
                    .position(|(since, _)| now.duration_since(*since) < self.timeout)
                    .unwrap_or(conns.len());
                let expired: Vec<_> = conns.drain(..keep).collect();
                (expired, conns.pop_back())
            };
            drop(expired);
            let (_, conn) = conn?;
            if !conn.is_stale() {
                return Some(conn);
            }
        }
    }

    fn put(&self, conn: Conn) {
        if self.max == 0 {
            return;
        }
        let evicted = {
            let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
            let evicted = (conns.len() >= self.max).then(|| conns.pop_front());
            conns.push_back((Instant::now(), conn));
            evicted
        };
        drop(evicted);
    }

    /// How many connections wait (for tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.conns.lock().map(|c| c.len()).unwrap_or(0)
    }
}

/// The bytes of `GET {path}` to `endpoint`, asking for JSON.
pub(crate) fn get_message(endpoint: &Endpoint, path: &str) -> Vec<u8> {
    format!(
        "GET {}{path} HTTP/1.1\r\nhost: {}\r\naccept: application/json\r\n\r\n",
        endpoint.prefix(),
        endpoint.authority()
    )
    .into_bytes()
}

/// The bytes of `POST {path}` to `endpoint` with a JSON `body`.
pub(crate) fn post_message(endpoint: &Endpoint, path: &str, accept: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(160 + body.len());
    m.extend_from_slice(b"POST ");
    m.extend_from_slice(endpoint.prefix().as_bytes());
    m.extend_from_slice(path.as_bytes());
    m.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    m.extend_from_slice(endpoint.authority().as_bytes());
    m.extend_from_slice(b"\r\ncontent-type: application/json\r\naccept: ");
    m.extend_from_slice(accept.as_bytes());
    m.extend_from_slice(b"\r\ncontent-length: ");
    m.extend_from_slice(body.len().to_string().as_bytes());
    m.extend_from_slice(b"\r\n\r\n");
    m.extend_from_slice(body);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response over a real loopback socket, fed `wire` in pieces of `piece` bytes.
    async fn decode(wire: &'static [u8], piece: usize) -> (Head, Result<Vec<u8>, Fault>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            for p in wire.chunks(piece) {
                if s.write_all(p).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
        });
        let endpoint = Endpoint::parse(&format!("http://{addr}")).unwrap();
        let conn = Connector::new(&HttpConfig::default())
            .unwrap()
            .connect(&endpoint)
            .await
            .unwrap();
        let mut r = conn.read_head().await.unwrap();
        let head = r.head.clone();
        let mut body = Vec::new();
        let result = loop {
            match r.next_piece() {
                Ok(Piece::Data(range)) => body.extend_from_slice(&r.bytes()[range]),
                Ok(Piece::End) => break Ok(body),
                Ok(Piece::NeedMore) => match r.fill().await {
                    Ok(_) => {}
                    Err(e) => break Err(e),
                },
                Err(e) => break Err(e),
            }
        };
        (head, result)
    }

    #[tokio::test]
    async fn chunked_length_and_close_framed_bodies_in_any_pieces() {
        let cases: [(&'static [u8], &[u8]); 4] = [
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\n",
                b"hello, world",
            ),
            (
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 4\r\ncontent-type: application/json\r\n\r\n{}{}",
                b"{}{}",
            ),
            (b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end", b"until the end"),
            (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
        ];
        for (wire, want) in cases {
            for piece in [1, 3, 7, 1000] {
                let (_, body) = decode(wire, piece).await;
                assert_eq!(body.unwrap(), want, "piece {piece}");
            }
        }
        let (head, _) = decode(cases[1].0, 1000).await;
        assert!(head.is_json && head.keep_alive && head.status == 200);
        let (head, _) = decode(cases[2].0, 1000).await;
        assert!(!head.keep_alive);
    }

    #[tokio::test]
    async fn truncated_and_garbled_bodies_are_errors() {
        for (wire, needle) in [
            (
                &b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel"[..],
                "closed",
            ),
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
                "closed",
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
                "chunk size",
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n",
                "longer",
            ),
        ] {
            let (_, body) = decode(wire, 4).await;
            let err = body.unwrap_err();
            assert!(err.detail.contains(needle), "{err}");
        }
    }

    #[tokio::test]
    async fn idle_connections_expire_and_closed_ones_are_not_reused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let endpoint = Endpoint::parse(&format!("http://{addr}")).unwrap();
        let connector = Connector::new(&HttpConfig::default()).unwrap();
        let idle = IdleConns::new(8, Duration::from_secs(3600));
        let (a, b) = (
            connector.connect(&endpoint).await.unwrap(),
            connector.connect(&endpoint).await.unwrap(),
        );
        let (server_a, _) = listener.accept().await.unwrap();
        let (_server_b, _) = listener.accept().await.unwrap();
        // `a`'s server end goes away; wait until its close has arrived.
        drop(server_a);
        a.io.tcp().readable().await.unwrap();
        idle.put(a);
        idle.put(b);
        assert_eq!(idle.len(), 2);
        // The most recent (live) first, then nothing: `a` is closed.
        assert!(idle.take().is_some());
        assert!(idle.take().is_none(), "a closed connection was reused");
        // A connection idle for the whole timeout (here zero) is not reused.
        let expiring = IdleConns::new(8, Duration::ZERO);
        let c = connector.connect(&endpoint).await.unwrap();
        let _server_c = listener.accept().await.unwrap();
        expiring.put(c);
        assert_eq!(expiring.len(), 1);
        assert!(
            expiring.take().is_none(),
            "an expired connection was reused"
        );
        assert_eq!(expiring.len(), 0);
    }

    /// Decodes `wire` as a body framed by `framing`, as it would arrive in
    /// reads of the given `pieces` into a buffer of `capacity` bytes.
    fn decode_in_pieces(
        framing: Framing,
        wire: &[u8],
        cuts: &[usize],
        capacity: usize,
    ) -> Result<Vec<u8>, Fault> {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(wire.len())).collect();
        cuts.push(wire.len());
        cuts.sort_unstable();
        let mut pieces = cuts
            .iter()
            .scan(0, |from, &to| {
                let piece = &wire[*from..to];
                *from = to;
                Some(piece)
            })
            .filter(|p| !p.is_empty());
        let mut buffer = Buffer::with_capacity(capacity);
        let mut decoder = BodyDecoder::new(framing);
        let mut pending: &[u8] = &[];
        let mut body = Vec::new();
        loop {
            match decoder.next_piece(&mut buffer)? {
                Piece::Data(range) => body.extend_from_slice(&buffer.buf[range]),
                Piece::End => return Ok(body),
                Piece::NeedMore => {
                    if pending.is_empty() {
                        match pieces.next() {
                            Some(piece) => pending = piece,
                            None => {
                                decoder.closed()?;
                                continue;
                            }
                        }
                    }
                    // One read: as much of the piece as the buffer takes.
                    let spare = buffer
                        .spare(MAX_LINE.max(READ_BUF))
                        .map_err(|e| Fault::protocol(e.to_string()))?;
                    let n = spare.len().min(pending.len());
                    spare[..n].copy_from_slice(&pending[..n]);
                    buffer.filled(n);
                    pending = &pending[n..];
                }
            }
        }
    }

    /// `body` in chunked coding, cut into chunks at `cuts`.
    fn chunked(
        body: &[u8],
        cuts: &[usize],
        extension: bool,
        upper: bool,
        trailer: bool,
    ) -> Vec<u8> {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(body.len())).collect();
        cuts.push(body.len());
        cuts.sort_unstable();
        cuts.dedup();
        let mut wire = Vec::new();
        let mut from = 0;
        for to in cuts {
            if to == from {
                continue;
            }
            let size = if upper {
                format!("{:X}", to - from)
            } else {
                format!("{:x}", to - from)
            };
            wire.extend_from_slice(size.as_bytes());
            if extension {
                wire.extend_from_slice(b";name=value");
            }
            wire.extend_from_slice(b"\r\n");
            wire.extend_from_slice(&body[from..to]);
            wire.extend_from_slice(b"\r\n");
            from = to;
        }
        wire.extend_from_slice(b"0\r\n");
        if trailer {
            wire.extend_from_slice(b"x-trailer: 1\r\n");
        }
        wire.extend_from_slice(b"\r\n");
        wire
    }

    proptest::proptest! {
        #[test]
        fn any_split_gives_the_unsplit_body(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
            chunk_cuts in proptest::collection::vec(0usize..600, 0..12),
            read_cuts in proptest::collection::vec(0usize..800, 0..24),
            framing in 0u8..3,
            extension in proptest::bool::ANY,
            upper in proptest::bool::ANY,
            trailer in proptest::bool::ANY,
            capacity in 1usize..64,
        ) {
            let (framing, wire) = match framing {
                0 => (Framing::Length(body.len() as u64), body.clone()),
                1 => (Framing::Chunked, chunked(&body, &chunk_cuts, extension, upper, trailer)),
                _ => (Framing::Close, body.clone()),
            };
            let whole = decode_in_pieces(framing, &wire, &[], READ_BUF).unwrap();
            let split = decode_in_pieces(framing, &wire, &read_cuts, capacity).unwrap();
            proptest::prop_assert_eq!(&whole, &body);
            proptest::prop_assert_eq!(&split, &whole);
        }
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a"), Ok(26));
        assert_eq!(chunk_size(b"0;name=value"), Ok(0));
        assert_eq!(chunk_size(b" 10 "), Ok(16));
        assert!(chunk_size(b"").is_err());
        assert!(chunk_size(b"-1").is_err());
        assert!(chunk_size(b"ffffffffffffffffff").is_err());
    }
}
