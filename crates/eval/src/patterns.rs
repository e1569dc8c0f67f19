//! The official scorer's regular expressions, carried as data.
//!
//! ======================== BENCHMARK DEFINITIONS (data) ========================
//! Every pattern below is the one in `language/gpt-oss-120b/eval_accuracy.py` of
//! mlcommons/inference (master `b66003e10e2d`, file last changed in `b84c0d08`),
//! the module `eval_mlperf_accuracy.py` imports; the function named in `origin`
//! is where it is used. `{M}` is the last option letter (`D` for GPQA, `J` for
//! MMLU). The `regex` crate has no lookaround and a different `\s`/`\w`/`\b`/
//! case folding, so each one is implemented by a hand-written matcher (named in
//! `matcher`) that follows Python `re` semantics exactly, including
//! backtracking; each matcher's doc comment says why its scan is equivalent.
//! ==============================================================================
//!
//! [`apply`] runs a pattern's matcher as its [`Call`] would, which is what
//! `tests/python_oracle.rs` compares with CPython's `re` on the same strings.

/// One pattern of the official scorer.
pub struct Pattern {
    /// The constant's name here, which [`apply`] dispatches on.
    pub name: &'static str,
    /// The Python pattern text (raw string contents).
    pub python: &'static str,
    /// Python `re` flags it is compiled with.
    pub flags: &'static str,
    /// The `re` call that applies it, which decides which match counts.
    pub call: Call,
    /// Which call uses it, and how its matches are used.
    pub origin: &'static str,
    /// The Rust function that implements it.
    pub matcher: &'static str,
}

/// The final channel's text.
pub const FINAL_SECTION: Pattern = Pattern {
    name: "FINAL_SECTION",
    call: Call::Search,
    python: r"<\|channel\|>final[^<]*<\|message\|>(.*?)(?:<\|return\|>|$)",
    flags: "re.DOTALL",
    origin: "extract_final_section: re.search, group(1).strip(); no match returns the whole text",
    matcher: "extract::final_section",
};

/// Markdown bold, removed before the choice patterns.
pub const MARKDOWN_BOLD: Pattern = Pattern {
    name: "MARKDOWN_BOLD",
    call: Call::Sub(r"\1"),
    python: r"\*\*([^*]+)\*\*",
    flags: "",
    origin: r"strip_markdown_bold: re.sub(..., r'\1', text)",
    matcher: "extract::strip_markdown_bold",
};

/// Multiple choice, priority 1: an option letter leading the final section.
pub const CHOICE_LEADING_LETTER: Pattern = Pattern {
    name: "CHOICE_LEADING_LETTER",
    call: Call::Match,
    python: r"^[^a-zA-Z]*([A-{M}])(?:[^a-zA-Z]|$)",
    flags: "re.IGNORECASE",
    origin: "parse_multiple_choice priority 1: re.match on final_section.strip()",
    matcher: "choice::leading_letter",
};

/// Multiple choice, priority 2: `Answer: X` in the final section.
pub const CHOICE_ANSWER_IN_FINAL: Pattern = Pattern {
    name: "CHOICE_ANSWER_IN_FINAL",
    call: Call::Search,
    python: r"\b(?:Answer|ANSWER)\s*[:.]?\s*([A-{M}])\b",
    flags: "re.IGNORECASE",
    origin: "parse_multiple_choice priority 2: re.search (first match) on the final section",
    matcher: "choice::answer_in_final",
};

/// Multiple choice, priority 3: `(FINAL) ANSWER: X` anywhere in the text.
pub const CHOICE_ANSWER_IN_TEXT: Pattern = Pattern {
    name: "CHOICE_ANSWER_IN_TEXT",
    call: Call::LastOf,
    python: r"\b(?:ANSWER|FINAL\s*ANSWER)\b\s*[:=]?\s*(?:\(?\s*([A-{M}])\s*\)?)(?:\s*$|[^A-Za-z])",
    flags: "re.IGNORECASE",
    origin: "parse_multiple_choice priority 3: re.finditer on the full text, last match",
    matcher: "choice::answer_in_text",
};

/// Multiple choice, MMLU's last resort: a lone option letter.
pub const CHOICE_STANDALONE_LETTER: Pattern = Pattern {
    name: "CHOICE_STANDALONE_LETTER",
    call: Call::LastOf,
    python: r"\b([A-{M}])\b",
    flags: "re.IGNORECASE",
    origin: "parse_multiple_choice, only when M == 'J' (MMLU): re.finditer on the final section, last match",
    matcher: "choice::standalone_letter",
};

/// AIME, priority 1: `\boxed{N}`.
pub const AIME_BOXED: Pattern = Pattern {
    name: "AIME_BOXED",
    call: Call::LastOf,
    python: r"\\boxed{\s*(\d+)\s*}",
    flags: "",
    origin: "parse_aime_answer priority 1: re.finditer on the full text, last match",
    matcher: "aime::last_boxed",
};

/// AIME, priority 2: `Answer: N`.
pub const AIME_ANSWER: Pattern = Pattern {
    name: "AIME_ANSWER",
    call: Call::LastOf,
    python: r"Answer:\s*(\d+)(?!\.)\b",
    flags: "re.IGNORECASE | re.MULTILINE",
    origin: "parse_aime_answer priority 2: re.finditer on the full text, last match",
    matcher: "aime::last_answer",
};

/// LiveCodeBench: a ```` ```python ```` fence.
pub const CODE_PYTHON_FENCE: Pattern = Pattern {
    name: "CODE_PYTHON_FENCE",
    call: Call::LastOf,
    python: r"```python(.*?)```",
    flags: "re.DOTALL",
    origin: "parse_code: re.finditer, last match, group(1).strip(); on the final section, then the full text",
    matcher: "code::last_fence",
};

/// LiveCodeBench: a plain ```` ``` ```` fence.
pub const CODE_PLAIN_FENCE: Pattern = Pattern {
    name: "CODE_PLAIN_FENCE",
    call: Call::LastOf,
    python: r"```(.*?)```",
    flags: "re.DOTALL",
    origin: "parse_code: re.finditer, last match, group(1).strip(), then CODE_LANGUAGE_TAG removed",
    matcher: "code::last_fence",
};

/// LiveCodeBench: the language tag at the start of a plain fence's code.
pub const CODE_LANGUAGE_TAG: Pattern = Pattern {
    name: "CODE_LANGUAGE_TAG",
    call: Call::Sub(""),
    python: r"^(?:python|py)\s*\n",
    flags: "re.IGNORECASE",
    origin: "parse_code: re.sub(..., '', code) on a plain fence's contents",
    matcher: "code::strip_language_tag",
};

/// How the official code applies a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `re.match`: the match anchored at the start.
    Match,
    /// `re.search`: the first match.
    Search,
    /// `re.finditer`, of which the last match is used.
    LastOf,
    /// `re.sub` with this replacement.
    Sub(&'static str),
}

/// What a matcher found, in the terms Python reports: group 1 and its start in
/// characters, or the text `re.sub` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The call found nothing.
    NoMatch,
    /// Group 1 of the match the call uses.
    Group {
        /// `m.start(1)`: an offset in characters, as Python counts.
        start: usize,
        /// `m.group(1)`.
        text: String,
    },
    /// The result of a [`Call::Sub`].
    Replaced(String),
}

/// Runs the Rust matcher of `pattern` (with `{M}` = `last`) on `subject` as its
/// [`Call`] would, so that it can be compared with Python's `re`. None for a
/// pattern without a matcher here. `FINAL_SECTION` expects a stripped subject,
/// as the official code strips before searching.
pub fn apply(pattern: &Pattern, last: char, subject: &str) -> Option<Applied> {
    use crate::{aime, choice, code, extract};
    let group = |found: Option<&str>| match found {
        None => Applied::NoMatch,
        Some(g) => {
            let at = g.as_ptr() as usize - subject.as_ptr() as usize;
            Applied::Group {
                start: subject[..at].chars().count(),
                text: g.to_string(),
            }
        }
    };
    let letter =
        |found: Option<(usize, char)>| group(found.map(|(at, c)| &subject[at..at + c.len_utf8()]));
    Some(match pattern.name {
        "FINAL_SECTION" => group(extract::final_capture(subject)),
        "MARKDOWN_BOLD" => Applied::Replaced(extract::strip_markdown_bold(subject).into_owned()),
        "CHOICE_LEADING_LETTER" => letter(choice::leading_letter(subject, last)),
        "CHOICE_ANSWER_IN_FINAL" => letter(choice::answer_in_final(subject, last)),
        "CHOICE_ANSWER_IN_TEXT" => letter(choice::answer_in_text(subject, last)),
        "CHOICE_STANDALONE_LETTER" => letter(choice::standalone_letter(subject, last)),
        "AIME_BOXED" => group(aime::last_boxed(subject)),
        "AIME_ANSWER" => group(aime::last_answer(subject)),
        "CODE_PYTHON_FENCE" => group(code::last_fence(subject, "```python")),
        "CODE_PLAIN_FENCE" => group(code::last_fence(subject, "```")),
        "CODE_LANGUAGE_TAG" => Applied::Replaced(code::strip_language_tag(subject).to_string()),
        _ => return None,
    })
}

/// All of them, for documentation and tests.
pub const ALL: [&Pattern; 11] = [
    &FINAL_SECTION,
    &MARKDOWN_BOLD,
    &CHOICE_LEADING_LETTER,
    &CHOICE_ANSWER_IN_FINAL,
    &CHOICE_ANSWER_IN_TEXT,
    &CHOICE_STANDALONE_LETTER,
    &AIME_BOXED,
    &AIME_ANSWER,
    &CODE_PYTHON_FENCE,
    &CODE_PLAIN_FENCE,
    &CODE_LANGUAGE_TAG,
];
