//! Real-format `/metrics` pages of SGLang 0.5.23, vLLM 0.34.0,
//! TensorRT-LLM and dcgm-exporter (tests/data, provenance in each page's
//! header; the server pages written by prometheus_client 0.26.0 through
//! tests/py/make_pages.py): our parser must read every sample exactly as
//! prometheus_client's own parser does, and the common names must follow
//! each server's definitions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use telemetry::names::{common_values, Server};
use telemetry::{dcgm_watts, Page};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn page(name: &str) -> Page {
    Page::parse(&std::fs::read_to_string(data(name)).unwrap())
}

/// `name{labels sorted}` → value, as prometheus_client reads the page.
fn official(name: &str) -> BTreeMap<String, f64> {
    let probe = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "this test needs python3 with prometheus_client: pip install prometheus_client==0.26.0"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/prom_dump.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(data(name))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, labels, value): (String, BTreeMap<String, String>, String) =
                serde_json::from_str(line).unwrap();
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            (
                format!("{name}{{{}}}", labels.join(",")),
                value.parse().unwrap(),
            )
        })
        .collect()
}

fn ours(page: &Page) -> BTreeMap<String, f64> {
    page.series
        .iter()
        .map(|s| {
            let mut labels: Vec<String> =
                s.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            labels.sort();
            (format!("{}{{{}}}", s.name, labels.join(",")), s.value)
        })
        .collect()
}

const PAGES: [&str; 7] = [
    "sglang_0.5.23_t0.txt",
    "sglang_0.5.23_t1.txt",
    "vllm_0.34.0_t0.txt",
    "vllm_0.34.0_t1.txt",
    "trtllm_t0.txt",
    "trtllm_t1.txt",
    "dcgm_exporter.txt",
];

#[test]
fn every_page_reads_as_prometheus_client_reads_it() {
    for name in PAGES {
        let parsed = page(name);
        assert!(parsed.problems.is_empty(), "{name}: {:?}", parsed.problems);
        let (ours, theirs) = (ours(&parsed), official(name));
        assert!(!theirs.is_empty(), "{name}");
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (key, value) in &theirs {
            assert_eq!(ours[key].to_bits(), value.to_bits(), "{name}: {key}");
        }
    }
}

#[test]
fn each_server_is_told_by_its_names() {
    for (name, server) in [
        ("sglang_0.5.23_t0.txt", Some(Server::Sglang)),
        ("vllm_0.34.0_t0.txt", Some(Server::Vllm)),
        ("trtllm_t0.txt", Some(Server::Trtllm)),
        ("dcgm_exporter.txt", None),
    ] {
        assert_eq!(Server::detect(&page(name)), server, "{name}");
    }
}

/// One series of the official reading by name (its only label set).
fn value(page: &BTreeMap<String, f64>, name: &str) -> f64 {
    let mut hits = page
        .iter()
        .filter(|(k, _)| k.split('{').next() == Some(name));
    let (_, v) = hits.next().unwrap_or_else(|| panic!("{name} missing"));
    assert!(hits.next().is_none(), "{name}: one label set expected");
    *v
}

/// The common values of the t1 page, two seconds after t0.
fn common(server: Server, prefix: &str) -> BTreeMap<&'static str, f64> {
    let (t0, t1) = (
        page(&format!("{prefix}_t0.txt")),
        page(&format!("{prefix}_t1.txt")),
    );
    common_values(server, &t1, Some((&t0, 2.0)))
        .into_iter()
        .collect()
}

#[track_caller]
fn close(got: &BTreeMap<&str, f64>, want: &[(&str, f64)]) {
    let keys: Vec<&str> = want.iter().map(|(k, _)| *k).collect();
    assert_eq!(got.keys().copied().collect::<Vec<_>>(), {
        let mut k = keys.clone();
        k.sort();
        k
    });
    for (k, v) in want {
        assert!(
            (got[k] - v).abs() <= 1e-9 * v.abs().max(1.0),
            "{k}: {} vs {v}",
            got[k]
        );
    }
}

#[test]
fn sglang_gauges_are_taken_as_they_are() {
    let p = official("sglang_0.5.23_t1.txt");
    close(
        &common(Server::Sglang, "sglang_0.5.23"),
        &[
            ("running", value(&p, "sglang:num_running_reqs")),
            ("queued", value(&p, "sglang:num_queue_reqs")),
            ("kv_usage", value(&p, "sglang:token_usage")),
            ("prefix_hit_rate", value(&p, "sglang:cache_hit_rate")),
            ("gen_tokens_per_s", value(&p, "sglang:gen_throughput")),
            ("spec_accept_length", value(&p, "sglang:spec_accept_length")),
            ("spec_accept_rate", value(&p, "sglang:spec_accept_rate")),
            (
                "preemptions",
                value(&p, "sglang:num_retracted_requests_total"),
            ),
        ],
    );
}

#[test]
fn vllm_rates_and_ratios_come_from_counter_increases() {
    let (a, b) = (
        official("vllm_0.34.0_t0.txt"),
        official("vllm_0.34.0_t1.txt"),
    );
    let d = |n: &str| value(&b, n) - value(&a, n);
    close(
        &common(Server::Vllm, "vllm_0.34.0"),
        &[
            ("running", value(&b, "vllm:num_requests_running")),
            ("queued", value(&b, "vllm:num_requests_waiting")),
            ("kv_usage", value(&b, "vllm:kv_cache_usage_perc")),
            (
                "prefix_hit_rate",
                d("vllm:prefix_cache_hits_total") / d("vllm:prefix_cache_queries_total"),
            ),
            ("gen_tokens_per_s", d("vllm:generation_tokens_total") / 2.0),
            // vllm/v1/spec_decode/metrics.py: 1 + accepted / drafts, accepted / draft tokens.
            (
                "spec_accept_length",
                1.0 + d("vllm:spec_decode_num_accepted_tokens_total")
                    / d("vllm:spec_decode_num_drafts_total"),
            ),
            (
                "spec_accept_rate",
                d("vllm:spec_decode_num_accepted_tokens_total")
                    / d("vllm:spec_decode_num_draft_tokens_total"),
            ),
            ("preemptions", value(&b, "vllm:num_preemptions_total")),
        ],
    );
    // The first scrape has no previous one: gauges only.
    let first: BTreeMap<_, _> = common_values(Server::Vllm, &page("vllm_0.34.0_t0.txt"), None)
        .into_iter()
        .collect();
    assert_eq!(
        first.keys().copied().collect::<Vec<_>>(),
        ["kv_usage", "preemptions", "queued", "running"]
    );
}

#[test]
fn trtllm_mixes_gauges_and_counter_ratios() {
    let (a, b) = (official("trtllm_t0.txt"), official("trtllm_t1.txt"));
    let d = |n: &str| value(&b, n) - value(&a, n);
    close(
        &common(Server::Trtllm, "trtllm"),
        &[
            ("running", value(&b, "trtllm_num_requests_running")),
            ("queued", value(&b, "trtllm_num_requests_waiting")),
            ("kv_usage", value(&b, "trtllm_kv_cache_utilization")),
            ("prefix_hit_rate", value(&b, "trtllm_kv_cache_hit_rate")),
            (
                "gen_tokens_per_s",
                d("trtllm_generation_tokens_total") / 2.0,
            ),
            (
                "spec_accept_length",
                value(&b, "trtllm_spec_decode_acceptance_length"),
            ),
            (
                "spec_accept_rate",
                d("trtllm_spec_decode_num_accepted_tokens_total")
                    / d("trtllm_spec_decode_num_draft_tokens_total"),
            ),
            ("paused", value(&b, "trtllm_num_paused_requests")),
        ],
    );
}

#[test]
fn dcgm_power_is_read_per_gpu_and_host() {
    let theirs = official("dcgm_exporter.txt");
    let want: BTreeMap<String, f64> = theirs
        .iter()
        .filter(|(k, _)| k.starts_with("DCGM_FI_DEV_POWER_USAGE{"))
        .map(|(k, v)| {
            let label = |l: &str| {
                let at = k.find(&format!("{l}=\"")).unwrap() + l.len() + 2;
                k[at..].split('"').next().unwrap().to_string()
            };
            (format!("{}:{}", label("Hostname"), label("gpu")), *v)
        })
        .collect();
    assert_eq!(want.len(), 3);
    assert_eq!(dcgm_watts(&page("dcgm_exporter.txt")), want);
}

#[test]
fn a_counter_that_went_down_gives_no_rate() {
    // The t1 page scraped first: every counter "decreases", as after a restart.
    let (t0, t1) = (page("vllm_0.34.0_t0.txt"), page("vllm_0.34.0_t1.txt"));
    let got: BTreeMap<_, _> = common_values(Server::Vllm, &t0, Some((&t1, 2.0)))
        .into_iter()
        .collect();
    for key in [
        "gen_tokens_per_s",
        "prefix_hit_rate",
        "spec_accept_rate",
        "spec_accept_length",
    ] {
        assert!(!got.contains_key(key), "{key}: {got:?}");
    }
}
