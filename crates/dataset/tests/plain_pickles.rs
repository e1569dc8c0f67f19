//! The pickle interpreter against CPython's own `pickle`: plain values (ints of every
//! width, floats, strings, tuples, lists, dicts, sets, shared references) pickled by
//! python3 in protocols 0-5 read back to the values Python pickled.

mod common;

use std::collections::BTreeSet;

use common::*;

#[test]
fn plain_values_pickled_by_cpython_read_back() {
    let out = python(&[py_script("plain_pickles.py")]);
    let mut seen = BTreeSet::new();
    for line in String::from_utf8(out).unwrap().lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let what = format!("protocol {}, {}", case["protocol"], case["case"]);
        let hex = case["hex"].as_str().unwrap();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let got = dataset::__private::unpickle_plain_value(bytes)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            sorted(&got),
            sorted(&json_to_value(&case["value"])),
            "{what}"
        );
        seen.extend(json_strs(&case["opcodes"]).into_iter().map(String::from));
    }
    // Every opcode a plain value can need was exercised.
    let needed = [
        "INT",
        "BININT",
        "BININT1",
        "BININT2",
        "LONG1",
        "FLOAT",
        "BINFLOAT",
        "NONE",
        "NEWTRUE",
        "NEWFALSE",
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "EMPTY_LIST",
        "APPEND",
        "APPENDS",
        "LIST",
        "EMPTY_TUPLE",
        "TUPLE",
        "TUPLE1",
        "TUPLE2",
        "TUPLE3",
        "EMPTY_DICT",
        "DICT",
        "SETITEM",
        "SETITEMS",
        "EMPTY_SET",
        "ADDITEMS",
        "FROZENSET",
        "MARK",
        "GET",
        "BINGET",
        "PUT",
        "BINPUT",
        "LONG_BINPUT",
        "MEMOIZE",
        "PROTO",
        "STOP",
        "FRAME",
    ];
    let missing: Vec<_> = needed.iter().filter(|op| !seen.contains(**op)).collect();
    assert!(
        missing.is_empty(),
        "no pickle used {missing:?}; seen {seen:?}"
    );
}
