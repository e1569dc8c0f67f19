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

/// One pattern of the official scorer.
pub struct Pattern {
    /// The Python pattern text (raw string contents).
    pub python: &'static str,
    /// Python `re` flags it is compiled with.
    pub flags: &'static str,
    /// Which call uses it, and how its matches are used.
    pub origin: &'static str,
    /// The Rust function that implements it.
    pub matcher: &'static str,
}

pub const FINAL_SECTION: Pattern = Pattern {
    python: r"<\|channel\|>final[^<]*<\|message\|>(.*?)(?:<\|return\|>|$)",
    flags: "re.DOTALL",
    origin: "extract_final_section: re.search, group(1).strip(); no match returns the whole text",
    matcher: "extract::final_section",
};

pub const MARKDOWN_BOLD: Pattern = Pattern {
    python: r"\*\*([^*]+)\*\*",
    flags: "",
    origin: r"strip_markdown_bold: re.sub(..., r'\1', text)",
    matcher: "extract::strip_markdown_bold",
};

pub const CHOICE_LEADING_LETTER: Pattern = Pattern {
    python: r"^[^a-zA-Z]*([A-{M}])(?:[^a-zA-Z]|$)",
    flags: "re.IGNORECASE",
    origin: "parse_multiple_choice priority 1: re.match on final_section.strip()",
    matcher: "choice::leading_letter",
};

pub const CHOICE_ANSWER_IN_FINAL: Pattern = Pattern {
    python: r"\b(?:Answer|ANSWER)\s*[:.]?\s*([A-{M}])\b",
    flags: "re.IGNORECASE",
    origin: "parse_multiple_choice priority 2: re.search (first match) on the final section",
    matcher: "choice::answer_in_final",
};

pub const CHOICE_ANSWER_IN_TEXT: Pattern = Pattern {
    python: r"\b(?:ANSWER|FINAL\s*ANSWER)\b\s*[:=]?\s*(?:\(?\s*([A-{M}])\s*\)?)(?:\s*$|[^A-Za-z])",
    flags: "re.IGNORECASE",
    origin: "parse_multiple_choice priority 3: re.finditer on the full text, last match",
    matcher: "choice::answer_in_text",
};

pub const CHOICE_STANDALONE_LETTER: Pattern = Pattern {
    python: r"\b([A-{M}])\b",
    flags: "re.IGNORECASE",
    origin: "parse_multiple_choice, only when M == 'J' (MMLU): re.finditer on the final section, last match",
    matcher: "choice::standalone_letter",
};

pub const AIME_BOXED: Pattern = Pattern {
    python: r"\\boxed{\s*(\d+)\s*}",
    flags: "",
    origin: "parse_aime_answer priority 1: re.finditer on the full text, last match",
    matcher: "aime::last_boxed",
};

pub const AIME_ANSWER: Pattern = Pattern {
    python: r"Answer:\s*(\d+)(?!\.)\b",
    flags: "re.IGNORECASE | re.MULTILINE",
    origin: "parse_aime_answer priority 2: re.finditer on the full text, last match",
    matcher: "aime::last_answer",
};

pub const CODE_PYTHON_FENCE: Pattern = Pattern {
    python: r"```python(.*?)```",
    flags: "re.DOTALL",
    origin: "parse_code: re.finditer, last match, group(1).strip(); on the final section, then the full text",
    matcher: "code::last_fence",
};

pub const CODE_PLAIN_FENCE: Pattern = Pattern {
    python: r"```(.*?)```",
    flags: "re.DOTALL",
    origin: "parse_code: re.finditer, last match, group(1).strip(), then CODE_LANGUAGE_TAG removed",
    matcher: "code::last_fence",
};

pub const CODE_LANGUAGE_TAG: Pattern = Pattern {
    python: r"^(?:python|py)\s*\n",
    flags: "re.IGNORECASE",
    origin: "parse_code: re.sub(..., '', code) on a plain fence's contents",
    matcher: "code::strip_language_tag",
};

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
