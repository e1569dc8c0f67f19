//! Opens a report in headless Chromium (Debian's `chromium`, driven through
//! the DevTools protocol by `headless_chrome`, which never downloads a
//! browser): records console errors and every network request, reads the
//! charts' data attributes and counts, and writes a full-page screenshot.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use headless_chrome::browser::tab::Tab;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions};
use serde_json::Value as Json;

/// What a chart element says it drew, and its SVG circles.
#[derive(Debug)]
pub struct ChartInfo {
    /// `data-points`.
    pub points: usize,
    /// `data-total`.
    pub total: u64,
    /// `<circle>` elements in its SVG.
    pub circles: usize,
}

/// The loaded page and what happened while it loaded.
pub struct Page {
    _browser: Browser,
    tab: Arc<Tab>,
    /// Console messages of level error, exceptions, and log entries of level error.
    pub console_errors: Vec<String>,
    /// URLs requested, other than the report itself.
    pub requests: Vec<String>,
    /// The text of each run's verdict, in page order.
    pub verdicts: Vec<String>,
}

/// The Chromium binary: $CHROMIUM, else Debian's.
fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.is_file(),
        "this test needs Chromium at {} (Debian: apt-get install chromium; or set CHROMIUM)",
        path.display()
    );
    path
}

/// Opens `html`, waits for it to load, and saves a full-page PNG to `screenshot`.
pub fn open(html: &Path, screenshot: &Path) -> Page {
    let profile = tempfile::tempdir().unwrap();
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        .sandbox(false)
        .user_data_dir(Some(profile.path().to_path_buf()))
        .window_size(Some((1280, 1000)))
        .idle_browser_timeout(Duration::from_secs(120))
        .args(args)
        .build()
        .unwrap();
    let browser = Browser::new(options).expect("Chromium starts");
    let tab = browser.new_tab().unwrap();
    let url = format!("file://{}", html.canonicalize().unwrap().display());

    let errors = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(Mutex::new(Vec::new()));
    {
        let (errors, requests, own) = (errors.clone(), requests.clone(), url.clone());
        tab.add_event_listener(Arc::new(move |event: &Event| match event {
            Event::LogEntryAdded(e) => {
                let entry = &e.params.entry;
                if format!("{:?}", entry.level)
                    .to_lowercase()
                    .contains("error")
                {
                    errors.lock().unwrap().push(entry.text.clone());
                }
            }
            Event::RuntimeConsoleAPICalled(e)
                if format!("{:?}", e.params.Type)
                    .to_lowercase()
                    .contains("error") =>
            {
                errors
                    .lock()
                    .unwrap()
                    .push(format!("console.error: {:?}", e.params.args));
            }
            Event::RuntimeExceptionThrown(e) => {
                errors
                    .lock()
                    .unwrap()
                    .push(e.params.exception_details.text.clone());
            }
            Event::NetworkRequestWillBeSent(e) if e.params.request.url != own => {
                requests.lock().unwrap().push(e.params.request.url.clone());
            }
            _ => {}
        }))
        .unwrap();
    }
    tab.enable_log().unwrap();
    tab.enable_runtime().unwrap();
    tab.call_method(headless_chrome::protocol::cdp::Network::Enable {
        max_total_buffer_size: None,
        max_resource_buffer_size: None,
        max_post_data_size: None,
        report_direct_socket_traffic: None,
        enable_durable_messages: None,
    })
    .unwrap();
    tab.navigate_to(&url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    // Anything the page itself fetched (images, fonts, styles) is a resource entry too.
    let resources = evaluate(
        &tab,
        "performance.getEntriesByType('resource').map(e => e.name)",
    );
    let verdicts = evaluate(
        &tab,
        "[...document.querySelectorAll('.verdict')].map(e => e.textContent.trim())",
    );

    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    std::fs::write(screenshot, png).unwrap();

    let mut requests = requests.lock().unwrap().clone();
    requests.extend(strings(&resources));
    let console_errors = errors.lock().unwrap().clone();
    Page {
        _browser: browser,
        tab,
        console_errors,
        requests,
        verdicts: strings(&verdicts),
    }
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Evaluates `expr` in the page; its value through JSON.
fn evaluate(tab: &Tab, expr: &str) -> Json {
    let result = tab
        .evaluate(&format!("JSON.stringify({expr})"), false)
        .unwrap_or_else(|e| panic!("{expr}: {e}"));
    let text = result.value.unwrap_or_else(|| panic!("{expr}: no value"));
    serde_json::from_str(text.as_str().unwrap()).unwrap()
}

impl Page {
    /// The chart with element id `id`; fails when it is not on the page.
    pub fn chart(&self, id: &str) -> ChartInfo {
        let v = evaluate(
            &self.tab,
            &format!(
                "(() => {{ const f = document.getElementById('{id}'); if (!f) return null; \
                 return {{points: +f.dataset.points, total: +f.dataset.total, \
                 circles: f.querySelectorAll('svg circle').length, svg: f.querySelectorAll('svg').length}}; }})()"
            ),
        );
        assert!(!v.is_null(), "chart #{id} is not on the page");
        assert_eq!(v["svg"], 1, "chart #{id} holds one SVG");
        ChartInfo {
            points: v["points"].as_u64().unwrap() as usize,
            total: v["total"].as_u64().unwrap(),
            circles: v["circles"].as_u64().unwrap() as usize,
        }
    }

    /// The x-axis texts of chart `id`, left to right: plotters centres tick
    /// labels (and the axis' title) under the plot, unrotated; the caption,
    /// also centred, is at the top and left out.
    pub fn x_ticks(&self, id: &str) -> Vec<String> {
        strings(&evaluate(
            &self.tab,
            &format!(
                "[...document.getElementById('{id}').querySelectorAll('svg text')]\
                 .filter(e => e.getAttribute('text-anchor') === 'middle' && !e.hasAttribute('transform') \
                 && +e.getAttribute('y') > 40).map(e => e.textContent.trim())"
            ),
        ))
    }

    /// The attribute `name` of the first element matching `selector` ("" when none).
    pub fn attr(&self, selector: &str, name: &str) -> String {
        evaluate(
            &self.tab,
            &format!(
                "((document.querySelector({selector:?}) || {{getAttribute: () => ''}}).getAttribute({name:?}) || '')"
            ),
        )
        .as_str()
        .unwrap()
        .to_string()
    }

    /// How many elements match `selector`.
    pub fn count(&self, selector: &str) -> usize {
        evaluate(
            &self.tab,
            &format!("document.querySelectorAll({selector:?}).length"),
        )
        .as_u64()
        .unwrap() as usize
    }

    /// The text of the first element matching `selector` ("" when none).
    pub fn text(&self, selector: &str) -> String {
        evaluate(
            &self.tab,
            &format!(
                "(document.querySelector({selector:?}) || {{textContent: ''}}).textContent.trim()"
            ),
        )
        .as_str()
        .unwrap()
        .to_string()
    }
}
