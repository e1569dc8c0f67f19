//! A deliberately misbehaving HTTP/1.1 server on loopback, scripted per
//! test. It speaks raw bytes on a real socket so a test can do what no
//! well-behaved framework allows: stall, cut a chunked body in half, send
//! garbage, close mid-stream, or answer in any SGLang/vLLM dialect.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
}

/// What the server does, step by step, for one request.
#[derive(Debug, Clone)]
pub enum Step {
    Write(Vec<u8>),
    Sleep(Duration),
    /// Never answer again (the test ends first).
    Hang,
    /// Close the connection now, whatever was sent.
    Close,
}

type Script = dyn Fn(&Seen, usize) -> Vec<Step> + Send + Sync;

pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    count: Arc<AtomicUsize>,
}

impl TestServer {
    /// Serves `script(request, n)` (n counts from 0) on 127.0.0.1, port 0.
    pub async fn start(script: impl Fn(&Seen, usize) -> Vec<Step> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        let (s, c) = (seen.clone(), count.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let _ = socket.set_nodelay(true);
                tokio::spawn(serve_connection(
                    socket,
                    script.clone(),
                    s.clone(),
                    c.clone(),
                ));
            }
        });
        TestServer {
            url: format!("http://{addr}"),
            addr,
            seen,
            count,
        }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

async fn serve_connection(
    mut socket: TcpStream,
    script: Arc<Script>,
    seen: Arc<Mutex<Vec<Seen>>>,
    count: Arc<AtomicUsize>,
) {
    let mut buf = Vec::new();
    loop {
        let Some(request) = read_request(&mut socket, &mut buf).await else {
            return;
        };
        let n = count.fetch_add(1, Ordering::SeqCst);
        seen.lock().unwrap().push(request.clone());
        for step in script(&request, n) {
            match step {
                Step::Write(bytes) => {
                    if socket.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Hang => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
                Step::Close => return,
            }
        }
    }
}

/// Reads one request (headers, then a Content-Length body).
async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Seen> {
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let mut tmp = [0u8; 8192];
        let n = socket.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut tmp = [0u8; 65536];
        let n = socket.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
    buf.drain(..head_end + length);
    Some(Seen { method, path, body })
}

// ---- Building responses ----

/// A complete response with a Content-Length body.
pub fn respond(status: u16, content_type: &str, body: &[u8]) -> Vec<Step> {
    let mut bytes = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    vec![Step::Write(bytes)]
}

pub fn json(status: u16, body: &Value) -> Vec<Step> {
    respond(status, "application/json", body.to_string().as_bytes())
}

/// Headers of a chunked SSE response.
pub fn sse_head() -> Step {
    Step::Write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec(),
    )
}

/// Headers of an SSE response whose end is the connection's close.
pub fn sse_head_until_close() -> Step {
    Step::Write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".to_vec(),
    )
}

/// One HTTP chunk holding `bytes`.
pub fn chunk(bytes: &[u8]) -> Step {
    let mut out = format!("{:x}\r\n", bytes.len()).into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    Step::Write(out)
}

/// One HTTP chunk holding one SSE event `data: {json}`.
pub fn event(data: &Value) -> Step {
    chunk(format!("data: {data}\n\n").as_bytes())
}

pub fn done() -> Step {
    chunk(b"data: [DONE]\n\n")
}

/// The terminating zero-length chunk.
pub fn end() -> Step {
    Step::Write(b"0\r\n\r\n".to_vec())
}

/// An address where nothing listens (bound, then released).
pub async fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

// ---- Reading generations ----

use backend::{Event, GenerateOutput, GenerateRequest, Generation};

pub fn request(prompt: &[u32], max_new_tokens: u32, stream: bool) -> GenerateRequest {
    GenerateRequest::reference(prompt.to_vec(), max_new_tokens, stream)
}

/// Every event of a generation: the streamed id batches, then the output or error.
pub async fn collect(
    mut g: Generation,
) -> (Vec<Vec<u32>>, Result<GenerateOutput, backend::BackendError>) {
    let mut batches = Vec::new();
    let all = async {
        while let Some(event) = g.next().await {
            match event {
                Ok(Event::Tokens(ids)) => batches.push(ids),
                Ok(Event::Finished(out)) => return Ok(out),
                Err(e) => return Err(e),
            }
        }
        Err(backend::BackendError::Internal("no final event".into()))
    };
    // Generous: only a hang fails this.
    let result = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("the generation hung");
    (batches, result)
}
