//! LiveCodeBench execution throughput against the worker count, on synthetic
//! problems in the real `code_generation_lite` format (half with private tests
//! compressed as the dataset stores them: base64 of zlib of a pickled str).
//!
//! `cargo run --release -p eval --example lcb_bench [-- [--dump JOBS.json] SAMPLES TESTS WORKERS...]`
//! (default: 48 samples of 10 tests, workers 1 2 4). Each sample is a correct
//! solution (half stdin, half LeetCode-style) run in its own sandboxed python3,
//! as `eval --lcb-dir` runs them; the official timeouts apply. `--dump` also
//! writes the samples (code, inputs, outputs, fn_name) for
//! `bench/lcb_official_bench.py`, which runs them through the official harness.

use std::io::Write;
use std::time::Instant;

use eval::lcb::{self, LcbConfig, LcbProblems};
use serde_json::json;

/// LiveCodeBench execution throughput against the worker count.
#[derive(clap::Parser)]
struct Args {
    /// Also write the samples (code, inputs, outputs, fn_name) here, for
    /// `bench/lcb_official_bench.py`.
    #[arg(long, value_name = "JOBS.json")]
    dump: Option<String>,
    /// Samples to run (half stdin, half LeetCode-style).
    #[arg(default_value_t = 48)]
    samples: usize,
    /// Tests per sample.
    #[arg(default_value_t = 10)]
    tests: usize,
    /// Worker counts to time, one run each.
    #[arg(default_values_t = [1, 2, 4])]
    workers: Vec<usize>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        dump,
        samples,
        tests,
        workers,
    } = <Args as clap::Parser>::parse();
    let dir = tempfile::tempdir()?;
    write_problems(&dir.path().join("test.jsonl"), tests)?;
    let problems = LcbProblems::load(dir.path())?;
    let stdin_code = "import sys\ndef main():\n    data = sys.stdin.read().split()\n    n = int(data[0])\n    print(sum(int(x) for x in data[1:n + 1]))\n\nif __name__ == '__main__':\n    main()\n";
    let call_code = "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n                return [seen[target - x], i]\n            seen[x] = i\n        return []\n";
    let jobs: Vec<lcb::Job<'_>> = (0..samples)
        .map(|i| {
            let (id, code) = if i % 2 == 0 {
                ("sum", stdin_code)
            } else {
                ("two_sum", call_code)
            };
            lcb::Job {
                problem: problems.get(id).expect("written above"),
                code,
            }
        })
        .collect();
    let total_tests: usize = jobs.iter().map(|j| j.problem.n_tests).sum();
    if let Some(path) = dump {
        let mut samples = Vec::new();
        for job in &jobs {
            let (public, private) = job.problem.tests_json()?;
            let mut tests: Vec<serde_json::Value> = serde_json::from_str(public)?;
            tests.extend(serde_json::from_str::<Vec<serde_json::Value>>(&private)?);
            samples.push(json!({
                "code": job.code,
                "fn_name": job.problem.fn_name,
                "inputs": tests.iter().map(|t| t["input"].clone()).collect::<Vec<_>>(),
                "outputs": tests.iter().map(|t| t["output"].clone()).collect::<Vec<_>>(),
            }));
        }
        std::fs::write(&path, serde_json::to_vec(&samples)?)?;
    }
    println!(
        "{samples} samples, {total_tests} tests; {} cores available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| workers | wall s | samples/s | tests/s |");
    println!("|---|---|---|---|");
    for w in workers {
        let config = LcbConfig {
            workers: w,
            ..LcbConfig::default()
        };
        let start = Instant::now();
        let runs =
            lcb::run_jobs(&jobs, &config, |_, _| {}).map_err(|e| format!("pool stopped: {e:?}"))?;
        let secs = start.elapsed().as_secs_f64();
        if let Some((i, r)) = runs.iter().enumerate().find(|(_, r)| !r.passed) {
            return Err(format!("sample {i} failed: {r:?}").into());
        }
        println!(
            "| {w} | {secs:.2} | {:.1} | {:.1} |",
            samples as f64 / secs,
            total_tests as f64 / secs
        );
    }
    Ok(())
}

/// Two problems: "sum" (stdin, private tests compressed) and "two_sum"
/// (call-based, private tests plain JSON), each with `tests` tests.
fn write_problems(path: &std::path::Path, tests: usize) -> std::io::Result<()> {
    let mut sum_tests = Vec::new();
    let mut pair_tests = Vec::new();
    for t in 0..tests {
        let nums: Vec<i64> = (0..(200 + 37 * t as i64))
            .map(|x| (x * 7919) % 1000 - 500)
            .collect();
        let text: Vec<String> = nums.iter().map(i64::to_string).collect();
        sum_tests.push(json!({
            "input": format!("{}\n{}\n", nums.len(), text.join(" ")),
            "output": format!("{}\n", nums.iter().sum::<i64>()),
            "testtype": "stdin",
        }));
        let nums: Vec<i64> = (0..(100 + 10 * t as i64))
            .map(|x| (x * 7919) % 10007)
            .collect();
        let target = nums[t % 7] + nums[nums.len() - 1 - t % 5];
        pair_tests.push(json!({
            "input": format!("{}\n{target}", json!(nums)),
            "output": json!(two_sum(&nums, target)).to_string(),
            "testtype": "functional",
        }));
    }
    let split = |v: &[serde_json::Value]| {
        let k = v.len().min(2);
        (json!(v[..k]).to_string(), json!(v[k..]).to_string())
    };
    let (sum_public, sum_private) = split(&sum_tests);
    let (pair_public, pair_private) = split(&pair_tests);
    let mut out = std::fs::File::create(path)?;
    for (id, fn_name, public, private) in [
        ("sum", None, sum_public, compress(&sum_private)),
        ("two_sum", Some("twoSum"), pair_public, pair_private),
    ] {
        let metadata = match fn_name {
            Some(f) => json!({ "func_name": f }),
            None => json!({}),
        };
        let line = json!({
            "question_id": id,
            "public_test_cases": public,
            "private_test_cases": private,
            "metadata": metadata.to_string(),
        });
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The answer the benchmark's solution gives (first pair found scanning left to right).
fn two_sum(nums: &[i64], target: i64) -> Vec<usize> {
    let mut seen = std::collections::HashMap::new();
    for (i, &x) in nums.iter().enumerate() {
        if let Some(&j) = seen.get(&(target - x)) {
            return vec![j, i];
        }
        seen.insert(x, i);
    }
    vec![]
}

/// base64(zlib(pickle(text))), as the dataset stores private tests
/// (`pickle.dumps(text, protocol=4)` for a str under 4 GiB: `X` + length).
fn compress(text: &str) -> String {
    let mut pickle = b"\x80\x04X".to_vec();
    pickle.extend((text.len() as u32).to_le_bytes());
    pickle.extend(text.as_bytes());
    pickle.push(b'.');
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&pickle).expect("writing to memory");
    let bytes = z.finish().expect("writing to memory");
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
