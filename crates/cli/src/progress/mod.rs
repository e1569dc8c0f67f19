//! Progress of a long job, the one display every subcommand uses. A job
//! either counts items ([`Progress`]: an indicatif bar on a terminal) or,
//! for `run`, shows a [`LiveView`] of its figures ([`LiveState`]): full
//! screen on a terminal (ratatui), otherwise a plain line every few seconds
//! so CI logs stay readable. Log lines go through [`LogWriter`], which holds
//! them while the full screen is up.

mod layout;
mod plain;
mod screen;
mod state;

use std::io::IsTerminal;
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub use screen::{full_screen, restore, LogWriter};
pub use state::{Lag, Latency, LiveState, Projection};

/// How often a plain line is printed off a terminal.
const PLAIN_INTERVAL: Duration = Duration::from_secs(10);
/// How often the full screen is redrawn (keys are read in between).
const SCREEN_INTERVAL: Duration = Duration::from_millis(250);
/// Held log lines the full screen shows.
const MESSAGES_SHOWN: usize = 5;

/// What a run does after the first Ctrl-C.
pub const INTERRUPTED: &str = "interrupted: samples not answered yet are answered empty so that \
LoadGen ends and writes its logs (a Server run still waits for its last scheduled query); \
Ctrl-C again quits at once, keeping samples.jsonl";

/// A bar counting the items of a job; shared by reference between the threads that report.
pub struct Progress {
    label: &'static str,
    total: u64,
    /// On a terminal: the bar.
    bar: Option<ProgressBar>,
    /// For plain output: (items done, when the last line was printed).
    plain: Mutex<(u64, Instant)>,
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
        Progress {
            label,
            total,
            bar,
            plain: Mutex::new((0, Instant::now())),
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

    /// Clears the bar from the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A one-line status for a job made of several runs (`tune` between its
/// probes): redrawn every second on a terminal, printed every 10 s otherwise,
/// until [`StatusLine::finish`].
pub struct StatusLine {
    bar: Option<ProgressBar>,
    /// Dropping it wakes and ends the refresh thread.
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl StatusLine {
    /// Shows the line `render` returns until [`StatusLine::finish`].
    pub fn start(render: impl Fn() -> String + Send + 'static) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        let period = if bar.is_some() {
            Duration::from_secs(1)
        } else {
            PLAIN_INTERVAL
        };
        let (stop, stopped) = mpsc::channel::<()>();
        let shown = bar.clone();
        let thread = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                match &shown {
                    Some(bar) => bar.set_message(render()),
                    None => eprintln!("{}", render()),
                }
            }
        });
        StatusLine { bar, stop, thread }
    }

    /// Stops refreshing and clears the terminal's status line.
    pub fn finish(self) {
        drop(self.stop);
        let _ = self.thread.join();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A run's live view, refreshed on a thread of its own until [`LiveView::finish`].
pub struct LiveView {
    /// Dropping it wakes the thread and ends it, so a dropped view never keeps running.
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl LiveView {
    /// Shows what `snapshot` returns: full screen on a terminal, redrawn
    /// every 250 ms; a plain line every 10 s otherwise. On the full screen
    /// Ctrl-C arrives as a key and calls `on_ctrl_c`; once a snapshot says
    /// the run was interrupted the screen is restored and plain lines follow.
    pub fn start(
        mut snapshot: impl FnMut() -> LiveState + Send + 'static,
        on_ctrl_c: impl Fn() + Send + 'static,
    ) -> LiveView {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut screen = std::io::stderr()
                .is_terminal()
                .then(screen::Screen::enter)
                .and_then(|entered| {
                    entered
                        .map_err(|e| {
                            tracing::warn!("no full-screen view ({e}); plain lines instead")
                        })
                        .ok()
                });
            // When the last plain line was printed; None: print the next one at once.
            let mut printed = Some(Instant::now());
            loop {
                let go_on = match &screen {
                    Some(s) => {
                        if s.ctrl_c_pressed(SCREEN_INTERVAL) {
                            on_ctrl_c();
                        }
                        matches!(stopped.try_recv(), Err(mpsc::TryRecvError::Empty))
                    }
                    None => matches!(
                        stopped.recv_timeout(SCREEN_INTERVAL),
                        Err(mpsc::RecvTimeoutError::Timeout)
                    ),
                };
                if !go_on {
                    break;
                }
                let mut state = snapshot();
                if state.interrupted && screen.is_some() {
                    // Off the full screen the interrupt handler says this itself.
                    screen = None;
                    eprintln!("{INTERRUPTED}");
                    printed = None;
                }
                match &mut screen {
                    Some(s) => {
                        state.messages = screen::held_tail(MESSAGES_SHOWN);
                        if let Err(e) = s.draw(&state) {
                            screen = None;
                            tracing::warn!(
                                "the full-screen view failed ({e}); plain lines instead"
                            );
                        }
                    }
                    None if printed.is_none_or(|at| at.elapsed() >= PLAIN_INTERVAL) => {
                        printed = Some(Instant::now());
                        eprintln!("{}", plain::line(&state));
                    }
                    None => {}
                }
            }
        });
        LiveView { stop, thread }
    }

    /// Stops refreshing and restores the terminal.
    pub fn finish(self) {
        drop(self.stop);
        let _ = self.thread.join();
        restore();
    }
}
