//! Times `eval` on a synthetic accuracy log shaped like the real one: 4,395 entries
//! (240 aime25, 990 gpqa_diamond, 3,165 livecodebench_v6, LiveCodeBench skipped),
//! each a harmony completion of about `TOKENS` tokens (analysis, then final).
//!
//! `cargo run --release -p eval --example eval_bench [-- TOKENS]` (default 4000).

use std::path::Path;
use std::time::Instant;

use dataset::{Column, Table, Value};

/// Times parse + decode + grade + score of a synthetic accuracy log.
#[derive(clap::Parser)]
struct Args {
    /// Tokens per entry (each entry is a harmony completion of about this length).
    #[arg(default_value_t = 4000)]
    tokens: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args { tokens } = <Args as clap::Parser>::parse();
    let tokenizer = harmony::encoding()?.tokenizer();
    let filler = tokenizer.encode_ordinary(
        "We need to consider the reaction: the answer could be A, but the boxed value \\boxed{12} \
         from the earlier step was wrong, so let us recompute 3*4+5 = 17 and check again. ",
    );
    let (mut names, mut truths, mut log) = (Vec::new(), Vec::new(), String::from("["));
    for i in 0..4395usize {
        let (name, gt, fin) = match i {
            0..240 => ("aime25", "17", "The answer is \\boxed{17}."),
            240..1230 => ("gpqa_diamond", "C", "**C**"),
            _ => ("livecodebench_v6", "abc123", "```python\nprint(17)\n```"),
        };
        names.push(Value::Str(name.into()));
        truths.push(Value::Str(gt.into()));
        let mut ids = vec![harmony::tokens::CHANNEL];
        ids.extend(tokenizer.encode_ordinary("analysis"));
        ids.push(harmony::tokens::MESSAGE);
        while ids.len() < tokens {
            ids.extend(&filler);
        }
        ids.extend([harmony::tokens::END, harmony::tokens::START]);
        ids.extend(tokenizer.encode_ordinary("assistant"));
        ids.push(harmony::tokens::CHANNEL);
        ids.extend(tokenizer.encode_ordinary("final"));
        ids.push(harmony::tokens::MESSAGE);
        ids.extend(tokenizer.encode_ordinary(fin));
        ids.push(harmony::tokens::RETURN);
        let hex: String = ids
            .iter()
            .flat_map(|id| (*id as i32).to_le_bytes())
            .map(|b| format!("{b:02X}"))
            .collect();
        let sep = if i == 0 { "\n" } else { ",\n" };
        log.push_str(&format!(
            "{sep}{{ \"seq_id\" : {i}, \"qsl_idx\" : {i}, \"data\" : \"{hex}\", \"token_count\" : {} }}",
            ids.len()
        ));
    }
    log.push_str("\n]\n");
    let table = Table {
        columns: vec![
            Column {
                name: "dataset".into(),
                values: names,
            },
            Column {
                name: "ground_truth".into(),
                values: truths,
            },
        ],
    };
    let reference = eval::Reference::from_table(Path::new("synthetic.parquet"), table)?;
    println!(
        "log: 4395 entries, {} tokens each, {:.0} MB of JSON",
        tokens,
        log.len() as f64 / 1e6
    );
    harmony::decode(&[1])?; // load the vocabulary outside the timing
    let options = eval::Options {
        skip_lcb: true,
        ..Default::default()
    };
    for run in 0..3 {
        let start = Instant::now();
        let log = eval::AccuracyLog::from_bytes(Path::new("bench.json"), log.clone().into_bytes());
        let evaluation = eval::evaluate(&log, &reference, &options)?;
        let summary = eval::Summary::new(&evaluation.counts);
        let took = start.elapsed();
        println!(
            "run {run}: {:.3} s ({}, {} threads)",
            took.as_secs_f64(),
            summary.exact_match_line(),
            rayon::current_num_threads()
        );
    }
    Ok(())
}
