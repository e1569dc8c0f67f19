//! CPython as the oracle for the Python behaviour the scorer reimplements: every
//! official `re` pattern (from `eval::patterns`, with its flags and the call that
//! applies it), `str.strip()` and `bytes.fromhex`, over the corpus and generated
//! strings that probe Unicode classes and case folding. One python3 process
//! answers the whole batch (`tests/py/python_oracle.py`, JSON in and out). A
//! disagreement is a bug in the Rust side.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use eval::__private::{apply, fromhex, strip, Applied, Call, PATTERNS};
use serde_json::{json, Value};

/// Sends `request` to `tests/py/python_oracle.py` and returns its answer.
fn python(request: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/python_oracle.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (it is required for LiveCodeBench too)");
    let mut stdin = child.stdin.take().unwrap();
    let body = serde_json::to_vec(request).unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{} failed", script.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Pieces the generated subjects are made of: the patterns' keywords and
/// punctuation, Python's odd whitespace, letters that `re.IGNORECASE` folds onto
/// ASCII (`ſ`, `ı`, `İ`, Kelvin), letters that look alike but do not fold, digits
/// of other scripts, numerics that are not decimal, combining marks, markers.
const PIECES: &[&str] = &[
    "Answer",
    "ANSWER",
    "answer",
    "aNsWeR",
    "FINAL",
    "Final ",
    "final",
    "FINAL ANSWER",
    "FinalAnswer",
    "Answers",
    "xAnswer",
    "ANſWER",
    "anſwer",
    "ANSWER",
    ":",
    ".",
    "=",
    "(",
    ")",
    "[",
    "]",
    "['",
    "']",
    "[\"",
    "\"]",
    "\\n",
    "\\'",
    "*",
    "**",
    "***",
    "A",
    "B",
    "C",
    "D",
    "E",
    "J",
    "K",
    "a",
    "b",
    "c",
    "d",
    "j",
    "k",
    "z",
    "ı",
    "İ",
    "ſ",
    "\u{212a}",
    "\u{212b}",
    "é",
    "Б",
    "Ａ",
    "ß",
    "ǅ",
    "ﬀ",
    "µ",
    "0",
    "7",
    "12",
    "070",
    "999",
    "1000",
    "٧٠",
    "۵",
    "९",
    "𝟗",
    "１",
    "²",
    "⑦",
    "½",
    "_",
    "-",
    "+",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\u{b}",
    "\u{c}",
    "\u{1c}",
    "\u{1f}",
    "\u{85}",
    "\u{a0}",
    "\u{1680}",
    "\u{2003}",
    "\u{2028}",
    "\u{2029}",
    "\u{202f}",
    "\u{3000}",
    "\u{200b}",
    "\u{feff}",
    "\u{301}",
    "\u{308}",
    "\u{20e3}",
    "中",
    "答案：",
    "\\boxed{",
    "\\boxed{ ",
    "}",
    "{",
    "\\",
    "```",
    "```python",
    "```py",
    "python",
    "Python",
    "PY",
    "py",
    "\n```",
    "<|channel|>final",
    "\\boxed{12}",
    "\\boxed{ ٣٤ }",
    "\\boxed{𝟗}",
    "Answer: 12",
    "answer:\u{2003}٧٠",
    "Answer: 5.",
    "Answer:7x",
    "```python\nx = 1\n```",
    "```python```",
    "**C**",
    "**Answer: b**",
    "python\n",
    "Py \n",
    "PY\t\n",
    "<|channel|>final<|message|>",
    "<|channel|>final 明<|message|>",
    "<|channel|>analysis",
    "<|message|>",
    "<|return|>",
    "<|end|>",
    "<|start|>assistant",
    "<",
    "|",
    "x",
    "word",
    "€",
];

/// A deterministic stream of subjects: concatenations of 1 to 10 pieces.
fn generated(count: usize) -> Vec<String> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let n = 1 + (next() % 10) as usize;
            (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect()
        })
        .collect()
}

/// Long subjects, where a scan that stops early or restarts wrongly would show.
fn long() -> Vec<String> {
    vec![
        format!("{}Answer: B", " ".repeat(5000)),
        format!("Answer:{}C x", "\u{2003}".repeat(3000)),
        format!("\\boxed{{{}}}", "٣".repeat(4000)),
        format!("Answer: {}", "9".repeat(5000)),
        "ab".repeat(10_000),
        "**x**".repeat(2000),
        format!("```python{}```", "\n".repeat(3000)),
        format!("{}FINAL   ANSWER = ( d ) .", "answer ".repeat(2000)),
        format!(
            "<|channel|>final{}<|message|>B<|return|>",
            "\u{301}".repeat(3000)
        ),
    ]
}

/// Every subject: the corpus' decoded completions, their parts, generated strings.
fn subjects() -> Vec<String> {
    let mut all = Vec::new();
    for c in common::corpus::CASES {
        let ids = testkit::completion(c.analysis, c.final_text, c.returned);
        all.push(harmony::decode(&ids).unwrap());
        all.push(c.analysis.to_string());
        all.extend(c.final_text.map(str::to_string));
    }
    for (analysis, final_text, returned, _, _) in common::corpus::CODE_CASES {
        let ids = testkit::completion(analysis, *final_text, *returned);
        all.push(harmony::decode(&ids).unwrap());
        all.extend(final_text.map(str::to_string));
    }
    all.extend(generated(4000));
    all.extend(long());
    all
}

fn call_name(call: Call) -> String {
    match call {
        Call::Match => "match".into(),
        Call::Search => "search".into(),
        Call::LastOf => "last".into(),
        Call::Sub(repl) => format!("sub:{repl}"),
    }
}

fn as_json(applied: &Applied) -> Value {
    match applied {
        Applied::NoMatch => Value::Null,
        Applied::Group { start, text } => json!([start, text]),
        Applied::Replaced(text) => json!(text),
    }
}

/// Shows a subject short enough to read in a failure message.
fn shown(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 120 {
        return format!("{s:?}");
    }
    let head: String = chars[..60].iter().collect();
    let tail: String = chars[chars.len() - 40..].iter().collect();
    format!("{head:?} … ({} chars) … {tail:?}", chars.len())
}

#[test]
fn regex_matchers_and_strip_agree_with_python() {
    let subjects = subjects();
    let mut items = Vec::new();
    let mut ours = Vec::new();
    for pattern in PATTERNS {
        let lasts: &[char] = if pattern.python.contains("{M}") {
            &['D', 'J']
        } else {
            &['D']
        };
        for &last in lasts {
            let python = pattern.python.replace("{M}", &last.to_string());
            for subject in &subjects {
                // The official code strips before searching for the final section.
                let subject = match pattern.name {
                    "FINAL_SECTION" => strip(subject),
                    _ => subject.as_str(),
                };
                let applied = apply(pattern, last, subject)
                    .unwrap_or_else(|| panic!("no matcher for {}", pattern.name));
                items.push(json!([
                    python,
                    pattern.flags,
                    call_name(pattern.call),
                    subject
                ]));
                ours.push((pattern.name, last, subject.to_string(), as_json(&applied)));
            }
        }
    }
    let answer = python(&json!({ "re": items, "strip": subjects }));
    let (py_re, py_strip) = (
        answer["re"].as_array().unwrap(),
        answer["strip"].as_array().unwrap(),
    );
    assert_eq!(
        (py_re.len(), py_strip.len()),
        (ours.len(), subjects.len()),
        "one answer per question"
    );

    let mut disagreements = Vec::new();
    let mut matched = std::collections::BTreeMap::<&str, usize>::new();
    for ((name, last, subject, rust), py) in ours.iter().zip(py_re) {
        let changed = py.as_str().is_some_and(|replaced| replaced != subject);
        if (py.is_array() || changed) && rust == py {
            *matched.entry(name).or_default() += 1;
        }
        if rust != py {
            disagreements.push(format!(
                "{name} (M={last}) on {}: Rust {rust}, Python {py}",
                shown(subject)
            ));
        }
    }
    for (subject, py) in subjects.iter().zip(py_strip) {
        if strip(subject) != py.as_str().unwrap() {
            disagreements.push(format!("str.strip() of {}: Python {py}", shown(subject)));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements with CPython's re:\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(40)].join("\n")
    );
    let thin: Vec<&str> = PATTERNS
        .iter()
        .map(|p| p.name)
        .filter(|name| matched.get(name).copied().unwrap_or(0) < 50)
        .collect();
    assert!(
        thin.is_empty(),
        "too few matches to compare for {thin:?}: {matched:?}"
    );
}

#[test]
fn fromhex_agrees_with_python() {
    let mut inputs: Vec<String> = [
        "",
        "0a0B ff\n00",
        "0A000000",
        " 0a 00 00 00\n",
        "0A0000",
        "0a\u{b}0b",
        "0a0",
        "0 a",
        "0 A",
        "zz",
        "0G",
        "ABC",
        "a",
        "  ",
        "0a  ",
        "  0a",
        "0a\u{1c}0b",
        "0a\u{85}0b",
        "0a\u{a0}0b",
        "\u{3000}0a",
        "é0",
        "0aé",
        "0 é",
        "zzé",
        "0a\u{0}0b",
        "0x0a",
        "+0a",
        "0a,0b",
        "0 a0b",
        "fF Ff",
        "0a\t\n\u{b}\u{c}\r 0b",
    ]
    .map(String::from)
    .to_vec();
    // Every ASCII whitespace character between two bytes, before and inside a pair.
    for c in (0u8..0x80)
        .map(char::from)
        .filter(|c| c.is_ascii_whitespace() || c.is_ascii_control() || *c == ' ')
    {
        inputs.push(format!("0a{c}0b"));
        inputs.push(format!("{c}0a"));
        inputs.push(format!("0{c}a"));
    }
    let answer = python(&json!({ "fromhex": inputs }));
    let py_answers = answer["fromhex"].as_array().unwrap();
    assert_eq!(py_answers.len(), inputs.len(), "one answer per input");
    for (input, py) in inputs.iter().zip(py_answers) {
        let ours = match fromhex(input) {
            Ok(bytes) => json!([
                bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                null
            ]),
            Err(e) => json!([null, e.to_string()]),
        };
        assert_eq!(&ours, py, "bytes.fromhex({input:?})");
    }
}
