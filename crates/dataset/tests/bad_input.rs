//! Every kind of bad input gives an error that names the file (and row/column where it
//! applies) and says what to do. Nothing in a hostile pickle is ever executed.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use dataset::{prompt_tokens, read_table, write_table, Table, Value};

fn err_of(path: &Path) -> String {
    match read_table(path) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(e) => e.to_string(),
    }
}

fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Writes each `(file name, bytes)` into `dir` and checks that reading it fails with a
/// message holding every one of the expected parts.
fn assert_files_rejected(dir: &Path, cases: &[(&str, &[u8], &[&str])]) {
    for &(name, bytes, parts) in cases {
        assert_contains(&err_of(&write_bytes(dir, name, bytes)), parts);
    }
}

fn tokens_table(cells: Vec<Value>) -> Table {
    let mut t = Table::default();
    t.set_column("dataset", vec![Value::Str("aime25".into()); cells.len()]);
    t.set_column("input_tokens", cells);
    t
}

fn assert_contains(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "message {msg:?} should contain {p:?}");
    }
}

#[test]
fn missing_file() {
    let msg = err_of(Path::new("/no/such/dir/data.parquet"));
    assert_contains(
        &msg,
        &[
            "/no/such/dir/data.parquet",
            "file not found",
            "check the path",
        ],
    );
}

#[test]
fn unknown_extension_lists_supported_ones() {
    let msg = err_of(Path::new("data.csv"));
    assert_contains(
        &msg,
        &[
            "data.csv",
            "unknown file extension",
            ".pkl",
            ".pickle",
            ".parquet",
            ".jsonl",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let e = write_table(&dir.path().join("out.txt"), &tokens_table(vec![])).unwrap_err();
    assert_contains(&e.to_string(), &["out.txt", ".parquet"]);
}

#[test]
fn missing_token_column_lists_existing_columns() {
    let mut t = Table::default();
    t.set_column("question", vec![Value::Str("q".into())]);
    t.set_column("dataset", vec![Value::Str("aime".into())]);
    let e = prompt_tokens(&t, Path::new("data.parquet"))
        .unwrap_err()
        .to_string();
    assert_contains(
        &e,
        &[
            "data.parquet",
            "'tok_input' or 'input_tokens'",
            "'question', 'dataset'",
        ],
    );
}

/// Runs `prompt_tokens` over a table of `cells` read from `path`; its error message.
fn token_error(path: &str, cells: Vec<Value>) -> String {
    match prompt_tokens(&tokens_table(cells), Path::new(path)) {
        Ok(ids) => panic!("{path}: token cells accepted as {ids:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn token_id_outside_vocabulary() {
    let e = token_error(
        "data.parquet",
        vec![
            Value::Ints(vec![1, 2]),
            Value::Ints(vec![]),
            Value::Ints(vec![5]),
            Value::Ints(vec![200_005, 201_090]),
        ],
    );
    assert_eq!(
        e,
        "data.parquet: row 3, column 'input_tokens': token id 201090 is outside the vocabulary \
         (0..201088); re-tokenize this row with the o200k_harmony tokenizer"
    );
    let cases: [(Vec<Value>, &[&str]); 2] = [
        (
            vec![Value::Ints(vec![201_088])],
            &[
                "x.pkl: row 0, column 'input_tokens'",
                "token id 201088 is outside",
            ],
        ),
        (
            vec![Value::Ints(vec![0]), Value::Ints(vec![-1])],
            &["row 1", "token id -1 is outside"],
        ),
    ];
    for (cells, parts) in cases {
        assert_contains(&token_error("x.pkl", cells), parts);
    }
    // The last valid id is fine.
    let t = tokens_table(vec![Value::Ints(vec![0, 201_087])]);
    assert_eq!(
        prompt_tokens(&t, Path::new("x.pkl")).unwrap(),
        vec![vec![0, 201_087]]
    );
}

#[test]
fn null_and_wrongly_typed_token_cells() {
    let cases: [(Vec<Value>, &[&str]); 3] = [
        (
            vec![Value::Ints(vec![1]), Value::Null],
            &[
                "d.jsonl: row 1, column 'input_tokens'",
                "null",
                "re-tokenize",
            ],
        ),
        (
            vec![Value::Str("1 2 3".into())],
            &[
                "row 0, column 'input_tokens'",
                "expected a list of token ids, found a str",
            ],
        ),
        (
            vec![Value::List(vec![Value::Int(1), Value::Float(2.0)])],
            &["row 0", "holds a float"],
        ),
    ];
    for (cells, parts) in cases {
        assert_contains(&token_error("d.jsonl", cells), parts);
    }
}

#[test]
fn legacy_tok_input_is_taken_from_the_harmonized_pickle() {
    let path = harmony("dsr1_sample_harmonized_pandas2.pkl");
    let t = read_table(&path).unwrap();
    assert!(t.column("input_tokens").is_none());
    assert_eq!(prompt_tokens(&t, &path).unwrap().len(), 16);
}

#[test]
fn malicious_pickle_is_rejected_without_running_it() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let cmd = format!("touch {}", marker.display());
    // protocol 2: GLOBAL 'os system', then REDUCE on ("touch ...",)
    let mut os_system = b"\x80\x02cos\nsystem\nq\x00X".to_vec();
    os_system.extend((cmd.len() as u32).to_le_bytes());
    os_system.extend(cmd.as_bytes());
    os_system.extend(b"\x85R.");
    // protocol 4 STACK_GLOBAL builtins.eval, hidden inside a dict.
    let eval = b"\x80\x04}(\x8c\x01a\x8c\x08builtins\x8c\x04eval\x93\x8c\x041+1\x85Ru.";
    let cases: [(&str, &[u8], &[&str]); 2] = [
        (
            "evil.pkl",
            &os_system,
            &[
                "evil.pkl",
                "not a pandas DataFrame pickle: it calls os.system",
                "nothing in it was executed",
            ],
        ),
        (
            "evil2.pickle",
            eval,
            &["evil2.pickle", "it calls builtins.eval"],
        ),
    ];
    assert_files_rejected(dir.path(), &cases);
    assert!(!marker.exists());
}

#[test]
fn pickle_of_something_else_is_not_a_dataframe() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_bytes(dir.path(), "list.pkl", b"\x80\x04]\x94(K\x01K\x02e.");
    assert_contains(
        &err_of(&path),
        &["list.pkl", "not a pandas DataFrame pickle", "a list"],
    );
}

#[test]
fn truncated_pickle() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["dsr1_sample_pandas2.pkl", "dsr1_sample_pandas3.pkl"] {
        let bytes = std::fs::read(harmony(name)).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 1, 3, 0] {
            let path = write_bytes(dir.path(), "cut.pkl", &bytes[..cut]);
            let msg = err_of(&path);
            assert_contains(
                &msg,
                &[
                    "cut.pkl",
                    "truncated or corrupt",
                    "re-download or re-export",
                ],
            );
        }
    }
}

/// Writes a one-column pickle `name` whose row 1 holds the int 0x01234567, then puts
/// `replacement` where that int's BININT opcode stood: a real pandas frame around a
/// hand-made cell.
fn pickle_with_cell(dir: &Path, name: &str, replacement: &[u8]) -> PathBuf {
    let mut t = Table::default();
    t.set_column("x", vec![Value::Str("a".into()), Value::Int(0x0123_4567)]);
    let path = dir.join(name);
    write_table(&path, &t).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let needle = b"J\x67\x45\x23\x01";
    let at = bytes
        .windows(5)
        .position(|w| w == needle)
        .expect("int in pickle");
    let mut patched = bytes[..at].to_vec();
    patched.extend(replacement);
    patched.extend(&bytes[at + 5..]);
    std::fs::write(&path, patched).unwrap();
    path
}

#[test]
fn python_int_beyond_i64_names_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let two_to_64 = b"\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01";
    let path = pickle_with_cell(dir.path(), "big.pkl", two_to_64);
    let msg = err_of(&path);
    assert_contains(
        &msg,
        &["big.pkl", "row 1, column 'x'", "does not fit in 64 bits"],
    );
}

#[test]
fn corrupt_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(harmony("v4_acc_sample.parquet")).unwrap();
    // Garbage in the data pages, footer intact.
    let mut garbled = bytes.clone();
    for b in &mut garbled[8..bytes.len() / 2] {
        *b = 0xA5;
    }
    let cases: [(&str, &[u8], &[&str]); 3] = [
        (
            "half.parquet",
            &bytes[..bytes.len() / 2],
            &[
                "half.parquet",
                "cannot read the Parquet file",
                "re-download",
            ],
        ),
        (
            "text.parquet",
            b"dataset,question\naime,q\n",
            &["text.parquet", "cannot read the Parquet file"],
        ),
        (
            "garbled.parquet",
            &garbled,
            &["garbled.parquet", "cannot read the Parquet file"],
        ),
    ];
    assert_files_rejected(dir.path(), &cases);
}

#[test]
fn bad_json_line_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &[&str]); 3] = [
        (
            "bad.jsonl",
            b"{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3,,}\n",
            &[
                "bad.jsonl: line 3",
                "invalid JSON",
                "fix or remove that line",
            ],
        ),
        (
            "arr.jsonl",
            b"{\"a\": 1}\n[1, 2]\n",
            &["arr.jsonl: line 2", "expected a JSON object"],
        ),
        (
            "latin1.jsonl",
            b"{\"a\": 1}\n{\"a\": \"caf\xe9\"}\n",
            &["latin1.jsonl: line 2", "not valid UTF-8"],
        ),
    ];
    assert_files_rejected(dir.path(), &cases);
}

#[test]
fn ragged_jsonl_fills_missing_keys_with_null() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_bytes(
        dir.path(),
        "ragged.jsonl",
        b"{\"a\": 1, \"b\": [1, 2]}\n\n{\"c\": \"x\", \"a\": 2.5}\n{\"b\": []}\n",
    );
    let t = read_table(&path).unwrap();
    assert_eq!(t.column_names(), ["a", "b", "c"]);
    assert_eq!(
        t.column("a").unwrap().values,
        [Value::Int(1), Value::Float(2.5), Value::Null]
    );
    assert_eq!(
        t.column("b").unwrap().values,
        [Value::Ints(vec![1, 2]), Value::Null, Value::Ints(vec![])]
    );
    assert_eq!(
        t.column("c").unwrap().values,
        [Value::Null, Value::Str("x".into()), Value::Null]
    );
}

#[test]
fn failed_write_leaves_no_file_behind() {
    let mut t = Table::default();
    t.set_column("mixed", vec![Value::Ints(vec![1]), Value::Str("x".into())]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.parquet");
    let e = write_table(&path, &t).unwrap_err().to_string();
    assert_contains(&e, &["out.parquet", "row 1, column 'mixed'", "one type"]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let mut ragged = Table::default();
    ragged.set_column("a", vec![Value::Int(1)]);
    ragged.set_column("b", vec![]);
    let e = write_table(&dir.path().join("r.jsonl"), &ragged)
        .unwrap_err()
        .to_string();
    assert_contains(&e, &["r.jsonl", "column 'b' has 0 rows"]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn shared_reference_bomb_is_stopped() {
    // A DataFrame-shaped pickle is not even needed: a list of 2 refs to a list of 2 refs
    // ... 60 levels deep would expand to 2^60 values. Put it in an object cell.
    // memo slot 900000 is far from any key the writer uses (it writes no memo at all).
    let mut bomb = b"K\x00".to_vec();
    for _ in 0..60 {
        bomb.extend(b"r\xa0\xbb\x0d\x00"); // LONG_BINPUT 900000
        bomb.extend(b"0"); // POP
        bomb.extend(b"]("); // EMPTY_LIST MARK
        bomb.extend(b"j\xa0\xbb\x0d\x00j\xa0\xbb\x0d\x00"); // 2x LONG_BINGET 900000
        bomb.extend(b"e"); // APPENDS
    }
    let dir = tempfile::tempdir().unwrap();
    let path = pickle_with_cell(dir.path(), "bomb.pkl", &bomb);
    let msg = err_of(&path);
    assert_contains(
        &msg,
        &[
            "bomb.pkl",
            "row 1, column 'x'",
            "expands to far more values",
        ],
    );
}
