//! A server-sent-events decoder that turns the bytes of a streamed HTTP body
//! into the payloads of its `data:` fields, one per event.
//!
//! SGLang and vLLM both write one `data: {json}` line followed by a blank
//! line per chunk, and end with `data: [DONE]`. The decoder follows the SSE
//! rules that matter for those servers, and no more: lines end in `\n`,
//! `\r\n` or `\r`; an event ends at a blank line; several `data:` lines of
//! one event are joined with `\n`; comment lines (`:`) and other fields
//! (`event:`, `id:`, `retry:`) are skipped. Bytes are split anywhere by
//! TCP, so a partial line is kept until the rest arrives. A line longer than
//! [`SseDecoder::MAX_LINE`] or one that is not UTF-8 is an error, so a garbled
//! stream cannot grow memory without bound or be half-read silently.

/// Incremental SSE decoder; feed it body chunks, collect `data` payloads.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// `data` of the current event so far; `None` until a `data:` line.
    data: Option<String>,
    /// The previous byte was `\r`, so a following `\n` belongs to it.
    after_cr: bool,
}

/// Why a stream is not valid SSE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an SSE line is longer than {0} bytes (garbled stream?)")]
    LineTooLong(usize),
    #[error("an SSE line is not valid UTF-8: {0:?}")]
    NotUtf8(String),
}

impl SseDecoder {
    /// No SGLang or vLLM chunk comes near this: a cumulative SGLang chunk of
    /// 131072 ids is about 1 MiB of JSON.
    pub const MAX_LINE: usize = 64 << 20;

    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `bytes`, appending the payload of every event they complete to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) -> Result<(), SseError> {
        let mut rest = bytes;
        if self.after_cr {
            self.after_cr = false;
            if let Some(b'\n') = rest.first() {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (head, tail) = rest.split_at(pos);
            self.push_bytes(head)?;
            let is_cr = tail[0] == b'\r';
            rest = &tail[1..];
            if is_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            self.end_line(line, out)?;
        }
        self.push_bytes(rest)
    }

    /// True when an event or a line was started but not completed.
    pub fn has_partial(&self) -> bool {
        !self.line.is_empty() || self.data.is_some()
    }

    /// At end of body: the pending event, if its last line was complete but
    /// the blank line that ends it never came (some servers omit it last).
    pub fn finish(&mut self) -> Result<Option<String>, SseError> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            let mut out = Vec::new();
            self.end_line(line, &mut out)?;
        }
        Ok(self.data.take())
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + bytes.len() > Self::MAX_LINE {
            return Err(SseError::LineTooLong(Self::MAX_LINE));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn end_line(&mut self, line: Vec<u8>, out: &mut Vec<String>) -> Result<(), SseError> {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(data);
            }
            return Ok(());
        }
        let line = String::from_utf8(line).map_err(|e| {
            let bytes = e.as_bytes();
            SseError::NotUtf8(String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned())
        })?;
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        if field == "data" {
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<String> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            d.feed(chunk, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn splits_events_whatever_the_tcp_boundaries() {
        let input =
            b"data: {\"a\":1}\n\ndata: {\"b\":2}\r\n\r\n: keep-alive\n\nevent: x\ndata: [DONE]\r\r";
        for piece in 1..input.len() {
            assert_eq!(
                decode_in_pieces(input, piece),
                vec!["{\"a\":1}", "{\"b\":2}", "[DONE]"],
                "piece size {piece}"
            );
        }
    }

    #[test]
    fn joins_multi_line_data_and_keeps_missing_space() {
        let out = decode_in_pieces(b"data:x\ndata: y\n\n", 3);
        assert_eq!(out, vec!["x\ny"]);
    }

    #[test]
    fn finish_returns_an_unterminated_event() {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        d.feed(b"data: [DONE]", &mut out).unwrap();
        assert!(out.is_empty() && d.has_partial());
        assert_eq!(d.finish().unwrap().as_deref(), Some("[DONE]"));
    }

    #[test]
    fn rejects_invalid_utf8() {
        let mut d = SseDecoder::new();
        let err = d.feed(b"data: \xff\xfe\n\n", &mut Vec::new()).unwrap_err();
        assert!(matches!(err, SseError::NotUtf8(_)));
    }
}
