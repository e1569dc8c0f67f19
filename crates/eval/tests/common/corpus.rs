//! The corpus of realistic gpt-oss completions, each with the verdict the official
//! scorer's rules give it (upstream-gptoss.md §6.2–6.3; worked out by hand from
//! those rules, the reasoning in `why`), and the code-extraction cases.

pub struct Case {
    pub dataset: &'static str,
    pub analysis: &'static str,
    pub final_text: Option<&'static str>,
    pub returned: bool,
    pub ground_truth: &'static str,
    /// `extracted_answer` (None: "No answer extracted from model output").
    pub extracted: Option<&'static str>,
    pub correct: bool,
    pub why: &'static str,
}

pub const fn case(
    dataset: &'static str,
    analysis: &'static str,
    final_text: Option<&'static str>,
    ground_truth: &'static str,
    extracted: Option<&'static str>,
    correct: bool,
    why: &'static str,
) -> Case {
    Case {
        dataset,
        analysis,
        final_text,
        returned: true,
        ground_truth,
        extracted,
        correct,
        why,
    }
}

pub const G: &str = "gpqa_diamond";
pub const A: &str = "aime25";
pub const THINK: &str =
    "We need to compare the options. Option B ignores the solvent; option C fits the NMR data.";

pub const CASES: &[Case] = &[
    case(G, THINK, Some("**C**"), "C", Some("C"), true, "bold stripped, P1 takes the lone letter"),
    case(G, THINK, Some("C"), "c", Some("C"), true, "ground truth upper-cased before comparing"),
    case(G, THINK, Some("a) The reaction is SN2."), "A", Some("A"), true, "P1: lowercase letter followed by a non-letter, upper-cased"),
    case(G, THINK, Some("A catalyst is needed, so the answer is C."), "C", Some("A"), false, "P1 quirk: a final answer starting with the word 'A'"),
    case(G, THINK, Some("Answer: D"), "D", Some("D"), true, "P1 fails ('A' followed by 'n'), P2 takes D"),
    case(G, THINK, Some("The answer is (B)."), "B", None, false, "P1 sees 'T'; P2/P3 need the letter right after 'answer' (spaces, ':' and '(' only)"),
    case(G, THINK, Some("So the ANſWER: C"), "C", Some("C"), true, "re.I lets long s match 's' in P2"),
    case(G, THINK, Some("Answer: B2"), "B", Some("B"), true, "P2 needs \\b after the letter; P3 only a non-letter"),
    case(G, THINK, Some("So answer: A. Checking again, answer: B"), "A", Some("A"), true, "P2 takes the first match in the final section"),
    case(G, "Answer: A at first. After more work, the Final answer: B", Some("I am confident in this one."), "B", Some("B"), true, "P1 sees 'I'; P2 has no answer; P3 takes the last match in the full text, analysis included"),
    case(G, "Careful elimination leaves one. FINAL ANSWER: (c)", None, "C", Some("C"), true, "no final channel: the whole text is used; P1 sees 'channel', P3 finds (c)"),
    case(G, THINK, Some("['B']"), "B", Some("B"), true, "list-artifact brackets removed"),
    case(G, THINK, Some("答案：B"), "B", Some("B"), true, "non-ASCII before the letter is skipped by [^a-zA-Z]*"),
    case(G, THINK, Some("Ответ: Б"), "B", None, false, "Cyrillic Б is not a letter of [A-D]"),
    case(G, THINK, Some("E"), "E", None, false, "E is outside A-D for GPQA"),
    case(G, THINK, Some("B"), "C", Some("B"), false, "extracted but wrong"),
    case(G, "", Some(""), "A", None, false, "empty analysis and final: nothing to parse"),
    case(A, "Summing the cases gives 70.", Some("The total is \\boxed{70}."), "70", Some("70"), true, "boxed integer"),
    case(A, "A first try gave \\boxed{12}.", Some("Answer: 70"), "70", Some("12"), false, "AIME reads the full text; a boxed answer beats 'Answer:'"),
    case(A, "Checking.", Some("\\boxed{ 033 }"), "33", Some("33"), true, "spaces inside the box, int() drops the leading zero"),
    case(A, "Checking.", Some("Answer: 070"), "70", Some("70"), true, "Answer: with a leading zero"),
    case(A, "Checking.", Some("Answer: 1000"), "1000", None, false, "only 0..=999 is an AIME answer"),
    case(A, "Checking.", Some("\\boxed{33.5}"), "33", None, false, "a decimal is not boxed digits, and there is no Answer:"),
    case(A, "Checking.", Some("answer: 5."), "5", None, false, "the lookahead (?!\\.) rejects a digit run followed by '.'"),
    case(A, "Checking.", Some("Answer: ٧٠"), "70", Some("70"), true, "\\d and int() accept Arabic-Indic digits"),
    case(A, "Checking.", Some("\\boxed{\\frac{1}{2}}"), "0", None, false, "a fraction is not digits"),
    case(A, "So far the sum is 204, hence Answer: 204", None, "204", Some("204"), true, "no final channel (truncated): the full text still counts"),
    case(A, "Checking.", Some("Answer: 70"), "seventy", Some("70"), false, "int() of the ground truth fails: wrong, not an error"),
];

/// (analysis, final, `<|return|>` present, expected code, why)
pub type CodeCase = (
    &'static str,
    Option<&'static str>,
    bool,
    Option<&'static str>,
    &'static str,
);

/// LiveCodeBench code extraction (`parse_code`, upstream-gptoss.md §6.3): which code
/// the official scorer would run, worked out from its rules.
pub const CODE_CASES: &[CodeCase] = &[
    (
        "Plan the loop.",
        Some("```python\nprint(1)\n```"),
        true,
        Some("print(1)"),
        "python fence in final",
    ),
    (
        "Plan.",
        Some("Here:\n```\nprint(2)\n```"),
        true,
        Some("print(2)"),
        "plain fence in final",
    ),
    (
        "Plan.",
        Some("```py\nx = 1\n```"),
        true,
        Some("x = 1"),
        "plain fence, 'py' tag removed",
    ),
    (
        "```python\nsolve()\n```",
        Some("See the code above."),
        true,
        Some("solve()"),
        "code only in analysis: full-text fallback",
    ),
    (
        "Plan.",
        Some("```python\na()\n```\nor\n```python\nb()\n```"),
        true,
        Some("b()"),
        "last python block",
    ),
    (
        "```python\nfrom_analysis()\n```",
        Some("```\nfrom_final()\n```"),
        true,
        Some("from_final()"),
        "final section first, plain fence there beats python in analysis",
    ),
    (
        "```python\nA()\n```",
        Some("```python\npartial("),
        false,
        Some("A()"),
        "unclosed fence in a truncated final: analysis block",
    ),
    (
        "Only words, no code.",
        None,
        false,
        None,
        "no code anywhere",
    ),
    ("", Some(""), true, None, "empty output"),
    (
        "Plan.",
        Some("```python\nprint('é — ünïcode')\n```"),
        true,
        Some("print('é — ünïcode')"),
        "non-ASCII code",
    ),
];
