//! LiveCodeBench code extraction: `parse_code` of the official scorer. (Running the
//! code against the tests: [`crate::lcb`].)

use memchr::memmem;

use crate::extract::final_section;
use crate::pychars::{is_space, literal_ci, strip};

/// The code the official scorer would run, or None ("No code extracted from model output").
pub fn parse_code(text: &str) -> Option<String> {
    let text = strip(text);
    if text.is_empty() {
        return None;
    }
    let fs = final_section(text);
    if fs != text {
        if let Some(code) = from_fences(fs) {
            return Some(code);
        }
    }
    from_fences(text)
}

fn from_fences(s: &str) -> Option<String> {
    if let Some(code) = last_fence(s, "```python") {
        return Some(strip(code).to_string());
    }
    last_fence(s, "```").map(|code| strip_language_tag(strip(code)).to_string())
}

/// [`crate::patterns::CODE_PYTHON_FENCE`] / [`crate::patterns::CODE_PLAIN_FENCE`]:
/// the contents of the last match of `open(.*?)```` (DOTALL), scanning like `finditer`
/// (each search resumes after the previous match's closing fence).
pub(crate) fn last_fence<'a>(s: &'a str, open: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    let mut from = 0;
    let mut found = None;
    while let Some(off) = memmem::find(&b[from..], open.as_bytes()) {
        let start = from + off + open.len();
        let Some(len) = memmem::find(&b[start..], b"```") else {
            // No closing fence after this opening, nor after any later one.
            break;
        };
        found = Some(&s[start..start + len]);
        from = start + len + 3;
    }
    found
}

/// [`crate::patterns::CODE_LANGUAGE_TAG`]: a leading `python` or `py` (any case),
/// then `\s*\n`; backtracking makes the match end at the last newline of the spaces.
pub(crate) fn strip_language_tag(code: &str) -> &str {
    for tag in ["python", "py"] {
        if let Some(end) = literal_ci(code, 0, tag) {
            let rest = &code[end..];
            let spaces = rest.len() - rest.trim_start_matches(is_space).len();
            if let Some(nl) = rest[..spaces].rfind('\n') {
                return &rest[nl + 1..];
            }
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences() {
        let t = "```python\na=1\n``` text ```py\nb=2\n```";
        assert_eq!(parse_code(t).as_deref(), Some("a=1"));
        assert_eq!(parse_code("```\nPy \n\n x=1\n```").as_deref(), Some(" x=1"));
        assert_eq!(parse_code("```python\nunclosed"), None);
        // A final section without code falls back to the analysis' code.
        let h = "<|channel|>analysis<|message|>```python\nx=3\n```<|end|><|start|>assistant<|channel|>final<|message|>done";
        assert_eq!(parse_code(h).as_deref(), Some("x=3"));
    }
}
