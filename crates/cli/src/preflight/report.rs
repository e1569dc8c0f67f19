//! What preflight found: one verdict per check and endpoint, with the
//! evidence behind it, printed for a person and written as JSON for the
//! submitter's records.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::limits::Limits;

/// One check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Shown to work.
    Pass,
    /// Could not be shown, or works in a way that needs a look.
    Warn,
    /// Shown to be broken: a run would be wrong or invalid.
    Fail,
    /// Not checked, because an earlier check failed.
    Skip,
}

impl Status {
    /// The word printed in front of the check.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// One check of one endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Its name (`reachable`, `token_ids`, …), the same in text and JSON.
    pub name: &'static str,
    /// The verdict.
    pub status: Status,
    /// What was seen, with the numbers; for a FAIL also what to do.
    pub evidence: String,
}

impl Check {
    /// A check with `status` and `evidence`.
    pub fn new(name: &'static str, status: Status, evidence: impl Into<String>) -> Check {
        Check {
            name,
            status,
            evidence: evidence.into(),
        }
    }
}

/// Every check of one endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    /// The URL as given.
    pub endpoint: String,
    /// The checks, in the order they are listed in `--help`.
    pub checks: Vec<Check>,
}

/// The whole report: what was checked against which limits, and the verdicts.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The `mlperf-gptoss` version that checked.
    pub version: &'static str,
    /// When the report was made, in seconds since the Unix epoch.
    pub unix_time: u64,
    /// `sglang` or `openai`.
    pub backend: String,
    /// The limits the probes' latencies were held to.
    pub limits: Limits,
    /// One entry per `--endpoint`.
    pub endpoints: Vec<EndpointReport>,
    /// FAIL if any check failed, WARN if any warned, PASS otherwise.
    pub verdict: Status,
}

impl Report {
    /// The report with its verdict worked out.
    pub fn new(backend: &str, limits: Limits, endpoints: Vec<EndpointReport>) -> Report {
        let any = |s| {
            endpoints
                .iter()
                .flat_map(|e| &e.checks)
                .any(|c| c.status == s)
        };
        let verdict = if any(Status::Fail) {
            Status::Fail
        } else if any(Status::Warn) {
            Status::Warn
        } else {
            Status::Pass
        };
        let unix_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Report {
            version: env!("CARGO_PKG_VERSION"),
            unix_time,
            backend: backend.to_owned(),
            limits,
            endpoints,
            verdict,
        }
    }

    /// How many checks have `status`, over all endpoints.
    pub fn count(&self, status: Status) -> usize {
        self.endpoints
            .iter()
            .flat_map(|e| &e.checks)
            .filter(|c| c.status == status)
            .count()
    }

    /// The report for a terminal: a heading, one line per check, the verdict.
    pub fn text(&self) -> String {
        let mut out = format!(
            "preflight: {} protocol, {}\n",
            self.backend,
            self.limits.describe()
        );
        for e in &self.endpoints {
            let _ = writeln!(out, "{}", e.endpoint);
            for c in &e.checks {
                let _ = writeln!(
                    out,
                    "  {}  {:<15} {}",
                    c.status.as_str(),
                    c.name,
                    c.evidence
                );
            }
        }
        let _ = writeln!(
            out,
            "verdict: {} ({} FAIL, {} WARN, {} PASS, {} SKIP)",
            self.verdict.as_str(),
            self.count(Status::Fail),
            self.count(Status::Warn),
            self.count(Status::Pass),
            self.count(Status::Skip)
        );
        out
    }

    /// Writes the report as pretty JSON to `path`.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("writing the preflight report to {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(statuses: &[Status]) -> EndpointReport {
        EndpointReport {
            endpoint: "http://x".into(),
            checks: statuses.iter().map(|&s| Check::new("c", s, "e")).collect(),
        }
    }

    #[test]
    fn the_worst_status_decides_and_skips_do_not_count() {
        use Status::*;
        let cases: [(&[Status], Status); 4] = [
            (&[Pass, Pass], Pass),
            (&[Pass, Skip], Pass),
            (&[Pass, Warn, Skip], Warn),
            (&[Warn, Fail, Pass], Fail),
        ];
        for (statuses, want) in cases {
            let report = Report::new("sglang", Limits::none(), vec![endpoint(statuses)]);
            assert_eq!(report.verdict, want, "{statuses:?}");
        }
    }

    #[test]
    fn text_and_json_name_every_check() {
        let report = Report::new(
            "sglang",
            Limits::none(),
            vec![endpoint(&[Status::Fail, Status::Pass])],
        );
        let text = report.text();
        assert!(text.contains("  FAIL  c "), "{text}");
        assert!(
            text.contains("verdict: FAIL (1 FAIL, 0 WARN, 1 PASS, 0 SKIP)"),
            "{text}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["endpoints"][0]["checks"][0]["status"], "FAIL");
        assert_eq!(json["verdict"], "FAIL");
    }
}
