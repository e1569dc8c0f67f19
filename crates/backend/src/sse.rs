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
    /// A line longer than the limit (the payload).
    #[error("an SSE line is longer than {0} bytes (garbled stream?)")]
    LineTooLong(usize),
    /// A line that is not UTF-8 (its start, lossily decoded).
    #[error("an SSE line is not valid UTF-8: {0:?}")]
    NotUtf8(String),
}

/// What [`SseDecoder::feed_with`]'s callback wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next event.
    Continue,
    /// Stop decoding; the rest of the input is ignored.
    Stop,
}

impl SseDecoder {
    /// No SGLang or vLLM chunk comes near this: a cumulative SGLang chunk of
    /// 131072 ids is about 1 MiB of JSON.
    pub const MAX_LINE: usize = 64 << 20;

    /// A decoder at the start of a body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `bytes`, appending the payload of every event they complete to `out`.
    #[cfg(test)]
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) -> Result<(), SseError> {
        self.feed_with(bytes, |payload| {
            out.push(payload.to_owned());
            Ok::<_, SseError>(Flow::Continue)
        })
        .map(|_| ())
    }

    /// Decodes `bytes`, calling `on_event` with the payload of every event
    /// they complete, in order, until it says [`Flow::Stop`].
    ///
    /// The hot path of a stream: an event whose lines all lie in `bytes`
    /// (as nearly every SGLang and vLLM event does) is handed over as a
    /// slice of `bytes`, without being copied.
    pub fn feed_with<E: From<SseError>>(
        &mut self,
        bytes: &[u8],
        mut on_event: impl FnMut(&str) -> Result<Flow, E>,
    ) -> Result<Flow, E> {
        let mut rest = bytes;
        if self.after_cr {
            self.after_cr = false;
            if let Some(b'\n') = rest.first() {
                rest = &rest[1..];
            }
        }
        // The event's only `data` line so far, still in `bytes`.
        let mut borrowed: Option<&str> = None;
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', rest) {
            let (head, tail) = rest.split_at(pos);
            rest = &tail[1..];
            if tail[0] == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let flow = if self.line.is_empty() {
                let line = utf8(check_len(head)?)?;
                self.end_line(line, Some(line), &mut borrowed, &mut on_event)?
            } else {
                self.push_bytes(head)?;
                let owned = std::mem::take(&mut self.line);
                let line = utf8(&owned)?;
                let flow = self.end_line(line, None, &mut borrowed, &mut on_event)?;
                self.line = owned;
                self.line.clear();
                flow
            };
            if flow == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        if let Some(value) = borrowed {
            self.data = Some(value.to_owned());
        }
        self.push_bytes(rest)?;
        Ok(Flow::Continue)
    }

    /// True when an event or a line was started but not completed.
    #[cfg(test)]
    pub fn has_partial(&self) -> bool {
        !self.line.is_empty() || self.data.is_some()
    }

    /// At end of body: the pending event, if its last line was complete but
    /// the blank line that ends it never came (some servers omit it last).
    pub fn finish(&mut self) -> Result<Option<String>, SseError> {
        if !self.line.is_empty() {
            let owned = std::mem::take(&mut self.line);
            let line = utf8(&owned)?;
            let mut borrowed = None;
            self.end_line(line, None, &mut borrowed, &mut |_| {
                Ok::<_, SseError>(Flow::Continue)
            })?;
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

    /// One complete `line`; `in_input` is the same line when it lies in
    /// the caller's input (so its value may be borrowed until the event ends).
    fn end_line<'b, E>(
        &mut self,
        line: &str,
        in_input: Option<&'b str>,
        borrowed: &mut Option<&'b str>,
        on_event: &mut impl FnMut(&str) -> Result<Flow, E>,
    ) -> Result<Flow, E> {
        if line.is_empty() {
            if let Some(value) = borrowed.take() {
                return on_event(value);
            }
            if let Some(data) = self.data.take() {
                return on_event(&data);
            }
            return Ok(Flow::Continue);
        }
        if line.starts_with(':') {
            return Ok(Flow::Continue);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        if field != "data" {
            return Ok(Flow::Continue);
        }
        if let (Some(whole), None, None) = (in_input, &*borrowed, &self.data) {
            // The event's first data line, in the input: borrow it.
            *borrowed = Some(&whole[whole.len() - value.len()..]);
            return Ok(Flow::Continue);
        }
        match (borrowed.take(), &mut self.data) {
            (Some(first), _) => {
                let mut data = String::with_capacity(first.len() + 1 + value.len());
                data.push_str(first);
                data.push('\n');
                data.push_str(value);
                self.data = Some(data);
            }
            (None, Some(data)) => {
                data.push('\n');
                data.push_str(value);
            }
            (None, None) => self.data = Some(value.to_owned()),
        }
        Ok(Flow::Continue)
    }
}

fn check_len(bytes: &[u8]) -> Result<&[u8], SseError> {
    if bytes.len() > SseDecoder::MAX_LINE {
        return Err(SseError::LineTooLong(SseDecoder::MAX_LINE));
    }
    Ok(bytes)
}

fn utf8(bytes: &[u8]) -> Result<&str, SseError> {
    std::str::from_utf8(bytes).map_err(|_| {
        SseError::NotUtf8(String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned())
    })
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
    fn events_are_the_same_whatever_the_tcp_boundaries() {
        let cases: [(&[u8], &[&str]); 2] = [
            // Events split by \n, \r\n and \r; comments and other fields skipped.
            (
                b"data: {\"a\":1}\n\ndata: {\"b\":2}\r\n\r\n: keep-alive\n\nevent: x\ndata: [DONE]\r\r",
                &["{\"a\":1}", "{\"b\":2}", "[DONE]"],
            ),
            // Multi-line data joined with \n; a missing space after the colon kept.
            (
                b"data:x\ndata: y\n\ndata:\ndata: z\n\ndata: a\r\nid: 1\r\ndata: b\r\n\r\n",
                &["x\ny", "\nz", "a\nb"],
            ),
        ];
        for (input, want) in cases {
            for piece in 1..input.len() {
                assert_eq!(decode_in_pieces(input, piece), want, "piece size {piece}");
            }
        }
    }

    #[test]
    fn feed_with_stops_when_asked() {
        let mut d = SseDecoder::new();
        let mut seen = Vec::new();
        let flow = d
            .feed_with(b"data: 1\n\ndata: [DONE]\n\ndata: 2\n\n", |p| {
                seen.push(p.to_owned());
                Ok::<_, SseError>(if p == "[DONE]" {
                    Flow::Stop
                } else {
                    Flow::Continue
                })
            })
            .unwrap();
        assert_eq!(
            (flow, seen),
            (Flow::Stop, vec!["1".to_owned(), "[DONE]".to_owned()])
        );
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
