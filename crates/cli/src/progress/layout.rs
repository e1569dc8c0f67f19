//! The full-screen layout of a run's live view, drawn from a [`LiveState`]
//! with ratatui widgets: progress, load, latency against the limits, the
//! projected early-stopping verdict, failures, held log messages.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Wrap};
use ratatui::Frame;

use super::state::{clock, ms, Latency, LiveState, Projection};

/// Draws the whole view into the frame.
pub fn draw(frame: &mut Frame, state: &LiveState) {
    let [progress, middle, early, failures, messages, help] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(2 + state.early_stopping.len().max(1) as u16),
        Constraint::Length(4),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_progress(frame, progress, state);
    let [load, latency] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(middle);
    frame.render_widget(load_panel(state), load);
    frame.render_widget(latency_panel(state), latency);
    frame.render_widget(early_stopping_panel(state), early);
    frame.render_widget(failures_panel(state), failures);
    frame.render_widget(messages_panel(state), messages);
    let hint = if state.interrupted {
        "interrupted: answering what is left at once so LoadGen can write its logs; Ctrl-C again quits now"
    } else {
        "Ctrl-C: stop the run early (LoadGen still writes its logs)"
    };
    frame.render_widget(Line::from(hint).dim(), help);
}

fn draw_progress(frame: &mut Frame, area: Rect, state: &LiveState) {
    let block = Block::bordered().title(format!(" mlperf-gptoss run · {} ", state.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [samples, time] = Layout::vertical([Constraint::Length(1); 2]).areas(inner);
    let (ratio, label) = match state.expected_samples {
        Some(total) if total > 0 => (
            state.done as f64 / total as f64,
            format!("samples {} / {total} done", state.done),
        ),
        _ => (0.0, format!("samples {} done", state.done)),
    };
    frame.render_widget(gauge(ratio, label, Color::Green), samples);
    let (ratio, label) = match state.expected_duration {
        Some(d) if !d.is_zero() => (
            state.elapsed.as_secs_f64() / d.as_secs_f64(),
            format!("time {} / {}", clock(state.elapsed), clock(d)),
        ),
        _ => (0.0, format!("time {}", clock(state.elapsed))),
    };
    frame.render_widget(gauge(ratio, label, Color::Blue), time);
}

fn gauge(ratio: f64, label: String, color: Color) -> Gauge<'static> {
    Gauge::default()
        .gauge_style(Style::new().fg(color))
        .ratio(ratio.clamp(0.0, 1.0))
        .label(label)
}

/// `name  value` rows, the names padded to one width.
fn row<'a>(name: &'a str, value: impl Into<Span<'a>>) -> Line<'a> {
    Line::from(vec![Span::raw(format!("{name:<12}")), value.into()])
}

fn load_panel(state: &LiveState) -> Paragraph<'_> {
    let lag = state.issue_lag.map_or("-".to_string(), |l| {
        format!("p99 {}, max {}", ms(l.p99), ms(l.max))
    });
    Paragraph::new(vec![
        row("issued", state.issued.to_string()),
        row("in flight", state.in_flight().to_string()),
        row("issue lag", lag),
        row(
            "tokens/s",
            format!(
                "{:.0} (last 5 s: {:.0})",
                state.tokens_per_s, state.recent_tokens_per_s
            ),
        ),
    ])
    .block(Block::bordered().title(" load "))
}

fn latency_panel(state: &LiveState) -> Paragraph<'_> {
    Paragraph::new(vec![
        latency_row("TTFT", &state.ttft),
        latency_row("TPOT", &state.tpot),
    ])
    .block(Block::bordered().title(format!(
        " latency p{:.0}, last {} samples ",
        state.ttft.percentile * 100.0,
        state.window
    )))
}

fn latency_row(name: &'static str, latency: &Latency) -> Line<'static> {
    let value = latency.value.map_or("-".to_string(), ms);
    let limit = latency
        .limit
        .map_or("no limit".to_string(), |l| format!("limit {}", ms(l)));
    let verdict = match latency.within() {
        Some(true) => " ok".green(),
        Some(false) => " over".red().bold(),
        None => Span::raw(""),
    };
    Line::from(vec![
        Span::raw(format!("{name}  {value:>9}  ")),
        Span::raw(limit),
        verdict,
    ])
}

fn early_stopping_panel(state: &LiveState) -> Paragraph<'_> {
    let lines: Vec<Line> = if state.early_stopping.is_empty() {
        vec![Line::from("none in this scenario (Offline)")]
    } else {
        state.early_stopping.iter().map(projection_row).collect()
    };
    let at = state.early_stopping.first().map(|p| p.at_queries);
    let title = match at {
        Some(n) => format!(" early stopping, projected to {n} queries "),
        None => " early stopping ".to_string(),
    };
    Paragraph::new(lines).block(Block::bordered().title(title))
}

fn projection_row(p: &Projection) -> Line<'static> {
    let verdict = if p.passes() {
        "PASS".green().bold()
    } else {
        "FAIL".red().bold()
    };
    Line::from(vec![
        Span::raw(format!("{}  ", p.metric)),
        verdict,
        Span::raw(format!(
            "  {} of {} over the limit so far; needs at least {} queries",
            p.over, p.measured, p.needed
        )),
    ])
}

fn failures_panel(state: &LiveState) -> Paragraph<'_> {
    let count = if state.failed == 0 {
        Line::from("failed 0")
    } else {
        Line::from(Span::from(format!("failed {}", state.failed)).red().bold())
    };
    let mut lines = vec![count];
    if let Some(first) = &state.first_error {
        lines.push(Line::from(format!("first: {first}")));
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(Block::bordered().title(" failures "))
}

fn messages_panel(state: &LiveState) -> Paragraph<'_> {
    let lines: Vec<Line> = state
        .messages
        .iter()
        .map(|m| Line::from(m.as_str()))
        .collect();
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(Block::bordered().title(" messages (shown again after the run) "))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;
    use crate::progress::state::Lag;

    /// The screen's text, one string per row.
    fn render(state: &LiveState, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| draw(frame, state)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..height)
            .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect())
            .collect()
    }

    #[track_caller]
    fn assert_shows(screen: &[String], needles: &[&str]) {
        let text = screen.join("\n");
        for needle in needles {
            assert!(
                text.contains(needle),
                "{needle:?} not on the screen:\n{text}"
            );
        }
    }

    fn server_state() -> LiveState {
        LiveState {
            title: "server performance".into(),
            elapsed: Duration::from_secs(75),
            expected_samples: Some(270_336),
            expected_duration: Some(Duration::from_secs(600)),
            issued: 1300,
            done: 1234,
            failed: 2,
            first_error: Some("sample 17 (index 3): connection refused".into()),
            issue_lag: Some(Lag {
                p99: Duration::from_micros(2_340),
                max: Duration::from_micros(15_000),
            }),
            tokens_per_s: 4321.4,
            recent_tokens_per_s: 4400.0,
            ttft: Latency {
                value: Some(Duration::from_millis(3_456)),
                limit: Some(Duration::from_millis(3_000)),
                percentile: 0.99,
            },
            tpot: Latency {
                value: Some(Duration::from_micros(12_300)),
                limit: Some(Duration::from_millis(80)),
                percentile: 0.99,
            },
            window: 1000,
            early_stopping: vec![
                Projection {
                    metric: "TTFT",
                    measured: 1234,
                    over: 40,
                    at_queries: 270_336,
                    needed: 300_000,
                },
                Projection {
                    metric: "TPOT",
                    measured: 1234,
                    over: 0,
                    at_queries: 270_336,
                    needed: 459,
                },
            ],
            messages: vec!["WARN endpoint slow".into()],
            interrupted: false,
        }
    }

    #[test]
    fn a_server_run_shows_every_field_against_its_limits() {
        for (width, height) in [(80, 24), (120, 30)] {
            let screen = render(&server_state(), width, height);
            assert_shows(
                &screen,
                &[
                    "mlperf-gptoss run · server performance",
                    "samples 1234 / 270336 done",
                    "time 1:15 / 10:00",
                    "issued      1300",
                    "in flight   66",
                    "issue lag   p99 2.3 ms, max 15.0 ms",
                    "tokens/s    4321 (last 5 s: 4400)",
                    "latency p99, last 1000 samples",
                    "TTFT  3456.0 ms  limit 3000.0 ms over",
                    "TPOT    12.3 ms  limit 80.0 ms ok",
                    "early stopping, projected to 270336 queries",
                    "TTFT  FAIL  40 of 1234 over the limit so far; needs at least 300000 queries",
                    "TPOT  PASS  0 of 1234 over the limit so far; needs at least 459 queries",
                    "failed 2",
                    "first: sample 17 (index 3): connection refused",
                    "WARN endpoint slow",
                    "Ctrl-C: stop the run early",
                ],
            );
        }
    }

    #[test]
    fn an_offline_run_has_no_limits_and_no_early_stopping() {
        let state = LiveState {
            title: "offline performance".into(),
            expected_samples: Some(20),
            issued: 20,
            done: 5,
            ttft: Latency {
                percentile: 0.99,
                ..Latency::default()
            },
            tpot: Latency {
                percentile: 0.99,
                ..Latency::default()
            },
            window: 1000,
            ..LiveState::default()
        };
        let screen = render(&state, 100, 24);
        assert_shows(
            &screen,
            &[
                "samples 5 / 20 done",
                "time 0:00",
                "in flight   15",
                "issue lag   -",
                "TTFT          -  no limit",
                "none in this scenario (Offline)",
                "failed 0",
            ],
        );
    }

    #[test]
    fn an_interrupted_run_says_how_it_ends() {
        let state = LiveState {
            interrupted: true,
            ..server_state()
        };
        let screen = render(&state, 120, 30);
        assert_shows(&screen, &["interrupted: answering what is left at once"]);
    }
}
