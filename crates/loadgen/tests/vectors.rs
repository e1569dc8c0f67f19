//! Every list in `shared/vectors/loadgen_vectors.json` (produced by the
//! official LoadGen 6.0.17 wheel) reproduced by this crate.

use loadgen::__private::Mt19937;
use loadgen::__private::{generate_queries, loadable_sets};
use loadgen::{
    plan, resolve_settings, ConfigFiles, EffectiveSettings, Mode, Scenario, TestSettings,
};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/loadgen_vectors.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn list(v: &Value, key: &str) -> Vec<u64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} missing"))
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// gpt-oss-120b settings from the built-in mlperf.conf, as the reference
/// harness gets them.
fn settings(scenario: Scenario, mode: Mode, qps: f64, min_duration_ms: u64) -> TestSettings {
    let base = TestSettings {
        scenario,
        mode,
        ..TestSettings::default()
    };
    let mut s = resolve_settings(base, "gpt-oss-120b", ConfigFiles::default())
        .unwrap()
        .settings;
    s.server_target_qps = qps;
    s.offline_expected_qps = qps;
    s.min_duration_ms = min_duration_ms;
    s
}

fn flat(p: &loadgen::Plan) -> Vec<u64> {
    p.series
        .iter()
        .flat_map(|s| s.generated.queries.iter())
        .flat_map(|q| q.indices.iter().map(|&i| i as u64))
        .collect()
}

#[test]
fn seeds_and_first_outputs() {
    let v = vectors();
    let s = settings(Scenario::Server, Mode::PerformanceOnly, 1.0, 600_000);
    assert_eq!(s.qsl_rng_seed, v["seeds"]["qsl_rng_seed"].as_u64().unwrap());
    assert_eq!(
        s.sample_index_rng_seed,
        v["seeds"]["sample_index_rng_seed"].as_u64().unwrap()
    );
    assert_eq!(
        s.schedule_rng_seed,
        v["seeds"]["schedule_rng_seed"].as_u64().unwrap()
    );
    // loadgen.md §13 (first outputs of each engine).
    let mut g = Mt19937::new(s.qsl_rng_seed);
    assert_eq!(
        [g.next_u32(), g.next_u32(), g.next_u32()],
        [144363858, 3947231266, 1102009372]
    );
    let mut g = Mt19937::new(s.sample_index_rng_seed);
    assert_eq!(
        [g.next_u32(), g.next_u32(), g.next_u32()],
        [3434217556, 4095560906, 2166191286]
    );
    let mut g = Mt19937::new(s.schedule_rng_seed);
    assert_eq!(
        [g.next_u32(), g.next_u32(), g.next_u32()],
        [3245365415, 3615339558, 1380029910]
    );
}

#[test]
fn performance_loaded_set() {
    let v = vectors();
    let s = settings(Scenario::Offline, Mode::PerformanceOnly, 10.0, 600_000);
    let p = plan(&s, 6396, 6396).unwrap();
    let got: Vec<u64> = p.series[0].loaded.set.iter().map(|&i| i as u64).collect();
    assert_eq!(got, list(&v, "gpt_oss_perf_loaded_set_N6396"));
}

#[test]
fn offline_performance_order() {
    let v = vectors();
    let s = settings(Scenario::Offline, Mode::PerformanceOnly, 10.0, 600_000);
    let p = plan(&s, 6396, 6396).unwrap();
    let q = &p.series[0].generated.queries;
    assert_eq!(q.len(), 1);
    let first: Vec<u64> = q[0].indices[..6396].iter().map(|&i| i as u64).collect();
    assert_eq!(first, list(&v, "gpt_oss_offline_perf_query_order_N6396"));
    // floor(660 * 10) = 6600 samples, padded to 2 blocks of 6396.
    assert_eq!(p.series[0].generated.samples_per_query, 12792);
}

#[test]
fn server_performance_order_and_run() {
    let v = vectors();
    let run = &v["gpt_oss_server_perf_run_qps2000_min_duration4000ms"];
    let s = settings(Scenario::Server, Mode::PerformanceOnly, 2000.0, 4000);
    let p = plan(&s, 6396, 6396).unwrap();
    let g = &p.series[0].generated;
    assert_eq!(
        g.queries.len() as u64,
        run["generated_query_count"].as_u64().unwrap()
    );
    assert_eq!(
        g.duration_ns as u64,
        run["generated_query_duration_ns"].as_u64().unwrap()
    );
    let order = flat(&p);
    assert_eq!(
        order[..6396],
        list(&v, "gpt_oss_server_perf_order_first_cycle_N6396")[..]
    );
    assert!(run["second_cycle_equals_first"].as_bool().unwrap());
    assert_eq!(order[6396..12792], order[..6396]);
}

#[test]
fn accuracy_sets_and_orders() {
    let v = vectors();
    let s = settings(Scenario::Offline, Mode::AccuracyOnly, 10.0, 600_000);
    let p = plan(&s, 4395, 4395).unwrap();
    assert_eq!(p.series.len(), 1);
    let loaded: Vec<u64> = p.series[0].loaded.set.iter().map(|&i| i as u64).collect();
    assert_eq!(loaded, list(&v, "gpt_oss_acc_loaded_set_N4395"));
    assert_eq!(flat(&p), list(&v, "gpt_oss_offline_acc_query_order_N4395"));

    let s = settings(Scenario::Server, Mode::AccuracyOnly, 2000.0, 600_000);
    let p = plan(&s, 4395, 4395).unwrap();
    assert_eq!(flat(&p), list(&v, "gpt_oss_server_acc_order_N4395"));
}

#[test]
fn test09_unique_order() {
    let v = vectors();
    let mut s = settings(Scenario::Server, Mode::PerformanceOnly, 2000.0, 0);
    // TEST09's audit.config.
    s.performance_issue_unique = true;
    s.sample_concatenate_permutation = false;
    s.min_query_count = 6396;
    let p = plan(&s, 6396, 6396).unwrap();
    assert_eq!(
        flat(&p),
        list(&v, "gpt_oss_server_TEST09_unique_order_N6396")
    );
}

#[test]
fn server_schedules() {
    let v = vectors();
    for (qps, key) in [
        (1.0, "server_schedule_ns_qps1_first20"),
        (2000.0, "server_schedule_ns_qps2000_first20"),
    ] {
        let s = settings(Scenario::Server, Mode::PerformanceOnly, qps, 600_000);
        let e = EffectiveSettings::new(&s, 6396, 6396);
        let sets = loadable_sets(&e, 6396, 6396);
        let g = generate_queries(&e, &sets[0], false).unwrap();
        let got: Vec<u64> = g.queries[..20].iter().map(|q| q.scheduled_ns).collect();
        assert_eq!(got, list(&v, key), "{key}");
    }
}

#[test]
fn early_stopping_h_of_t() {
    let v = vectors();
    let table = v["server_early_stopping_h_of_t_p0.99_c0.99"]
        .as_object()
        .expect("h(t) table");
    assert!(table.len() >= 13);
    for (t, h) in table {
        let t: i64 = t.parse().unwrap();
        assert_eq!(
            loadgen::__private::min_passing_queries(t, 0.99, 0.0, 0.99),
            h.as_i64().unwrap(),
            "h({t})"
        );
    }
}
