//! One Prometheus text-format page as a flat list of series, parsed with
//! `prom_text_format_parser`. Histogram and summary samples keep their
//! exposed names (`_bucket`, `_sum`, `_count`), so a series here is a line
//! of the page.

use prom_text_format_parser::{parse_scrape, Metric, ScrapeParseError, Type, ValueType};

/// One sample line: its name, its labels (values unescaped) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The exposed name, e.g. `vllm:e2e_request_latency_seconds_bucket`.
    pub name: String,
    /// Label pairs in the page's order.
    pub labels: Vec<(String, String)>,
    /// The value; `NaN` and `±Inf` as written.
    pub value: f64,
}

impl Series {
    /// `name{k="v",…}`, the key of a raw series in `server_metrics.jsonl`.
    pub fn key(&self) -> String {
        if self.labels.is_empty() {
            return self.name.clone();
        }
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect();
        format!("{}{{{}}}", self.name, labels.join(","))
    }

    /// The value of label `key`, if the series has it.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Every sample line, in the page's order.
    pub series: Vec<Series>,
    /// What the parser could not place (a `# TYPE` with no samples, which
    /// Python's prometheus_client writes for labelled metrics not used
    /// yet); the samples it could place are kept.
    pub problems: Vec<String>,
}

impl Page {
    /// Parses a Prometheus text-format page (version 0.0.4). A line the
    /// format does not allow costs only that line: the page is then read
    /// line by line and the bad lines are named in `problems`.
    pub fn parse(text: &str) -> Page {
        let mut page = Page::default();
        match parse_scrape(text) {
            (_, Some(ScrapeParseError::Parse(_))) => page.parse_lines(text),
            (metrics, error) => {
                page.push(metrics);
                if let Some(ScrapeParseError::Collect(errors)) = error {
                    page.problems.extend(errors.iter().map(|e| {
                        format!(
                            "lines {}..{}: {}",
                            e.line_no.start + 1,
                            e.line_no.end + 1,
                            e.error
                        )
                    }));
                }
            }
        }
        page
    }

    /// Each sample line on its own (types are lost, names kept as written).
    fn parse_lines(&mut self, text: &str) {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_scrape(line) {
                (metrics, None) => self.push(metrics),
                _ => self.problems.push(format!(
                    "line {}: not a sample line: {}",
                    i + 1,
                    line.chars().take(120).collect::<String>()
                )),
            }
        }
    }

    fn push(&mut self, metrics: Vec<Metric>) {
        for metric in metrics {
            for sample in metric.samples {
                let suffix = match (metric.kind, sample.value.value_type) {
                    (Type::Histogram, ValueType::Sample) => "_bucket",
                    (Type::Histogram | Type::Summary, ValueType::Sum) => "_sum",
                    (Type::Histogram | Type::Summary, ValueType::Count) => "_count",
                    _ => "",
                };
                self.series.push(Series {
                    name: format!("{}{suffix}", metric.name),
                    labels: sample
                        .labels
                        .iter()
                        .map(|l| (l.key.clone(), unescape(&l.value)))
                        .collect(),
                    value: sample.value.value.as_f64(),
                });
            }
        }
    }

    /// The series named `name`, over all their label sets.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Series> + 'a {
        self.series.iter().filter(move |s| s.name == name)
    }

    /// The sum of `name` over its label sets (ranks, engines, GPUs), or
    /// `None` when the page has no such series.
    pub fn sum(&self, name: &str) -> Option<f64> {
        let mut values = self.named(name).map(|s| s.value).peekable();
        values.peek()?;
        Some(values.sum())
    }

    /// The mean of `name` over its label sets, or `None` when absent.
    pub fn mean(&self, name: &str) -> Option<f64> {
        let (n, total) = self
            .named(name)
            .fold((0usize, 0.0), |(n, t), s| (n + 1, t + s.value));
        (n > 0).then(|| total / n as f64)
    }
}

/// A label value as the format writes it: `\\`, `\"` and `\n` escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The parser keeps a label value's escapes as written; this undoes them.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_unescaped_and_keys_escape_them_again() {
        let page = Page::parse("a:b{m=\"x, \\\"y\\\" \\\\ z\",n=\"1\"} 2.5\n");
        assert!(page.problems.is_empty(), "{:?}", page.problems);
        let s = &page.series[0];
        assert_eq!(s.label("m"), Some("x, \"y\" \\ z"));
        assert_eq!(s.key(), "a:b{m=\"x, \\\"y\\\" \\\\ z\",n=\"1\"}");
        assert_eq!(Page::parse(&format!("{} 2.5\n", s.key())).series[0], *s);
    }

    #[test]
    fn a_bad_line_costs_only_that_line() {
        let page = Page::parse("a 1\nthis is not { a sample\nb{x=\"1\"} 2\n");
        let names: Vec<&str> = page.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(page.problems.len(), 1, "{:?}", page.problems);
        assert!(
            page.problems[0].starts_with("line 2:"),
            "{:?}",
            page.problems
        );
        assert!(Page::parse("").series.is_empty());
    }

    #[test]
    fn sum_and_mean_span_label_sets_and_say_when_absent() {
        let page = Page::parse("g{r=\"0\"} 1\ng{r=\"1\"} 3\n");
        assert_eq!(page.sum("g"), Some(4.0));
        assert_eq!(page.mean("g"), Some(2.0));
        assert_eq!(page.sum("h"), None);
        assert_eq!(page.mean("h"), None);
    }
}
