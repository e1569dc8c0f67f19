//! The low-level safe wrapper: one official LoadGen test, run on a thread
//! of its own, with callbacks that cannot unwind into C++ and completions
//! that cannot name a sample LoadGen does not have outstanding.

use std::collections::HashSet;
use std::ffi::{c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use crate::ffi;

/// One sample LoadGen issued: the id to complete, and the QSL index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// LoadGen's response id (the address of its sample record; never 0).
    pub id: u64,
    /// The QSL sample index.
    pub index: usize,
}

/// LoadGen's scenarios, numbered as `mlperf::TestScenario`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// One query at a time.
    SingleStream = 0,
    /// Eight samples per query, one query at a time.
    MultiStream = 1,
    /// Poisson arrivals at a target rate.
    Server = 2,
    /// Everything at once.
    Offline = 3,
}

/// LoadGen's modes, numbered as `mlperf::TestMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Accuracy, then performance.
    Submission = 0,
    /// Every sample once, responses logged.
    AccuracyOnly = 1,
    /// The timed run.
    PerformanceOnly = 2,
    /// Binary search for the highest passing target (Server; see README).
    FindPeakPerformance = 3,
}

/// Everything one test needs. Settings come only from the config files,
/// through LoadGen's own `FromConfig`, as in a submission harness.
#[derive(Clone, Debug)]
pub struct Params {
    /// `sut_name` in the logs.
    pub sut_name: String,
    /// `qsl_name` in the logs.
    pub qsl_name: String,
    /// Samples in the dataset.
    pub total_sample_count: usize,
    /// Samples LoadGen may load at once for performance runs.
    pub performance_sample_count: usize,
    /// The config model name (`gpt-oss-120b`, `gpt-oss-120b-interactive`).
    pub model: String,
    /// Requested scenario (a config file cannot change it).
    pub scenario: Scenario,
    /// Requested mode (a `mode` key in user.conf overrides it).
    pub mode: Mode,
    /// A replacement for the built-in mlperf.conf (never in a submission).
    pub mlperf_conf: Option<PathBuf>,
    /// user.conf, read by `FromConfig` after the built-in mlperf.conf.
    pub user_conf: Option<PathBuf>,
    /// audit.config; never picked up from the working directory implicitly.
    pub audit_config: Option<PathBuf>,
    /// Where the four log files go; created if missing.
    pub outdir: PathBuf,
    /// Log file name prefix (`mlperf_log_`).
    pub prefix: String,
    /// Log file name suffix.
    pub suffix: String,
    /// Whether to write `mlperf_log_trace.json`.
    pub enable_trace: bool,
}

/// The SUT and QSL as LoadGen calls them, all on the test's own thread.
/// `issue` must return quickly (Server issues on LoadGen's schedule) and
/// complete the samples later, from any thread, through the [`Completer`].
pub trait Callbacks: Sync {
    /// Receives the samples of one query.
    fn issue(&self, samples: &[Sample], completer: &Completer);
    /// After the last `issue` of a series.
    fn flush(&self) {}
    /// Before a series, with the indices it will use.
    fn load(&self, _indices: &[usize]) {}
    /// After a series.
    fn unload(&self, _indices: &[usize]) {}
}

/// Why a test could not be run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// This build has no official LoadGen in it.
    #[error(
        "this mlperf-gptoss was built without the official LoadGen; build it with:\n  \
         eval \"$(scripts/fetch-official-loadgen.sh)\"\n  \
         cargo build --release --features official-loadgen\n  \
         then run with --loadgen official"
    )]
    NotBuilt,
    /// LoadGen keeps process-wide state that a second test would inherit.
    #[error(
        "the official LoadGen already ran a test in this process; it supports one test per \
         process (its config counter and issue threads are never reset): start a new process"
    )]
    AlreadyRan,
    /// The log folder is missing or not writable (LoadGen would abort the process).
    #[error("log folder {path}: {source}")]
    Outdir {
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A string parameter has a NUL byte.
    #[error("{what} contains a NUL byte: {value:?}")]
    Nul {
        /// Which parameter.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// LoadGen's `FromConfig` rejected a config file.
    #[error("{0}")]
    Config(String),
    /// A C++ exception escaped LoadGen (caught in the shim).
    #[error("the official LoadGen failed: {0}")]
    Cxx(String),
}

/// What the test left besides its log files: problems on our side of the
/// boundary (a callback that panicked, a completion LoadGen did not expect).
#[derive(Debug, Default)]
pub struct Outcome {
    /// One line per problem; each also made LoadGen's run invalid or was
    /// refused before it reached LoadGen.
    pub errors: Vec<String>,
}

/// Reports first tokens and completions to LoadGen from any thread. Ids that
/// are not outstanding are refused (LoadGen would dereference them) and
/// recorded as errors.
///
/// The calls reach LoadGen through one of a few lane threads chosen by
/// sample id, so each sample's first token and completion come from one
/// thread, in order: LoadGen's logger drains each calling thread's buffer
/// separately, and a completion seen before the first token recorded on
/// another thread is logged as an error (seen with tokio tasks that moved
/// between workers). LoadGen reads its clock when the lane makes the call.
#[derive(Clone, Debug)]
pub struct Completer {
    state: Arc<Shared>,
    lanes: Arc<[mpsc::Sender<Job>]>,
}

/// One report on its way to LoadGen.
#[derive(Debug)]
enum Job {
    FirstToken(u64, Vec<u8>),
    Complete(u64, Vec<u8>, i64),
}

/// Lane threads calling LoadGen's completion functions.
const LANES: usize = 4;

#[derive(Debug, Default)]
struct Shared {
    outstanding: Mutex<HashSet<u64>>,
    errors: Mutex<Vec<String>>,
}

impl Shared {
    fn error(&self, message: String) {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
    }
    fn outstanding(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        self.outstanding.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Completer {
    /// Starts the lanes; they end when the last clone is dropped.
    fn start(state: Arc<Shared>) -> Self {
        let lanes: Vec<mpsc::Sender<Job>> = (0..LANES)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<Job>();
                let state = state.clone();
                std::thread::spawn(move || {
                    for job in rx {
                        lane_call(&state, job);
                    }
                });
                tx
            })
            .collect();
        Completer {
            state,
            lanes: lanes.into(),
        }
    }

    fn send(&self, id: u64, job: Job) {
        let lane = (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % self.lanes.len();
        if self.lanes[lane].send(job).is_err() {
            self.state.error(format!(
                "the completion lane for sample id {id} has stopped"
            ));
        }
    }

    /// The first token of sample `id`: `data` is its bytes.
    pub fn first_token(&self, id: u64, data: &[u8]) {
        if !self.state.outstanding().contains(&id) {
            self.state.error(format!(
                "first token for sample id {id}, which is not outstanding"
            ));
            return;
        }
        self.send(id, Job::FirstToken(id, data.to_vec()));
    }

    /// Sample `id` is done: `data` is the whole response, `n_tokens` its
    /// output token count (at least 2 where LoadGen measures token latencies).
    pub fn complete(&self, id: u64, data: &[u8], n_tokens: i64) {
        if !self.state.outstanding().remove(&id) {
            self.state.error(format!(
                "completion for sample id {id}, which is not outstanding (completed twice, or never issued)"
            ));
            return;
        }
        self.send(id, Job::Complete(id, data.to_vec(), n_tokens));
    }
}

/// A lane's call into LoadGen.
fn lane_call(state: &Shared, job: Job) {
    match job {
        Job::FirstToken(id, data) => {
            let mut response = response(id, &data, 0);
            // SAFETY: `id` was outstanding when queued and its completion,
            // if any, is queued behind this on the same lane; `data` lives
            // through the call.
            if !unsafe { ffi::first_token_complete(&mut response) } {
                state.error(format!(
                    "LoadGen's FirstTokenComplete failed for sample id {id}"
                ));
            }
        }
        Job::Complete(id, data, n_tokens) => {
            let mut response = response(id, &data, n_tokens);
            // SAFETY: `id` was removed from the outstanding set when queued,
            // so it is completed exactly once; `data` lives through the call.
            if !unsafe { ffi::query_samples_complete(&mut response) } {
                state.error(format!(
                    "LoadGen's QuerySamplesComplete failed for sample id {id}"
                ));
            }
        }
    }
}

fn response(id: u64, data: &[u8], n_tokens: i64) -> ffi::LgResponse {
    ffi::LgResponse {
        id,
        data: data.as_ptr() as u64,
        size: data.len() as u64,
        n_tokens,
    }
}

/// The official LoadGen's version as it logs it (`6.0.17 @ d6147c7eb7`),
/// or `None` in a build without it.
pub fn version() -> Option<String> {
    ffi::version()
}

static STARTED: AtomicBool = AtomicBool::new(false);

/// Runs one test to its end on a thread of its own (never a tokio worker:
/// it blocks for the whole test and every callback runs on it). Only one
/// test per process.
pub fn run_test(params: &Params, callbacks: &dyn Callbacks) -> Result<Outcome, Error> {
    if !cfg!(feature = "official") {
        return Err(Error::NotBuilt);
    }
    prepare_outdir(&params.outdir)?;
    let strings = Strings::new(params)?;
    if STARTED.swap(true, Ordering::SeqCst) {
        return Err(Error::AlreadyRan);
    }
    let ctx = Context {
        callbacks,
        completer: Completer::start(Arc::new(Shared::default())),
    };
    let raw = strings.raw(params);
    start(&raw, &ctx)?;
    let errors = std::mem::take(
        &mut *ctx
            .completer
            .state
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner()),
    );
    Ok(Outcome { errors })
}

fn start(raw: &ffi::LgParams, ctx: &Context<'_>) -> Result<(), Error> {
    let callbacks = ffi::LgCallbacks {
        ctx: ctx as *const Context<'_> as *mut c_void,
        issue: on_issue,
        flush: on_flush,
        load: on_load,
        unload: on_unload,
    };
    struct Call<'a>(&'a ffi::LgParams, &'a ffi::LgCallbacks);
    // SAFETY: the scope joins the thread before `raw`, `callbacks` and
    // `ctx` go out of scope, and the callbacks only share `Context`
    // (`Callbacks: Sync`, `Completer: Sync`).
    unsafe impl Send for Call<'_> {}
    let call = Call(raw, &callbacks);
    let (rc, message) = std::thread::scope(|s| {
        s.spawn(move || {
            let call = call;
            // SAFETY: see `Call`.
            unsafe { ffi::start_test(call.0, call.1) }
        })
        .join()
        .unwrap_or_else(|_| (-1, "the LoadGen thread panicked".into()))
    });
    match rc {
        ffi::LG_OK => Ok(()),
        ffi::LG_CONFIG_ERROR => Err(Error::Config(config_message(&message))),
        _ => Err(Error::Cxx(message)),
    }
}

/// The shim reports a rejected config file as `which \t path \t rc`.
fn config_message(raw: &str) -> String {
    let mut parts = raw.splitn(3, '\t');
    let (which, path, rc) = (
        parts.next().unwrap_or("config"),
        parts.next().unwrap_or("?"),
        parts.next().unwrap_or("?"),
    );
    crate::conf_errors::explain(which, Path::new(path), rc)
}

/// LoadGen neither creates the folder nor survives failing to open its logs.
fn prepare_outdir(dir: &Path) -> Result<(), Error> {
    let fail = |source| Error::Outdir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(".mlperf-gptoss-write-probe");
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

/// The parameters as C strings, alive for the whole test.
struct Strings {
    sut_name: CString,
    qsl_name: CString,
    model: CString,
    mlperf_conf: Option<CString>,
    user_conf: Option<CString>,
    audit_config: Option<CString>,
    outdir: CString,
    prefix: CString,
    suffix: CString,
}

impl Strings {
    fn new(p: &Params) -> Result<Self, Error> {
        fn c(what: &'static str, value: &str) -> Result<CString, Error> {
            CString::new(value).map_err(|_| Error::Nul {
                what,
                value: value.to_string(),
            })
        }
        fn path(what: &'static str, value: &Path) -> Result<CString, Error> {
            c(what, &value.to_string_lossy())
        }
        Ok(Strings {
            sut_name: c("the SUT name", &p.sut_name)?,
            qsl_name: c("the QSL name", &p.qsl_name)?,
            model: c("the model name", &p.model)?,
            mlperf_conf: p
                .mlperf_conf
                .as_deref()
                .map(|v| path("--mlperf-conf", v))
                .transpose()?,
            user_conf: p
                .user_conf
                .as_deref()
                .map(|v| path("--user-conf", v))
                .transpose()?,
            audit_config: p
                .audit_config
                .as_deref()
                .map(|v| path("--audit-config", v))
                .transpose()?,
            outdir: path("the log folder", &p.outdir)?,
            prefix: c("the log prefix", &p.prefix)?,
            suffix: c("the log suffix", &p.suffix)?,
        })
    }

    fn raw(&self, p: &Params) -> ffi::LgParams {
        let opt = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        ffi::LgParams {
            sut_name: self.sut_name.as_ptr(),
            qsl_name: self.qsl_name.as_ptr(),
            total_sample_count: p.total_sample_count,
            performance_sample_count: p.performance_sample_count,
            model: self.model.as_ptr(),
            scenario: p.scenario as i32,
            mode: p.mode as i32,
            mlperf_conf: opt(&self.mlperf_conf),
            user_conf: opt(&self.user_conf),
            audit_config: opt(&self.audit_config),
            outdir: self.outdir.as_ptr(),
            prefix: self.prefix.as_ptr(),
            suffix: self.suffix.as_ptr(),
            enable_trace: p.enable_trace as i32,
        }
    }
}

/// What the C callbacks see behind `ctx`.
struct Context<'a> {
    callbacks: &'a dyn Callbacks,
    completer: Completer,
}

/// Runs a callback; a panic is recorded instead of unwinding into C++.
fn guarded(ctx: &Context<'_>, what: &str, f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => true,
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            ctx.completer
                .state
                .error(format!("the SUT panicked in {what}: {text}"));
            false
        }
    }
}

/// # Safety
/// `ctx` is the `Context` passed to `lg_start_test`; `samples` holds `n` samples.
unsafe extern "C" fn on_issue(ctx: *mut c_void, samples: *const ffi::LgSample, n: usize) {
    let ctx = &*(ctx as *const Context<'_>);
    let raw = if n == 0 {
        &[][..]
    } else {
        std::slice::from_raw_parts(samples, n)
    };
    let samples: Vec<Sample> = raw
        .iter()
        .map(|s| Sample {
            id: s.id,
            index: s.index as usize,
        })
        .collect();
    ctx.completer
        .state
        .outstanding()
        .extend(samples.iter().map(|s| s.id));
    let ok = guarded(ctx, "issue", || {
        ctx.callbacks.issue(&samples, &ctx.completer)
    });
    if !ok {
        // LoadGen only ends once every sample is complete: finish the ones
        // the SUT may not have taken, with empty responses.
        for s in &samples {
            if ctx.completer.state.outstanding().contains(&s.id) {
                ctx.completer.complete(s.id, &[], 0);
            }
        }
    }
}

/// # Safety
/// `ctx` is the `Context` passed to `lg_start_test`.
unsafe extern "C" fn on_flush(ctx: *mut c_void) {
    let ctx = &*(ctx as *const Context<'_>);
    guarded(ctx, "flush", || ctx.callbacks.flush());
}

/// # Safety
/// `ctx` is the `Context` passed to `lg_start_test`; `indices` holds `n` indices.
unsafe extern "C" fn on_load(ctx: *mut c_void, indices: *const usize, n: usize) {
    let ctx = &*(ctx as *const Context<'_>);
    let indices = if n == 0 {
        &[][..]
    } else {
        std::slice::from_raw_parts(indices, n)
    };
    guarded(ctx, "load_samples", || ctx.callbacks.load(indices));
}

/// # Safety
/// `ctx` is the `Context` passed to `lg_start_test`; `indices` holds `n` indices.
unsafe extern "C" fn on_unload(ctx: *mut c_void, indices: *const usize, n: usize) {
    let ctx = &*(ctx as *const Context<'_>);
    let indices = if n == 0 {
        &[][..]
    } else {
        std::slice::from_raw_parts(indices, n)
    };
    guarded(ctx, "unload_samples", || ctx.callbacks.unload(indices));
}
