//! A corpus of realistic gpt-oss completions, each with the verdict the official
//! scorer's rules give it (upstream-gptoss.md §6.2–6.3; worked out by hand from
//! those rules, the reasoning in `why`). Every case goes the whole way: ids →
//! LoadGen hex → decode → final channel → parser → grader.

mod common;

use std::path::Path;

use common::corpus::{Case, A, CASES, CODE_CASES, G};
use testkit::{completion, offline_log, reference_table as reference};

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
        ids.extend(testkit::ordinary(
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

/// LiveCodeBench code extraction: [`CODE_CASES`].
#[test]
fn code_extraction_corpus() {
    for (analysis, final_text, returned, expected, why) in CODE_CASES {
        let text = harmony::decode(&completion(analysis, *final_text, *returned)).unwrap();
        assert_eq!(eval::parse_code(&text).as_deref(), *expected, "{why}");
    }
    assert_eq!(eval::parse_code(""), None);
}
