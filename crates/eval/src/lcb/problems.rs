//! LiveCodeBench problems from a local copy of Hugging Face
//! `livecodebench/code_generation_lite` (release_v6 = `test.jsonl` …
//! `test6.jsonl`), as the official `load_code_generation_dataset` reads them:
//! tests = public followed by private; `metadata.func_name` set means
//! call-based (LeetCode), otherwise stdin/stdout.
//!
//! Every line is checked when loading (the official loader fails on a bad
//! problem too), naming the file and line. To keep memory small (the private
//! tests of release_v6 are gigabytes once decompressed), problems keep their
//! tests as they are in the file (JSON text, or zlib-compressed) and
//! [`Problem::tests_json`] decodes them again for each run.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::encoding::{base64_decode, decode_compressed};
use crate::EvalError;

/// BENCHMARK DEFINITION (data): the files of `code_generation_lite` that make up
/// `version_tag="release_v6"`, the version the official scorer loads.
pub const RELEASE_V6_FILES: [&str; 6] = [
    "test.jsonl",
    "test2.jsonl",
    "test3.jsonl",
    "test4.jsonl",
    "test5.jsonl",
    "test6.jsonl",
];

/// One problem: what running a sample needs.
#[derive(Clone)]
pub struct Problem {
    /// The id the reference's `ground_truth` names.
    pub question_id: String,
    /// `metadata.func_name`: the method to call (call-based); None for stdin.
    pub fn_name: Option<String>,
    /// Public plus private tests.
    pub n_tests: usize,
    public: Box<str>,
    private: Private,
    /// Where the problem was read (for messages).
    pub file: PathBuf,
    /// The line of [`Problem::file`] (1-based).
    pub line: usize,
}

#[derive(Clone)]
enum Private {
    Json(Box<str>),
    /// base64-decoded, still zlib-compressed pickle of the JSON text.
    Compressed(Box<[u8]>),
}

impl fmt::Debug for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Problem")
            .field("question_id", &self.question_id)
            .field("fn_name", &self.fn_name)
            .field("n_tests", &self.n_tests)
            .field("file", &self.file)
            .field("line", &self.line)
            .finish()
    }
}

impl Problem {
    /// The JSON text of the public and of the private test lists (each a list of
    /// `{input, output, testtype}`).
    pub fn tests_json(&self) -> Result<(&str, std::borrow::Cow<'_, str>), EvalError> {
        let private = match &self.private {
            Private::Json(s) => std::borrow::Cow::Borrowed(&**s),
            Private::Compressed(z) => std::borrow::Cow::Owned(
                decode_compressed(z).map_err(|detail| self.error("private_test_cases", detail))?,
            ),
        };
        Ok((&self.public, private))
    }

    fn error(&self, field: &str, detail: String) -> EvalError {
        EvalError::LcbProblem {
            path: self.file.clone(),
            line: self.line,
            detail: format!("question_id '{}', '{field}': {detail}", self.question_id),
        }
    }
}

/// The problems by `question_id` (a later line with the same id replaces an
/// earlier one, as the official dict does).
#[derive(Debug, Default)]
pub struct LcbProblems {
    /// The `code_generation_lite` directory read.
    pub dir: PathBuf,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
    /// Expected files that were not there.
    pub missing: Vec<String>,
    /// Problems in the files (including those not kept).
    pub total: usize,
    problems: HashMap<String, Problem>,
}

impl LcbProblems {
    /// Reads every release_v6 file present in `dir`, keeping all problems.
    pub fn load(dir: &Path) -> Result<LcbProblems, EvalError> {
        Self::load_with(dir, None)
    }

    /// Reads and checks every problem, keeping only those in `keep` (None: all).
    pub fn load_with(dir: &Path, keep: Option<&HashSet<String>>) -> Result<LcbProblems, EvalError> {
        let mut files = Vec::new();
        let mut missing = Vec::new();
        for name in RELEASE_V6_FILES {
            let path = dir.join(name);
            if path.is_file() {
                files.push(path);
            } else {
                missing.push(name.to_string());
            }
        }
        if files.is_empty() {
            return Err(EvalError::LcbFiles {
                dir: dir.to_path_buf(),
                expected: RELEASE_V6_FILES.join(", "),
            });
        }
        let mut problems = HashMap::new();
        let mut total = 0;
        for path in &files {
            read_file(path, keep, &mut problems, &mut total)?;
        }
        Ok(LcbProblems {
            dir: dir.to_path_buf(),
            files,
            missing,
            total,
            problems,
        })
    }

    /// The problem with this id, as the official lookup finds it.
    pub fn get(&self, question_id: &str) -> Option<&Problem> {
        self.problems.get(question_id)
    }

    /// Problems kept.
    pub fn len(&self) -> usize {
        self.problems.len()
    }

    /// No problem was kept.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Lines are parsed in parallel, a batch at a time (lines can be megabytes).
const BATCH_BYTES: usize = 256 << 20;

fn read_file(
    path: &Path,
    keep: Option<&HashSet<String>>,
    problems: &mut HashMap<String, Problem>,
    total: &mut usize,
) -> Result<(), EvalError> {
    let io_error = |source| EvalError::Io {
        path: path.to_path_buf(),
        action: "reading LiveCodeBench problems",
        source,
    };
    let mut reader = std::io::BufReader::new(std::fs::File::open(path).map_err(io_error)?);
    let mut line_no = 0;
    loop {
        let mut batch: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut bytes = 0;
        while bytes < BATCH_BYTES {
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line).map_err(io_error)? == 0 {
                break;
            }
            line_no += 1;
            bytes += line.len();
            if !line.iter().all(u8::is_ascii_whitespace) {
                batch.push((line_no, line));
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let parsed: Vec<Problem> = batch
            .into_par_iter()
            .map(|(n, line)| parse_line(path, n, &line))
            .collect::<Result<_, _>>()?;
        *total += parsed.len();
        for p in parsed {
            if keep.is_none_or(|k| k.contains(&p.question_id)) {
                problems.insert(p.question_id.clone(), p);
            }
        }
    }
}

#[derive(Deserialize)]
struct Line {
    question_id: String,
    public_test_cases: String,
    private_test_cases: String,
    metadata: String,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    func_name: Option<String>,
}

/// A test as the official `Test` dataclass accepts it (only checked, not kept).
#[derive(Deserialize)]
#[allow(dead_code)]
struct TestCheck {
    input: AnyStr,
    output: AnyStr,
    testtype: TestType,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum TestType {
    Stdin,
    Functional,
}

/// A JSON string, checked without being copied.
struct AnyStr;

impl<'de> Deserialize<'de> for AnyStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AnyStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<AnyStr, E> {
                Ok(AnyStr)
            }
        }
        d.deserialize_str(V)
    }
}

/// A problem written in the program (its messages name `<built-in>`).
pub(crate) fn parse_builtin(line: &str) -> Result<Problem, EvalError> {
    parse_line(Path::new("<built-in>"), 1, line.as_bytes())
}

fn parse_line(path: &Path, line_no: usize, line: &[u8]) -> Result<Problem, EvalError> {
    let error = |detail: String| EvalError::LcbProblem {
        path: path.to_path_buf(),
        line: line_no,
        detail,
    };
    let raw: Line = serde_json::from_slice(line).map_err(|e| {
        error(format!(
            "not a code_generation_lite problem ({e}); each line must be a JSON object with \
             string fields question_id, public_test_cases, private_test_cases and metadata"
        ))
    })?;
    let field_error = |field: &str, detail: String| {
        error(format!(
            "question_id '{}', '{field}': {detail}",
            raw.question_id
        ))
    };
    let metadata: Metadata = serde_json::from_str(&raw.metadata)
        .map_err(|e| field_error("metadata", format!("not a JSON object: {e}")))?;
    let check = |text: &str| serde_json::from_str::<Vec<TestCheck>>(text).map(|v| v.len());
    let n_public = check(&raw.public_test_cases).map_err(|e| {
        field_error(
            "public_test_cases",
            format!("not a JSON list of {{input, output, testtype}}: {e}"),
        )
    })?;
    // Plain JSON, or else base64 → zlib → pickle → JSON (as officially: JSON first).
    let (private, n_private) = match check(&raw.private_test_cases) {
        Ok(n) => (Private::Json(raw.private_test_cases.into()), n),
        Err(json_error) => {
            let compressed = base64_decode(&raw.private_test_cases).map_err(|e| {
                field_error(
                    "private_test_cases",
                    format!("neither a JSON test list ({json_error}) nor base64 ({e})"),
                )
            })?;
            let text = decode_compressed(&compressed).map_err(|e| {
                field_error(
                    "private_test_cases",
                    format!("not JSON, and not base64 → zlib → pickle of a str: {e}"),
                )
            })?;
            let n = check(&text).map_err(|e| {
                field_error(
                    "private_test_cases",
                    format!("decoded, but not a JSON list of {{input, output, testtype}}: {e}"),
                )
            })?;
            (Private::Compressed(compressed.into()), n)
        }
    };
    Ok(Problem {
        question_id: raw.question_id,
        fn_name: metadata.func_name,
        n_tests: n_public + n_private,
        public: raw.public_test_cases.into(),
        private,
        file: path.to_path_buf(),
        line: line_no,
    })
}
