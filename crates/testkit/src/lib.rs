//! Fixture builders that more than one crate's tests need (a dev-dependency
//! only): a gpt-oss completion as the model emits it, and
//! `mlperf_log_accuracy.json` laid out as LoadGen writes it. Each builder is
//! written once here so the eval and cli suites cannot drift apart.

use defs::tokens::{CHANNEL, END, MESSAGE, RETURN, START};

/// Ordinary token ids of `text` (no special tokens), by the harmony tokenizer.
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

/// Token ids as LoadGen's accuracy log holds them: little-endian int32, upper-case hex.
pub fn hex(ids: &[u32]) -> String {
    ids.iter()
        .flat_map(|id| (*id as i32).to_le_bytes())
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// One entry of `mlperf_log_accuracy.json`, laid out as LoadGen writes it.
pub fn log_entry(seq_id: usize, qsl_idx: usize, ids: &[u32]) -> String {
    format!(
        "{{ \"seq_id\" : {seq_id}, \"qsl_idx\" : {qsl_idx}, \"data\" : \"{}\", \"token_count\" : {} }}",
        hex(ids),
        ids.len()
    )
}

/// `mlperf_log_accuracy.json` holding `entries` (from [`log_entry`]) in order.
pub fn accuracy_log(entries: &[String]) -> String {
    if entries.is_empty() {
        return "[\n]\n".to_string();
    }
    format!("[\n{}\n]\n", entries.join(",\n"))
}

/// An Offline accuracy log of `(qsl_idx, ids)` in completion order (seq_id = position).
pub fn offline_log(entries: &[(usize, Vec<u32>)]) -> String {
    let entries: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(n, (qsl_idx, ids))| log_entry(n, *qsl_idx, ids))
        .collect();
    accuracy_log(&entries)
}

/// A whole completion that reached its answer: [`completion`] with the final
/// channel and the closing `<|return|>`.
pub fn answered(analysis: &str, final_text: &str) -> Vec<u32> {
    completion(analysis, Some(final_text), true)
}

/// A reference table as the accuracy scorer reads it: `dataset` and
/// `ground_truth` string columns, one row per `(dataset, ground_truth)`.
pub fn reference_table(rows: &[(&str, &str)]) -> dataset::Table {
    use dataset::{Column, Table, Value};
    let strings = |values: Vec<&str>| values.into_iter().map(|v| Value::Str(v.into())).collect();
    Table {
        columns: vec![
            Column {
                name: "dataset".into(),
                values: strings(rows.iter().map(|r| r.0).collect()),
            },
            Column {
                name: "ground_truth".into(),
                values: strings(rows.iter().map(|r| r.1).collect()),
            },
        ],
    }
}
