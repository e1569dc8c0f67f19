//! Progress of a long job: a bar on a terminal, a plain line every few
//! seconds otherwise (so CI logs stay readable).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

const PLAIN_INTERVAL: Duration = Duration::from_secs(10);

pub struct Progress {
    label: &'static str,
    total: u64,
    bar: Option<ProgressBar>,
    /// For plain output: (items done, when the last line was printed).
    plain: Mutex<(u64, Instant)>,
}

impl Progress {
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

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
