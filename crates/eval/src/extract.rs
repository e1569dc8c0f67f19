//! Final-channel extraction and markdown-bold removal (`extract_final_section`,
//! `strip_markdown_bold` of the official scorer; patterns in [`crate::patterns`]).

use std::borrow::Cow;

use memchr::memmem;

use crate::pychars::strip;

const FINAL_HEADER: &[u8] = b"<|channel|>final";
const MESSAGE: &[u8] = b"<|message|>";
const RETURN: &[u8] = b"<|return|>";

/// The official `FINAL_SECTION` pattern: the text of the first final message, stripped,
/// or the whole (stripped) text when there is none.
///
/// Equivalence with the regex: `[^<]*` cannot cross `<`, so after a `<|channel|>final`
/// the only place `<|message|>` can start is the first `<`; the search takes the
/// leftmost header for which that holds. The lazy `(.*?)` stops at the first
/// `<|return|>`, else at `$`, which for stripped text (never ending in `\n`) is the end.
pub fn final_section(text: &str) -> &str {
    let text = strip(text);
    final_capture(text).map_or(text, strip)
}

/// The regex's group 1 in a stripped `text` (`re.search`), before `.strip()`.
pub(crate) fn final_capture(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    for header in memmem::find_iter(bytes, FINAL_HEADER) {
        let after = header + FINAL_HEADER.len();
        // No '<' after this header means none after any later header either.
        let lt = memchr::memchr(b'<', &bytes[after..])?;
        let message = after + lt;
        if bytes[message..].starts_with(MESSAGE) {
            let start = message + MESSAGE.len();
            let end = memmem::find(&bytes[start..], RETURN).map_or(bytes.len(), |i| start + i);
            return Some(&text[start..end]);
        }
    }
    None
}

/// [`crate::patterns::MARKDOWN_BOLD`]: `**x**` becomes `x` (x: one or more non-`*`),
/// scanning left to right as `re.sub` does.
pub fn strip_markdown_bold(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(off) = memmem::find(&bytes[from..], b"**") {
        let open = from + off;
        let inner = open + 2;
        let run = memchr::memchr(b'*', &bytes[inner..]).unwrap_or(bytes.len() - inner);
        let close = inner + run;
        if run > 0 && bytes[close..].starts_with(b"**") {
            out.push_str(&text[copied..open]);
            out.push_str(&text[inner..close]);
            copied = close + 2;
            from = close + 2;
        } else {
            from = open + 1;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_section_cases() {
        let t = "<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>final<|message|> B <|return|>";
        assert_eq!(final_section(t), "B");
        // Junk between `final` and <|message|> is tolerated; a '<' that is not <|message|> is not.
        assert_eq!(final_section("<|channel|>final 明<|message|>x"), "x");
        assert_eq!(
            final_section("<|channel|>final<x><|message|>y"),
            "<|channel|>final<x><|message|>y"
        );
        // The first usable header wins; the capture stops at the first <|return|>.
        assert_eq!(
            final_section("<|channel|>final<|message|>a<|return|>b<|channel|>final<|message|>c"),
            "a"
        );
        assert_eq!(final_section("  no header  "), "no header");
        assert_eq!(final_section(" \n "), "");
    }

    #[test]
    fn bold() {
        assert_eq!(strip_markdown_bold("**A**"), "A");
        assert_eq!(strip_markdown_bold("***A**"), "*A");
        assert_eq!(strip_markdown_bold("****"), "****");
        assert_eq!(strip_markdown_bold("**a\nb** and **c**"), "a\nb and c");
        assert_eq!(strip_markdown_bold("**x*y**"), "**x*y**");
    }
}
