//! `mlperf-gptoss harmonize`: the reference's `harmonize_inputs.py`.
//!
//! Reads a raw dataset, renders each row with its dataset's prompt builder,
//! and writes every input column plus the prompt ids under both the legacy
//! names (`tok_input`, `tok_input_len`, `text_input`) and the v4 names
//! (`input_tokens`, `num_tokens`). Rows that cannot be rendered get nulls,
//! as in the reference, and are listed on stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use dataset::{Table, Value};
use harmony::{Cell, ChatTurn, PromptSettings, Prompter, ReasoningEffort, Row, RowError};
use rayon::prelude::*;

use crate::progress::Progress;

/// Command-line arguments of `harmonize`.
#[derive(clap::Args)]
pub struct Args {
    /// Raw dataset: .pkl (pandas), .parquet or .jsonl.
    #[arg(long)]
    data_file: PathBuf,
    /// Where to write the result; the extension (.pkl, .parquet, .jsonl) picks the format.
    #[arg(long)]
    output_file: PathBuf,
    /// Worker threads (the reference's process count); default: all cores.
    #[arg(long)]
    num_processes: Option<usize>,
    /// Reasoning effort in the system message: low, medium or high.
    #[arg(long, default_value = "high")]
    reasoning_effort: ReasoningEffort,
    /// `Current date:` in the system message [default: the reference's 2025-09-30].
    #[arg(long)]
    conversation_date: Option<String>,
    /// Exit 0 even when some rows could not be rendered (they are written as nulls).
    #[arg(long)]
    allow_failures: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut table = dataset::read_table(&args.data_file)?;
    let mut settings = PromptSettings {
        reasoning_effort: args.reasoning_effort,
        ..PromptSettings::default()
    };
    if let Some(date) = args.conversation_date {
        settings.conversation_date = date;
    }
    let prompter = Prompter::new(settings)?;
    let workers = args
        .num_processes
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if workers == 0 {
        anyhow::bail!("--num-processes must be at least 1");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()?;

    let rows = table.num_rows();
    let progress = Progress::new("harmonize", rows as u64);
    let rendered: Vec<Result<Rendered, RowError>> = pool.install(|| {
        (0..rows)
            .into_par_iter()
            .map(|index| {
                let result = render(&prompter, &table, index);
                progress.inc();
                result
            })
            .collect()
    });
    progress.finish();

    let failures: Vec<(usize, &RowError)> = rendered
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
        .collect();
    for (index, err) in &failures {
        eprintln!("row {index}: {err}\n  ({})", err.hint());
    }
    let tokens: usize = rendered.iter().flatten().map(|r| r.ids.len()).sum();
    add_prompt_columns(&mut table, &rendered);
    dataset::write_table(&args.output_file, &table).with_context(|| {
        format!(
            "writing the harmonized dataset to {}",
            args.output_file.display()
        )
    })?;

    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "harmonized {} of {rows} rows ({tokens} prompt tokens, effort {}) in {secs:.2} s with {workers} workers: \
         {:.0} rows/s, {:.0} tokens/s -> {}",
        rows - failures.len(),
        prompter.settings().reasoning_effort,
        rows as f64 / secs,
        tokens as f64 / secs,
        args.output_file.display()
    );
    if failures.is_empty() || args.allow_failures {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "error: {} of {rows} rows could not be rendered (written as nulls in {}); \
         fix them, or pass --allow-failures to accept nulls",
        failures.len(),
        args.output_file.display()
    );
    Ok(ExitCode::FAILURE)
}

struct Rendered {
    ids: Vec<u32>,
    text: String,
}

fn render(prompter: &Prompter, table: &Table, index: usize) -> Result<Rendered, RowError> {
    let prompt = prompter.render_row(index, &TableRow { table, index })?;
    let text = harmony::decode(&prompt.ids)?;
    Ok(Rendered {
        ids: prompt.ids,
        text,
    })
}

/// Legacy and v4 prompt columns; a column that already exists is replaced in
/// place (as the reference's `df.at` writes do), new ones are appended.
fn add_prompt_columns(table: &mut Table, rendered: &[Result<Rendered, RowError>]) {
    let ids = |r: &Rendered| Value::Ints(r.ids.iter().map(|&id| i64::from(id)).collect());
    let len = |r: &Rendered| Value::Int(r.ids.len() as i64);
    let text = |r: &Rendered| Value::Str(r.text.clone());
    let column = |f: &dyn Fn(&Rendered) -> Value| -> Vec<Value> {
        rendered
            .iter()
            .map(|r| r.as_ref().map_or(Value::Null, f))
            .collect()
    };
    table.set_column("tok_input", column(&ids));
    table.set_column("tok_input_len", column(&len));
    table.set_column("text_input", column(&text));
    table.set_column("input_tokens", column(&ids));
    table.set_column("num_tokens", column(&len));
}

/// One row of a [`Table`] as the prompt builders see it.
struct TableRow<'a> {
    table: &'a Table,
    index: usize,
}

impl Row for TableRow<'_> {
    fn cell(&self, column: &str) -> Option<Cell> {
        let value = self.table.column(column)?.values.get(self.index)?;
        Some(to_cell(value))
    }
}

fn to_cell(value: &Value) -> Cell {
    match value {
        Value::Str(text) => Cell::Text(text.clone()),
        // Readers cannot tell `[]` from an empty id list: as a cell it is an empty history.
        Value::Ints(ids) if ids.is_empty() => Cell::Chat(Vec::new()),
        Value::List(items) => match chat_turns(items) {
            Some(turns) => Cell::Chat(turns),
            None => Cell::Other(python_repr(value)),
        },
        other => Cell::Other(python_repr(other)),
    }
}

/// A list of `{role, content}` records (healthbench's `prompt`).
fn chat_turns(items: &[Value]) -> Option<Vec<ChatTurn>> {
    items
        .iter()
        .map(|item| {
            let Value::Struct(fields) = item else {
                return None;
            };
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| match v {
                        Value::Str(s) => Some(s.clone()),
                        _ => None,
                    })
            };
            Some(ChatTurn {
                role: field("role")?,
                content: field("content")?,
            })
        })
        .collect()
}

/// How Python would print the cell, for the reference's error messages.
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "nan".into(),
        Value::Float(f) => format!("{f:?}"),
        Value::Str(s) => format!("'{s}'"),
        Value::Ints(ids) => format!("{ids:?}"),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Struct(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
