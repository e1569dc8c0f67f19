//! Building gpt-oss completions and LoadGen accuracy logs for tests.
#![allow(dead_code)]

pub mod corpus;

use harmony::tokens::{CHANNEL, END, MESSAGE, RETURN, START};

/// Ordinary token ids of `text` (no special tokens).
pub fn ordinary(text: &str) -> Vec<u32> {
    harmony::encoding()
        .expect("harmony vocabulary")
        .tokenizer()
        .encode_ordinary(text)
}

/// A gpt-oss completion as the model emits it after `<|start|>assistant`:
/// `<|channel|>analysis<|message|>A<|end|><|start|>assistant<|channel|>final<|message|>F<|return|>`.
/// `final_text: None` stops after the analysis (no final channel, e.g. truncated);
/// `returned: false` leaves out the closing `<|return|>`.
pub fn completion(analysis: &str, final_text: Option<&str>, returned: bool) -> Vec<u32> {
    let mut ids = vec![CHANNEL];
    ids.extend(ordinary("analysis"));
    ids.push(MESSAGE);
    ids.extend(ordinary(analysis));
    if let Some(f) = final_text {
        ids.extend([END, START]);
        ids.extend(ordinary("assistant"));
        ids.push(CHANNEL);
        ids.extend(ordinary("final"));
        ids.push(MESSAGE);
        ids.extend(ordinary(f));
        if returned {
            ids.push(RETURN);
        }
    }
    ids
}

/// Uppercase hex of little-endian int32 ids, as LoadGen writes `data`.
pub fn hex(ids: &[u32]) -> String {
    ids.iter()
        .flat_map(|id| (*id as i32).to_le_bytes())
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// An Offline accuracy log (LoadGen's layout) of `(qsl_idx, ids)` in completion order.
pub fn offline_log(entries: &[(usize, Vec<u32>)]) -> String {
    let mut out = String::from("[");
    for (n, (qsl_idx, ids)) in entries.iter().enumerate() {
        out.push_str(if n == 0 { "\n" } else { ",\n" });
        out.push_str(&format!(
            "{{ \"seq_id\" : {n}, \"qsl_idx\" : {qsl_idx}, \"data\" : \"{}\", \"token_count\" : {} }}",
            hex(ids),
            ids.len()
        ));
    }
    out.push_str("\n]\n");
    out
}

/// A reference table with `dataset` and `ground_truth` string columns.
pub fn reference(rows: &[(&str, &str)]) -> dataset::Table {
    use dataset::{Column, Table, Value};
    Table {
        columns: vec![
            Column {
                name: "dataset".into(),
                values: rows.iter().map(|r| Value::Str(r.0.into())).collect(),
            },
            Column {
                name: "ground_truth".into(),
                values: rows.iter().map(|r| Value::Str(r.1.into())).collect(),
            },
        ],
    }
}
