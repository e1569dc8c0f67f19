//! The terminal while the full-screen view is up: the alternate screen and
//! raw mode (so typed keys do not echo over it), restored on every way out —
//! the view ending, an error, a panic, Ctrl-C — and the log lines that
//! arrive meanwhile, held back and printed once the screen is gone.

use std::io::{self, Stderr, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;

use super::layout;
use super::state::LiveState;

/// Whether the full screen is up; log lines are held while it is.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Log lines that arrived while the screen was up.
static HELD: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The full-screen view on stderr; leaving it (drop) restores the terminal.
pub struct Screen {
    terminal: Terminal<CrosstermBackend<Stderr>>,
}

impl Screen {
    /// Switches stderr's terminal to the alternate screen in raw mode.
    pub fn enter() -> io::Result<Screen> {
        restore_on_panic();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let entered = execute!(io::stderr(), EnterAlternateScreen, Hide)
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stderr())));
        match entered {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    /// Redraws the view.
    pub fn draw(&mut self, state: &LiveState) -> io::Result<()> {
        self.terminal.draw(|frame| layout::draw(frame, state))?;
        Ok(())
    }

    /// Waits up to `wait` for keys; true when Ctrl-C was among them (raw
    /// mode turns it into a key instead of a signal).
    pub fn ctrl_c_pressed(&self, wait: Duration) -> bool {
        let mut wait = wait;
        while event::poll(wait).unwrap_or(false) {
            wait = Duration::ZERO;
            if let Ok(Event::Key(key)) = event::read() {
                if key.kind == KeyEventKind::Press
                    && key.code == KeyCode::Char('c')
                    && key.modifiers.contains(KeyModifiers::CONTROL)
                {
                    return true;
                }
            }
        }
        false
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// Whether the full-screen view is up now.
pub fn full_screen() -> bool {
    ACTIVE.load(Ordering::SeqCst)
}

/// Leaves the full screen if it is up and prints the held log lines; safe
/// to call from any thread, any number of times.
pub fn restore() {
    let held = {
        let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
        if !ACTIVE.swap(false, Ordering::SeqCst) {
            return;
        }
        std::mem::take(&mut *held)
    };
    let _ = disable_raw_mode();
    let mut err = io::stderr().lock();
    let _ = execute!(err, LeaveAlternateScreen, Show);
    for line in held {
        let _ = err.write_all(line.as_bytes());
    }
    let _ = err.flush();
}

/// A panic while the screen is up would print into the alternate screen and
/// leave the terminal in raw mode: restore first, then report it.
fn restore_on_panic() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            report(info);
        }));
    });
}

/// The last `n` held log lines, without terminal colour codes, for the view.
pub fn held_tail(n: usize) -> Vec<String> {
    let held = HELD.lock().unwrap_or_else(|p| p.into_inner());
    held[held.len().saturating_sub(n)..]
        .iter()
        .map(|line| strip_ansi(line.trim_end()))
        .collect()
}

/// `text` without ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the sequence's final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The writer of the program's log lines (`tracing`): stderr, except while
/// the full screen is up, when lines are held and shown in the view.
pub struct LogWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine(Vec::new())
    }
}

/// One log event's text, written out (or held) when it is complete.
pub struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
        if ACTIVE.load(Ordering::SeqCst) {
            held.push(String::from_utf8_lossy(&self.0).into_owned());
        } else {
            drop(held);
            let _ = io::stderr().write_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strip_ansi;

    #[test]
    fn colour_codes_are_taken_out_of_held_lines() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2026-12-06\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m slow"),
            "2026-12-06  WARN slow"
        );
    }
}
