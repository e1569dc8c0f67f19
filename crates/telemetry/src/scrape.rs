//! Scraping each server's Prometheus page on the run's clock, on a thread
//! of its own: a slow or failed scrape delays nothing but the next scrape
//! of that page, and is written down as a gap.
//!
//! `server_metrics.jsonl` gets one line per page per tick:
//!
//! ```text
//! {"t_ns":1000213000,"url":"http://h:30000/metrics","server":"sglang","scrape_ms":1.9,
//!  "metrics":{"running":64,"queued":12,"kv_usage":0.41,"gen_tokens_per_s":5120.0},
//!  "raw":{"sglang:cache_hit_rate{model_name=\"m\"}":0.0}}
//! {"t_ns":2000198000,"url":"http://h:30000/metrics","gap":"GET …: no answer within 1s"}
//! ```
//!
//! `t_ns` is when the request was sent, in nanoseconds since the run's
//! origin (the clock of `samples.jsonl`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::{HttpConfig, PageClient};
use regex::Regex;
use serde::Serialize;
use tokio::sync::watch;

use crate::jsonl::JsonLines;
use crate::names::{common_values, is_mapped, Server};
use crate::prom::Page;
use crate::Error;

/// What to scrape and how often.
#[derive(Debug, Clone)]
pub struct ScrapeConfig {
    /// Full URLs of the pages (`http://host:port/metrics`).
    pub urls: Vec<String>,
    /// Time between scrapes of each page; also each scrape's timeout.
    pub interval: Duration,
    /// Series not in the name table are kept raw when their name matches
    /// (see [`keep_pattern`]).
    pub keep: Option<Regex>,
    /// TLS settings (a private CA) shared with the request path.
    pub http: HttpConfig,
}

/// The timeout of the scrape taken after the run, when it is above the interval.
const LAST_TIMEOUT: Duration = Duration::from_secs(2);

/// A pattern that must match a series' whole name to keep it raw.
pub fn keep_pattern(re: &str) -> Result<Regex, Error> {
    Regex::new(&format!("^(?:{re})$"))
        .map_err(|e| Error::Config(format!("{re:?} is not a regular expression: {e}")))
}

/// One line of `server_metrics.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct ScrapeRecord {
    /// When the request was sent, nanoseconds since the run's origin.
    pub t_ns: u64,
    /// The page's URL.
    pub url: String,
    /// Which server's names the page used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<Server>,
    /// How long the scrape took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_ms: Option<f64>,
    /// Common names to values (see `names::COMMON`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<&'static str, f64>,
    /// Other series matching `--metrics-keep`, by `name{labels}`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, f64>,
    /// Why there is no data for this tick.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
}

/// The scraping thread; [`Scraper::stop`] takes a last scrape of every page
/// (the state after the run) and waits for the thread.
pub struct Scraper {
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scraper {
    /// Starts scraping into `path`, ticks at `origin + k·interval`.
    pub fn start(config: ScrapeConfig, origin: Instant, path: &Path) -> Result<Scraper, Error> {
        if config.interval.is_zero() {
            return Err(Error::Config(
                "the scrape interval must be above zero".into(),
            ));
        }
        let client = PageClient::new(&config.http).map_err(|e| Error::Config(e.to_string()))?;
        let mut out = JsonLines::create(path)?;
        let (stop, mut stopped) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("telemetry-scrape".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!("server metrics are not scraped: no async runtime: {e}");
                        return;
                    }
                };
                runtime.block_on(async move {
                    let pages = Arc::new(Pages {
                        client,
                        config,
                        origin,
                    });
                    let mut previous: Vec<Option<(Page, Instant)>> =
                        vec![None; pages.config.urls.len()];
                    let mut tick = 0u32;
                    loop {
                        let last = *stopped.borrow();
                        // The last scrape, after the run, may take longer: it shows the end state.
                        let timeout = if last {
                            pages.config.interval.max(LAST_TIMEOUT)
                        } else {
                            pages.config.interval
                        };
                        for record in pages.scrape_all(&mut previous, timeout).await {
                            out.append(&record);
                        }
                        if last {
                            return;
                        }
                        // The next tick on the run's clock after now (missed ones are skipped).
                        let interval = pages.config.interval;
                        let since = origin.elapsed();
                        tick = tick.max((since.as_nanos() / interval.as_nanos()) as u32) + 1;
                        let next = origin + interval * tick;
                        tokio::select! {
                            _ = tokio::time::sleep_until(next.into()) => {}
                            _ = stopped.changed() => {}
                        }
                    }
                });
            })
            .map_err(|e| Error::Config(format!("cannot start the scrape thread: {e}")))?;
        Ok(Scraper {
            stop,
            thread: Some(thread),
        })
    }

    /// Takes a last scrape of every page and stops.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Scraper {
    fn drop(&mut self) {
        self.finish();
    }
}

struct Pages {
    client: PageClient,
    config: ScrapeConfig,
    origin: Instant,
}

impl Pages {
    /// One scrape of every page at once; records in the order of the URLs.
    async fn scrape_all(
        self: &Arc<Self>,
        previous: &mut [Option<(Page, Instant)>],
        timeout: Duration,
    ) -> Vec<ScrapeRecord> {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, url) in self.config.urls.iter().enumerate() {
            let pages = self.clone();
            let url = url.clone();
            tasks.spawn(async move {
                let sent = Instant::now();
                let body = pages.client.get(&url, timeout).await;
                (i, url, sent, Instant::now(), body)
            });
        }
        let mut records = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let Ok((i, url, sent, done, body)) = joined else {
                continue;
            };
            let t_ns = sent.saturating_duration_since(self.origin).as_nanos() as u64;
            let mut record = ScrapeRecord {
                t_ns,
                url,
                server: None,
                scrape_ms: Some(done.duration_since(sent).as_secs_f64() * 1e3),
                metrics: BTreeMap::new(),
                raw: BTreeMap::new(),
                gap: None,
            };
            match body {
                Err(e) => {
                    record.scrape_ms = None;
                    record.gap = Some(e.to_string());
                }
                Ok(text) => {
                    let page = Page::parse(&text);
                    self.fill(&mut record, &page, previous[i].as_ref(), sent);
                    previous[i] = Some((page, sent));
                }
            }
            records.push((i, record));
        }
        records.sort_by_key(|(i, _)| *i);
        records.into_iter().map(|(_, r)| r).collect()
    }

    /// The common values and the kept raw series of one page.
    fn fill(
        &self,
        record: &mut ScrapeRecord,
        page: &Page,
        previous: Option<&(Page, Instant)>,
        sent: Instant,
    ) {
        if page.series.is_empty() {
            let text = if page.problems.is_empty() {
                "the page has no Prometheus series (trtllm-serve's is /prometheus/metrics; \
                 SGLang needs --enable-metrics)"
                    .to_string()
            } else {
                format!(
                    "the page is not Prometheus text: {}",
                    page.problems.join("; ")
                )
            };
            record.gap = Some(text);
            return;
        }
        record.server = Server::detect(page);
        if let Some(server) = record.server {
            let previous = previous.map(|(p, at)| (p, sent.duration_since(*at).as_secs_f64()));
            record.metrics = common_values(server, page, previous).into_iter().collect();
        }
        if let Some(keep) = &self.config.keep {
            record.raw = page
                .series
                .iter()
                .filter(|s| !is_mapped(&s.name) && keep.is_match(&s.name))
                .map(|s| (s.key(), s.value))
                .collect();
        }
    }
}
