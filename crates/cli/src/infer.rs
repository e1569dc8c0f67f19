//! `mlperf-gptoss infer`: the reference's `sglang/run_infer.py`. Every row's
//! prompt token ids go to a backend (`--pass-k` times for pass@k) with many
//! requests in flight, outside LoadGen, and the outputs are saved beside the
//! input columns as `model_output_{i}`, `tok_model_output_{i}`,
//! `tok_model_output_len_{i}` and `infer_time_{i}` — the columns the
//! reference writes and its scorer reads.
//!
//! Where we differ from `run_infer.py`, on purpose:
//! * Long jobs survive interruptions. The output is written at the start,
//!   every `--save-every` seconds, at the end and on Ctrl-C, and running the
//!   same command again resumes: cells that finished are kept, the rest are
//!   sent. A failed request leaves its cells null (the reference writes an
//!   empty output with a null time, which resume also treats as not done).
//! * Text keeps the harmony special tokens (`<|channel|>`, ...), as the
//!   scorers decode (`skip_special_tokens=False`); the reference's own
//!   `run_infer.py` skips them, which hides the channel markers the accuracy
//!   regexes look for.
//! * Sampling defaults to `generation_config.json` (temperature 1, top_p 1,
//!   top_k off) and the reference stop ids, not `run_infer.py`'s 0.001/top_k 1;
//!   the flags can set those. No seed is sent, as the reference sends none,
//!   so pass@k samples differ on a real model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use backend::settings::reference_sampling;
use backend::{Backend, GenerateRequest, SamplingParams};
use dataset::{Table, Value};
use tokio::sync::{mpsc, Semaphore};

use crate::backend_args::BackendArgs;
use crate::progress::Progress;
use crate::request;
use crate::telemetry_args::{self, TelemetryArgs};

/// Command-line arguments of `infer`.
#[derive(clap::Args)]
pub struct Args {
    /// Harmonized dataset (.parquet, .pkl, .jsonl) with `tok_input` or `input_tokens`.
    #[arg(long)]
    input_tokens: PathBuf,
    /// Results: every input column plus four per pass (.parquet, .jsonl or .pkl).
    /// If it exists, its finished results are kept and only the rest are sent.
    #[arg(long)]
    output: PathBuf,
    /// Most output tokens per request (max_new_tokens).
    #[arg(long, default_value_t = 20480)]
    max_tokens: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4096)]
    max_concurrency: usize,
    /// Requests per row (pass@k); pass i fills the columns ending in `_{i}`.
    #[arg(long, default_value_t = 1)]
    pass_k: usize,
    /// Use only the first N rows (the reference's --max-samples).
    #[arg(long)]
    max_samples: Option<usize>,
    /// Sampling temperature (generation_config.json: 1.0; run_infer.py defaulted to 0.001).
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// Nucleus sampling mass in (0, 1].
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    /// Keep only the k most likely tokens; -1 disables it (run_infer.py defaulted to 1).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    top_k: i32,
    /// Seconds between saves of --output while requests run (0: only at the end).
    #[arg(long, default_value_t = 300.0)]
    save_every: f64,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    telemetry: TelemetryArgs,
}

/// One finished request.
struct Answer {
    text: String,
    ids: Vec<u32>,
    seconds: f64,
}

/// What a request task sends back: which cell, and its answer or error.
struct Outcome {
    row: usize,
    pass: usize,
    result: Result<Answer, String>,
}

/// Sends what is left to send and saves the results; the exit status says
/// whether every request finished (130 after Ctrl-C).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.pass_k >= 1, "--pass-k must be at least 1");
    anyhow::ensure!(
        args.max_concurrency >= 1,
        "--max-concurrency must be at least 1"
    );
    anyhow::ensure!(args.max_tokens >= 1, "--max-tokens must be at least 1");
    anyhow::ensure!(
        args.save_every.is_finite() && args.save_every >= 0.0,
        "--save-every must be a number of seconds >= 0"
    );
    let timeout = args.backend.timeout()?;
    let sampling = SamplingParams {
        temperature: args.temperature,
        top_p: args.top_p,
        top_k: args.top_k,
        ..reference_sampling(args.max_tokens)
    };
    sampling
        .validate()
        .map_err(|e| anyhow::anyhow!("{e} (see --temperature, --top-p, --top-k)"))?;
    // Refuse an unknown extension now, not after hours of generation.
    dataset::Format::from_path(&args.output)?;

    let (table, prompts) = read_input(&args.input_tokens, args.max_samples)?;
    let resume = load_existing(&args.output, &prompts)?;
    let resumed = resume.is_some();
    let mut store = Store::new(resume.unwrap_or(table), args.pass_k, resumed);
    let pending = store.pending();
    let total = prompts.len() * args.pass_k;
    if pending.is_empty() {
        eprintln!(
            "infer: all {total} results are already in {}; nothing to send",
            args.output.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Load the vocabulary before sending, so a broken one fails in seconds.
    harmony::decode(&[]).context("loading the o200k_harmony vocabulary to decode outputs")?;
    // Written once up front: an unwritable --output fails before any request.
    store.save(&args.output)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let backend = args.backend.build(timeout, &runtime)?;
    eprintln!(
        "infer: {} requests ({} rows x {} passes, {} already finished in {}), backend {:?}, \
         max_tokens {}, max_concurrency {}",
        pending.len(),
        prompts.len(),
        args.pass_k,
        total - pending.len(),
        args.output.display(),
        args.backend.backend,
        args.max_tokens,
        args.max_concurrency
    );

    // Telemetry files sit beside --output, named after it.
    let dir = match args.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(
        "{}.",
        args.output
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
    );
    let telemetry =
        args.telemetry
            .start(&args.backend, std::time::Instant::now(), &dir, &prefix)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let job = Job {
        backend,
        prompts: Arc::new(prompts),
        sampling,
        slots: Arc::new(Semaphore::new(
            args.max_concurrency.min(Semaphore::MAX_PERMITS),
        )),
        timeout,
    };
    for &(row, pass) in &pending {
        let job = job.clone();
        let tx = tx.clone();
        runtime.spawn(async move {
            let result = job.send(row).await;
            let _ = tx.send(Outcome { row, pass, result });
        });
    }
    drop(tx);

    let save_every = (args.save_every > 0.0).then(|| Duration::from_secs_f64(args.save_every));
    let summary = runtime.block_on(collect(
        rx,
        &mut store,
        &args.output,
        save_every,
        pending.len(),
    ));
    let energy = telemetry_args::finish(telemetry, None, summary.output_tokens);
    for line in energy.iter().flat_map(|e| e.summary_lines()) {
        eprintln!("{line}");
    }
    // Requests still in flight after Ctrl-C are dropped, which cancels them.
    runtime.shutdown_background();
    store
        .save(&args.output)
        .context("saving the results; the previous save of this file is intact")?;
    Ok(summary.report(&args.output, pending.len()))
}

/// The input table (first `max_samples` rows) and its prompt token ids.
fn read_input(path: &Path, max_samples: Option<usize>) -> anyhow::Result<(Table, Vec<Vec<u32>>)> {
    let mut table = dataset::read_table(path)?;
    if let Some(n) = max_samples {
        for column in &mut table.columns {
            column.values.truncate(n);
        }
    }
    let prompts = dataset::prompt_tokens(&table, path)?;
    anyhow::ensure!(
        !prompts.is_empty(),
        "{}: the dataset has no rows to send",
        path.display()
    );
    Ok((table, prompts))
}

/// The existing output to resume from, if there is one. It must have been
/// written for this input: the same prompts in the same rows.
fn load_existing(path: &Path, prompts: &[Vec<u32>]) -> anyhow::Result<Option<Table>> {
    if !path.exists() {
        return Ok(None);
    }
    let fix = "delete it to start over, or choose another --output";
    let table = dataset::read_table(path).with_context(|| {
        format!(
            "reading the existing --output {} to resume ({fix})",
            path.display()
        )
    })?;
    let theirs = dataset::prompt_tokens(&table, path).with_context(|| {
        format!(
            "the existing --output {} cannot be resumed ({fix})",
            path.display()
        )
    })?;
    anyhow::ensure!(
        theirs.len() == prompts.len(),
        "{}: it holds {} rows but the input has {}; it was written for another input or \
         --max-samples ({fix})",
        path.display(),
        theirs.len(),
        prompts.len()
    );
    if let Some(row) = (0..prompts.len()).find(|&r| theirs[r] != prompts[r]) {
        anyhow::bail!(
            "{}: row {row} holds a different prompt than the input; it was written for another \
             input ({fix})",
            path.display()
        );
    }
    Ok(Some(table))
}

/// What a request needs, shared by every request task.
#[derive(Clone)]
struct Job {
    backend: Arc<dyn Backend>,
    prompts: Arc<Vec<Vec<u32>>>,
    sampling: SamplingParams,
    slots: Arc<Semaphore>,
    timeout: Duration,
}

impl Job {
    /// Sends one row's prompt once, waiting for a slot first. The time is
    /// from sending to the final result, as `run_infer.py` measures it.
    async fn send(&self, row: usize) -> Result<Answer, String> {
        let request = GenerateRequest {
            input_ids: self.prompts[row].clone(),
            sampling: self.sampling.clone(),
            stream: false,
        };
        let outcome = request::generate_once(
            self.backend.as_ref(),
            &self.slots,
            request,
            self.timeout,
            |_| {},
        )
        .await;
        let output = outcome.output?;
        let seconds = outcome
            .sent
            .map_or(0.0, |sent| sent.elapsed().as_secs_f64());
        let text = harmony::decode(&output.output_ids)
            .map_err(|e| format!("the server returned ids that do not decode: {e}"))?;
        Ok(Answer {
            text,
            ids: output.output_ids,
            seconds,
        })
    }
}

/// How the collection ended.
struct Summary {
    finished: usize,
    /// Tokens generated by the finished requests.
    output_tokens: usize,
    failures: Vec<(usize, usize, String)>,
    interrupted: bool,
}

/// Writes answers into the table as they arrive, saving it every
/// `save_every`, until every request is in or Ctrl-C is pressed.
async fn collect(
    mut rx: mpsc::UnboundedReceiver<Outcome>,
    store: &mut Store,
    output: &Path,
    save_every: Option<Duration>,
    total: usize,
) -> Summary {
    let progress = Progress::new("infer", total as u64);
    let mut summary = Summary {
        finished: 0,
        output_tokens: 0,
        failures: Vec::new(),
        interrupted: false,
    };
    let period = save_every.unwrap_or(Duration::from_secs(3600));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    // Cleared when the signal handler cannot be installed: then Ctrl-C just kills.
    let mut watch_ctrl_c = true;
    let mut unsaved = false;
    loop {
        tokio::select! {
            outcome = rx.recv() => {
                let Some(outcome) = outcome else { break };
                match outcome.result {
                    Ok(answer) => {
                        summary.output_tokens += answer.ids.len();
                        store.set(outcome.row, outcome.pass, answer);
                        summary.finished += 1;
                        unsaved = true;
                    }
                    Err(e) => summary.failures.push((outcome.row, outcome.pass, e)),
                }
                progress.inc();
            }
            signal = &mut ctrl_c, if watch_ctrl_c => {
                watch_ctrl_c = false;
                if signal.is_ok() {
                    summary.interrupted = true;
                    break;
                }
            }
            _ = ticker.tick(), if save_every.is_some() && unsaved => {
                // A failed save is retried at the next tick and at the end.
                match store.save(output) {
                    Ok(()) => unsaved = false,
                    Err(e) => tracing::warn!("saving progress: {e:#}"),
                }
            }
        }
    }
    progress.finish();
    summary
}

/// Failures listed one per line before the rest are only counted.
const LISTED_FAILURES: usize = 50;

impl Summary {
    /// Prints what happened and what to do; the exit status says whether all finished.
    fn report(mut self, output: &Path, sent: usize) -> ExitCode {
        let failed = self.failures.len();
        let unsent = sent - self.finished - failed;
        self.failures.sort_by_key(|f| (f.0, f.1));
        for (row, pass, error) in self.failures.iter().take(LISTED_FAILURES) {
            eprintln!("failed: row {row} pass {pass}: {error}");
        }
        if failed > LISTED_FAILURES {
            eprintln!("failed: ... and {} more", failed - LISTED_FAILURES);
        }
        eprintln!(
            "infer: {} of {sent} requests finished, {failed} failed{} -> {}",
            self.finished,
            if unsent > 0 {
                format!(", {unsent} not finished")
            } else {
                String::new()
            },
            output.display()
        );
        if self.interrupted {
            eprintln!("interrupted: the finished results are saved; run the same command again to send the rest");
            return ExitCode::from(130);
        }
        if failed > 0 {
            eprintln!(
                "error: {failed} requests failed (their cells are null); fix the cause and run the \
                 same command again: finished results are kept and only the rest are sent"
            );
            return ExitCode::FAILURE;
        }
        ExitCode::SUCCESS
    }
}

/// The output table and where each pass's four result columns are in it.
struct Store {
    table: Table,
    /// Per pass: column indices of text, ids, length, time.
    passes: Vec<[usize; 4]>,
}

/// The reference's names of pass `i`'s columns, in its order.
fn pass_columns(i: usize) -> [String; 4] {
    [
        format!("model_output_{i}"),
        format!("tok_model_output_{i}"),
        format!("tok_model_output_len_{i}"),
        format!("infer_time_{i}"),
    ]
}

impl Store {
    /// Adds the result columns that are missing. Unless resuming, every
    /// result cell is cleared (an input may carry results of its own).
    fn new(mut table: Table, pass_k: usize, resume: bool) -> Store {
        let rows = table.num_rows();
        let passes = (0..pass_k)
            .map(|i| {
                pass_columns(i).map(|name| {
                    if !resume || table.column(&name).is_none() {
                        table.set_column(&name, vec![Value::Null; rows]);
                    }
                    table
                        .columns
                        .iter()
                        .position(|c| c.name == name)
                        .unwrap_or_default()
                })
            })
            .collect();
        Store { table, passes }
    }

    /// A cell is finished when it has its ids and its time; a failed one of
    /// the reference (empty ids, null time) is not.
    fn is_done(&self, row: usize, pass: usize) -> bool {
        let [_, ids, _, time] = self.passes[pass];
        let cell = |c: usize| &self.table.columns[c].values[row];
        matches!(cell(ids), Value::Ints(_))
            && match cell(time) {
                Value::Int(_) => true,
                Value::Float(f) => f.is_finite(),
                _ => false,
            }
    }

    /// Cells still to send, row by row, passes within a row; their leftovers are cleared.
    fn pending(&mut self) -> Vec<(usize, usize)> {
        let mut pending = Vec::new();
        for row in 0..self.table.num_rows() {
            for pass in 0..self.passes.len() {
                if !self.is_done(row, pass) {
                    for c in self.passes[pass] {
                        self.table.columns[c].values[row] = Value::Null;
                    }
                    pending.push((row, pass));
                }
            }
        }
        pending
    }

    fn set(&mut self, row: usize, pass: usize, answer: Answer) {
        let [text, ids, len, time] = self.passes[pass];
        let columns = &mut self.table.columns;
        columns[len].values[row] = Value::Int(answer.ids.len() as i64);
        columns[ids].values[row] = Value::Ints(answer.ids.into_iter().map(i64::from).collect());
        columns[text].values[row] = Value::Str(answer.text);
        columns[time].values[row] = Value::Float(answer.seconds);
    }

    /// Replaces `path` atomically, so a crash mid-write keeps the previous save.
    fn save(&self, path: &Path) -> anyhow::Result<()> {
        dataset::write_table(path, &self.table)?;
        Ok(())
    }
}
