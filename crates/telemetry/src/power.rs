//! GPU power sampling on the run's clock, on a thread of its own, from one
//! of three sources:
//!
//! * **NVML** on this host, through `libnvidia-ml` loaded at run time
//!   (`nvml-wrapper`); where there is no driver, `auto` turns power off with
//!   a one-line note and only an explicit `nvml` is an error;
//! * a **DCGM exporter** page (`DCGM_FI_DEV_POWER_USAGE`, watts, one series
//!   per GPU and host), for GPUs on other hosts;
//! * a **command** that prints one reading per line, in watts (several
//!   numbers on a line, separated by spaces or commas: one per GPU); it
//!   paces itself, and each line is stamped when it is read.
//!
//! Every reading is appended to `power.jsonl` as it is taken:
//! `{"t_ns":100012000,"watts":{"0":312.5,"1":298.0}}`, or a gap:
//! `{"t_ns":…,"gap":"…"}`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend::{HttpConfig, PageClient};
use serde::Serialize;

use crate::jsonl::JsonLines;
use crate::prom::Page;
use crate::Error;

/// Where power readings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PowerSource {
    /// NVML if a driver is there, otherwise no power (with a note).
    Auto,
    /// NVML; an error when it cannot be loaded.
    Nvml,
    /// A DCGM exporter's Prometheus page (full URL).
    Dcgm(String),
    /// A shell command printing watts, one reading per line.
    Command(String),
}

/// One reading: when, and watts per GPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerSample {
    /// Nanoseconds since the run's origin.
    pub t_ns: u64,
    /// Watts per GPU (`"0"`, `"1"`, … or `host:gpu` from DCGM).
    pub watts: BTreeMap<String, f64>,
}

/// The readings of a whole run.
#[derive(Debug, Clone, Default)]
pub struct PowerTrace {
    /// `nvml`, `dcgm <url>` or `command <cmd>`.
    pub source: String,
    /// Readings in time order.
    pub samples: Vec<PowerSample>,
}

/// A gap line of `power.jsonl`.
#[derive(Serialize)]
struct Gap<'a> {
    t_ns: u64,
    gap: &'a str,
}

/// Sampling in progress, or why there is none.
pub enum Power {
    /// Readings are being taken.
    Sampling(PowerSampler),
    /// `auto` found no NVML: the one-line note to print.
    Off(String),
}

/// The sampling thread; [`PowerSampler::stop`] ends it and returns the trace.
pub struct PowerSampler {
    source: String,
    trace: Arc<Mutex<Vec<PowerSample>>>,
    stop: Option<mpsc::Sender<()>>,
    child: Option<Arc<Mutex<Child>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A source read on a timer.
trait Poll: Send {
    fn read(&mut self) -> Result<BTreeMap<String, f64>, String>;
}

struct Nvml(nvml_wrapper::Nvml, u32);

impl Poll for Nvml {
    fn read(&mut self) -> Result<BTreeMap<String, f64>, String> {
        (0..self.1)
            .map(|i| {
                let mw = self
                    .0
                    .device_by_index(i)
                    .and_then(|d| d.power_usage())
                    .map_err(|e| format!("NVML power of GPU {i}: {e}"))?;
                Ok((i.to_string(), f64::from(mw) / 1000.0))
            })
            .collect()
    }
}

struct Dcgm {
    url: String,
    client: PageClient,
    runtime: tokio::runtime::Runtime,
}

/// DCGM's power gauge (dcgm-exporter `etc/default-counters.csv`: "Power draw (in W)").
const DCGM_POWER: &str = "DCGM_FI_DEV_POWER_USAGE";

impl Poll for Dcgm {
    fn read(&mut self) -> Result<BTreeMap<String, f64>, String> {
        let text = self
            .runtime
            .block_on(self.client.get(&self.url, Duration::from_secs(1)))
            .map_err(|e| e.to_string())?;
        let watts = dcgm_watts(&Page::parse(&text));
        if watts.is_empty() {
            return Err(format!("{} has no {DCGM_POWER} series", self.url));
        }
        Ok(watts)
    }
}

/// Watts per GPU from a DCGM exporter page, keyed `host:gpu` when the page
/// names hosts, else by the `gpu` label (or `UUID`).
pub fn dcgm_watts(page: &Page) -> BTreeMap<String, f64> {
    page.named(DCGM_POWER)
        .map(|s| {
            let gpu = s.label("gpu").or(s.label("UUID")).unwrap_or("?");
            let key = match s.label("Hostname") {
                Some(host) => format!("{host}:{gpu}"),
                None => gpu.to_string(),
            };
            (key, s.value)
        })
        .collect()
}

/// Watts from one line of a power command: one number per GPU.
pub fn parse_watts_line(line: &str) -> Result<BTreeMap<String, f64>, String> {
    let fields: Vec<&str> = line
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|f| !f.is_empty())
        .collect();
    if fields.is_empty() {
        return Err("an empty line".into());
    }
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let w: f64 = f
                .trim_end_matches('W')
                .parse()
                .map_err(|_| format!("{f:?} is not a number of watts in line {line:?}"))?;
            if !w.is_finite() || w < 0.0 {
                return Err(format!(
                    "{f:?} is not a power reading in watts (line {line:?})"
                ));
            }
            Ok((i.to_string(), w))
        })
        .collect()
}

impl Power {
    /// Starts sampling `source` every `interval` (the command paces itself),
    /// writing `path`, with times since `origin`.
    pub fn start(
        source: &PowerSource,
        interval: Duration,
        http: &HttpConfig,
        origin: Instant,
        path: &Path,
    ) -> Result<Power, Error> {
        let poll: Box<dyn Poll> = match source {
            PowerSource::Auto | PowerSource::Nvml => match open_nvml() {
                Ok(nvml) => Box::new(nvml),
                Err(e) if *source == PowerSource::Auto => {
                    return Ok(Power::Off(format!(
                        "note: no GPU power readings (NVML: {e}); use --power-dcgm URL or \
                         --power-cmd CMD for another source"
                    )))
                }
                Err(e) => return Err(Error::Power(format!("--power nvml: {e}"))),
            },
            PowerSource::Dcgm(url) => Box::new(Dcgm {
                url: url.clone(),
                client: PageClient::new(http).map_err(|e| Error::Power(e.to_string()))?,
                runtime: tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::Power(format!("no async runtime for DCGM: {e}")))?,
            }),
            PowerSource::Command(cmd) => return Self::start_command(cmd, origin, path),
        };
        let name = match source {
            PowerSource::Dcgm(url) => format!("dcgm {url}"),
            _ => "nvml".to_string(),
        };
        Ok(Power::Sampling(PowerSampler::polled(
            name, poll, interval, origin, path,
        )?))
    }

    fn start_command(cmd: &str, origin: Instant, path: &Path) -> Result<Power, Error> {
        use std::os::unix::process::CommandExt;
        // A process group of its own, so that stopping it stops whatever
        // the shell started too (whose stdout would keep the pipe open).
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Power(format!("--power-cmd {cmd:?}: cannot start sh: {e}")))?;
        let stdout = child.stdout.take().expect("stdout was piped");
        let child = Arc::new(Mutex::new(child));
        let trace = Arc::new(Mutex::new(Vec::new()));
        let mut out = JsonLines::create(path)?;
        let (t, c, command) = (trace.clone(), child.clone(), cmd.to_string());
        let thread = std::thread::Builder::new()
            .name("telemetry-power".into())
            .spawn(move || {
                for line in std::io::BufReader::new(stdout).lines() {
                    let t_ns = origin.elapsed().as_nanos() as u64;
                    let Ok(line) = line else { break };
                    match parse_watts_line(&line) {
                        Ok(watts) => {
                            let sample = PowerSample { t_ns, watts };
                            out.append(&sample);
                            t.lock().unwrap_or_else(|p| p.into_inner()).push(sample);
                        }
                        Err(e) => out.append(&Gap { t_ns, gap: &e }),
                    }
                }
                // The command ended by itself, or was stopped: say which.
                let t_ns = origin.elapsed().as_nanos() as u64;
                // Its stdout closed: it exits now (wait briefly, never block stop()).
                let mut status = None;
                for _ in 0..50 {
                    status = c
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .try_wait()
                        .ok()
                        .flatten();
                    if status.is_some() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                if let Some(status) = status {
                    if !status.success() && status.code().is_some() {
                        let gap = format!("--power-cmd {command:?} exited: {status}");
                        tracing::warn!("{gap}");
                        out.append(&Gap { t_ns, gap: &gap });
                    }
                }
            })
            .map_err(|e| Error::Power(format!("cannot start the power thread: {e}")))?;
        Ok(Power::Sampling(PowerSampler {
            source: format!("command {cmd}"),
            trace,
            stop: None,
            child: Some(child),
            thread: Some(thread),
        }))
    }
}

/// NVML with at least one GPU, or why not.
fn open_nvml() -> Result<Nvml, String> {
    let nvml = nvml_wrapper::Nvml::init().map_err(|e| match e {
        nvml_wrapper::error::NvmlError::LibloadingError(_) => {
            "libnvidia-ml.so cannot be loaded (no NVIDIA driver on this host)".to_string()
        }
        other => other.to_string(),
    })?;
    let count = nvml.device_count().map_err(|e| e.to_string())?;
    if count == 0 {
        return Err("the driver reports no GPU".into());
    }
    Ok(Nvml(nvml, count))
}

impl PowerSampler {
    fn polled(
        source: String,
        mut poll: Box<dyn Poll>,
        interval: Duration,
        origin: Instant,
        path: &Path,
    ) -> Result<PowerSampler, Error> {
        if interval.is_zero() {
            return Err(Error::Config(
                "the power interval must be above zero".into(),
            ));
        }
        let trace = Arc::new(Mutex::new(Vec::new()));
        let mut out = JsonLines::create(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let t = trace.clone();
        let thread = std::thread::Builder::new()
            .name("telemetry-power".into())
            .spawn(move || {
                let mut next = Instant::now();
                loop {
                    let before = Instant::now();
                    let reading = poll.read();
                    // Stamped halfway through the read (a DCGM page takes a while).
                    let at = before + (Instant::now() - before) / 2;
                    let t_ns = at.saturating_duration_since(origin).as_nanos() as u64;
                    match reading {
                        Ok(watts) => {
                            let sample = PowerSample { t_ns, watts };
                            out.append(&sample);
                            t.lock().unwrap_or_else(|p| p.into_inner()).push(sample);
                        }
                        Err(e) => out.append(&Gap { t_ns, gap: &e }),
                    }
                    next += interval;
                    let now = Instant::now();
                    if next < now {
                        next = now;
                    }
                    match stopped.recv_timeout(next - now) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                }
            })
            .map_err(|e| Error::Power(format!("cannot start the power thread: {e}")))?;
        Ok(PowerSampler {
            source,
            trace,
            stop: Some(stop),
            child: None,
            thread: Some(thread),
        })
    }

    /// Stops sampling (ending the power command) and returns every reading.
    pub fn stop(mut self) -> PowerTrace {
        self.finish();
        PowerTrace {
            source: self.source.clone(),
            samples: std::mem::take(&mut *self.trace.lock().unwrap_or_else(|p| p.into_inner())),
        }
    }

    fn finish(&mut self) {
        drop(self.stop.take());
        if let Some(child) = self.child.take() {
            let mut child = child.lock().unwrap_or_else(|p| p.into_inner());
            // The whole group, even when the shell itself has exited: what it
            // started may still hold the pipe open.
            // SAFETY: kill(2) on the process group created for this child.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.wait();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PowerSampler {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watts_lines_take_one_number_per_gpu() {
        let w = parse_watts_line("312.5").unwrap();
        assert_eq!(
            w.into_iter().collect::<Vec<_>>(),
            [("0".to_string(), 312.5)]
        );
        let w = parse_watts_line(" 300.0, 250W  10 ").unwrap();
        assert_eq!(
            w.values().copied().collect::<Vec<_>>(),
            [300.0, 250.0, 10.0]
        );
        for bad in ["", "hot", "-3", "NaN"] {
            assert!(parse_watts_line(bad).is_err(), "{bad:?}");
        }
    }
}
