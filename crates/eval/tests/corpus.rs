//! A corpus of realistic gpt-oss completions, each with the verdict the official
//! scorer's rules give it (upstream-gptoss.md §6.2–6.3; worked out by hand from
//! those rules, the reasoning in `why`). Every case goes the whole way: ids →
//! LoadGen hex → decode → final channel → parser → grader.

mod common;

use std::path::Path;

use common::{completion, offline_log, reference};

struct Case {
    dataset: &'static str,
    analysis: &'static str,
    final_text: Option<&'static str>,
    returned: bool,
    ground_truth: &'static str,
    /// `extracted_answer` (None: "No answer extracted from model output").
    extracted: Option<&'static str>,
    correct: bool,
    why: &'static str,
}

const fn case(
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

const G: &str = "gpqa_diamond";
const A: &str = "aime25";
const THINK: &str =
    "We need to compare the options. Option B ignores the solvent; option C fits the NMR data.";

const CASES: &[Case] = &[
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

fn run(cases: &[Case], mutate: impl Fn(&Case, Vec<u32>) -> Vec<u32>) -> eval::Evaluation {
    let rows: Vec<(&str, &str)> = cases.iter().map(|c| (c.dataset, c.ground_truth)).collect();
    let table = reference(&rows);
    let entries: Vec<(usize, Vec<u32>)> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                i,
                mutate(c, completion(c.analysis, c.final_text, c.returned)),
            )
        })
        .collect();
    let log =
        eval::AccuracyLog::from_bytes(Path::new("corpus.json"), offline_log(&entries).into_bytes());
    let reference = eval::Reference::from_table(Path::new("corpus.parquet"), table).unwrap();
    eval::evaluate(&log, &reference, &eval::Options::default()).unwrap()
}

fn check(cases: &[Case], evaluation: &eval::Evaluation) {
    assert_eq!(evaluation.results.len(), cases.len());
    for r in &evaluation.results {
        let c = &cases[r.qsl_idx as usize];
        assert_eq!(
            r.verdict.extracted.as_deref(),
            c.extracted,
            "case {} ({}): extracted",
            r.qsl_idx,
            c.why
        );
        assert_eq!(
            r.verdict.is_correct, c.correct,
            "case {} ({})",
            r.qsl_idx, c.why
        );
        let details = match (c.extracted, c.correct) {
            (None, _) => "No answer extracted from model output".to_string(),
            (Some(_), true) => "Correct".to_string(),
            (Some(x), false) => format!(
                "Incorrect (extracted: {x}, ground_truth: {})",
                c.ground_truth
            ),
        };
        assert_eq!(r.verdict.details, details, "case {} ({})", r.qsl_idx, c.why);
    }
}

#[test]
fn corpus_verdicts() {
    check(CASES, &run(CASES, |_, ids| ids));
}

#[test]
fn missing_return_changes_nothing() {
    // Without <|return|> the final section runs to the end of the text: same verdicts.
    check(
        CASES,
        &run(CASES, |c, _| completion(c.analysis, c.final_text, false)),
    );
}

#[test]
fn junk_after_the_final_message_is_ignored() {
    // Text after <|return|> (a misbehaving server) is outside the final section; it
    // can only matter where P3 or AIME read the full text, so use cases that stop at P1.
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|c| c.dataset == G && c.final_text.is_some_and(|f| f.len() == 1))
        .collect();
    assert!(cases.len() >= 3);
    for c in cases {
        let mut ids = completion(c.analysis, c.final_text, true);
        ids.extend(common::ordinary(
            "<|channel|>final<|message|>D trailing junk",
        ));
        let text = harmony::decode(&ids).unwrap();
        let parsed = eval::parse_multiple_choice(&text, 'D');
        assert_eq!(parsed.as_deref(), c.extracted, "{}", c.why);
    }
}

#[test]
fn junk_between_final_and_message() {
    let text = "<|channel|>analysis<|message|>x<|end|><|start|>assistant<|channel|>final 明<|message|>B<|return|>";
    assert_eq!(eval::final_section(text), "B");
    assert_eq!(eval::parse_multiple_choice(text, 'D').as_deref(), Some("B"));
}

#[test]
fn empty_output_is_wrong_not_an_error() {
    let table = reference(&[(G, "A"), (A, "5")]);
    let log = eval::AccuracyLog::from_bytes(
        Path::new("empty.json"),
        offline_log(&[(0, vec![]), (1, vec![])]).into_bytes(),
    );
    let reference = eval::Reference::from_table(Path::new("r.parquet"), table).unwrap();
    let e = eval::evaluate(&log, &reference, &eval::Options::default()).unwrap();
    assert!(e.results.iter().all(|r| !r.verdict.is_correct
        && r.verdict.details == "No answer extracted from model output"
        && r.token_count == 0));
}

/// (analysis, final, `<|return|>` present, expected code, why)
type CodeCase = (
    &'static str,
    Option<&'static str>,
    bool,
    Option<&'static str>,
    &'static str,
);

/// LiveCodeBench code extraction (`parse_code`, upstream-gptoss.md §6.3): which code
/// the official scorer would run, worked out from its rules.
#[test]
fn code_extraction_corpus() {
    let cases: &[CodeCase] = &[
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
    for (analysis, final_text, returned, expected, why) in cases {
        let text = harmony::decode(&completion(analysis, *final_text, *returned)).unwrap();
        assert_eq!(eval::parse_code(&text).as_deref(), *expected, "{why}");
    }
    assert_eq!(eval::parse_code(""), None);
}
