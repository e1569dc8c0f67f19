//! Progress of a long job, the one display every subcommand uses: indicatif
//! on a terminal, a plain line every few seconds otherwise (so CI logs stay
//! readable). A job either counts items ([`Progress::new`]) or shows a line
//! it renders itself, refreshed on a timer ([`Progress::live`]).

use std::io::IsTerminal;
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a plain line is printed off a terminal.
const PLAIN_INTERVAL: Duration = Duration::from_secs(10);
/// How often a live line is redrawn on a terminal.
const TERMINAL_INTERVAL: Duration = Duration::from_secs(1);

/// A progress display; shared by reference between the threads that report.
pub struct Progress {
    label: &'static str,
    total: u64,
    /// On a terminal: the bar (or, for a live line, its text).
    bar: Option<ProgressBar>,
    /// For plain output: (items done, when the last line was printed).
    plain: Mutex<(u64, Instant)>,
    /// A live line's refresh thread, until [`Progress::finish`].
    refresher: Mutex<Option<Refresher>>,
}

/// The thread that redraws a live line; dropping `stop` wakes and ends it,
/// so a dropped [`Progress`] never leaves it running.
struct Refresher {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Progress {
    /// Counts `total` items of a job called `label`.
    pub fn new(label: &'static str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message(label);
            bar
        });
        Progress::with_bar(label, total, bar)
    }

    /// Shows the line `render` returns: redrawn every second on a terminal,
    /// printed every 10 s otherwise, until [`Progress::finish`].
    pub fn live(render: impl Fn() -> String + Send + 'static) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        let period = if terminal {
            TERMINAL_INTERVAL
        } else {
            PLAIN_INTERVAL
        };
        let (stop, stopped) = mpsc::channel::<()>();
        let shown = bar.clone();
        let thread = std::thread::spawn(move || {
            // Wakes every period, or at once when `stop` is sent or dropped.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                show(shown.as_ref(), render());
            }
        });
        let progress = Progress::with_bar("", 0, bar);
        if let Ok(mut refresher) = progress.refresher.lock() {
            *refresher = Some(Refresher { stop, thread });
        }
        progress
    }

    fn with_bar(label: &'static str, total: u64, bar: Option<ProgressBar>) -> Self {
        Progress {
            label,
            total,
            bar,
            plain: Mutex::new((0, Instant::now())),
            refresher: Mutex::new(None),
        }
    }

    /// One more item done; safe to call from many threads.
    pub fn inc(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            return;
        }
        let Ok(mut state) = self.plain.lock() else {
            return;
        };
        state.0 += 1;
        if state.1.elapsed() >= PLAIN_INTERVAL {
            state.1 = Instant::now();
            eprintln!("{}: {}/{}", self.label, state.0, self.total);
        }
    }

    /// Stops a live line's refreshing and clears the terminal's status line.
    pub fn finish(&self) {
        let refresher = self.refresher.lock().ok().and_then(|mut r| r.take());
        if let Some(Refresher { stop, thread }) = refresher {
            drop(stop);
            let _ = thread.join();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Puts `line` on the terminal's status line, or prints it.
fn show(bar: Option<&ProgressBar>, line: String) {
    match bar {
        Some(bar) => bar.set_message(line),
        None => eprintln!("{line}"),
    }
}
