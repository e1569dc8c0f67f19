//! `systems/<SYS>.json`: the keys the v6.1 checker requires
//! (`SYSTEM_DESC_REQUIRED_FIELDS`, the non-empty subset, the allowed values),
//! what can be read off this host (CPU, memory, OS, storage, GPUs through
//! `nvidia-smi`), and the template a submitter fills for the rest.

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use serde_json::{Map, Value};

/// Every key the checker requires (v6.1 `SYSTEM_DESC_REQUIRED_FIELDS`).
pub const REQUIRED: [&str; 35] = [
    "division",
    "submitter",
    "status",
    "system_name",
    "number_of_nodes",
    "host_processor_model_name",
    "host_processors_per_node",
    "host_processor_core_count",
    "host_memory_capacity",
    "host_storage_capacity",
    "host_storage_type",
    "accelerators_per_node",
    "accelerator_model_name",
    "accelerator_memory_capacity",
    "framework",
    "operating_system",
    "system_type",
    "other_software_stack",
    "host_processor_frequency",
    "host_processor_caches",
    "host_memory_configuration",
    "host_processor_interconnect",
    "host_networking",
    "host_networking_topology",
    "accelerator_frequency",
    "accelerator_host_interconnect",
    "accelerator_interconnect",
    "accelerator_interconnect_topology",
    "accelerator_memory_configuration",
    "accelerator_on-chip_memories",
    "cooling",
    "hw_notes",
    "sw_notes",
    "host_network_card_count",
    "system_type_detail",
];

/// The keys that must not be empty (`SYSTEM_DESC_MEANINGFUL_RESPONSE_REQUIRED_FIELDS`).
pub const MEANINGFUL: [&str; 26] = [
    "division",
    "submitter",
    "system_type",
    "status",
    "system_name",
    "number_of_nodes",
    "host_processor_model_name",
    "host_processors_per_node",
    "host_processor_core_count",
    "host_memory_capacity",
    "host_memory_configuration",
    "host_storage_capacity",
    "host_storage_type",
    "host_networking",
    "host_network_card_count",
    "host_networking_topology",
    "accelerators_per_node",
    "accelerator_model_name",
    "accelerator_memory_capacity",
    "accelerator_host_interconnect",
    "accelerator_memory_configuration",
    "accelerator_interconnect",
    "cooling",
    "framework",
    "operating_system",
    "other_software_stack",
];

/// Allowed `status` values (lower-cased).
pub const STATUSES: [&str; 3] = ["available", "preview", "rdi"];
/// Allowed `system_type` values.
pub const SYSTEM_TYPES: [&str; 4] = ["datacenter", "edge", "datacenter,edge", "edge,datacenter"];

/// One problem of a systems json: (key, expected, found).
pub type KeyProblem = (String, String, String);

/// What is wrong with a systems json for this division and submitter.
pub fn problems(desc: &Map<String, Value>, division: &str, org: &str) -> Vec<KeyProblem> {
    let mut out = Vec::new();
    let text = |key: &str| desc.get(key).map(value_text);
    for key in REQUIRED {
        if !desc.contains_key(key) {
            out.push((key.into(), "present".into(), "missing".into()));
        }
    }
    for key in MEANINGFUL {
        if text(key).is_some_and(|v| v.trim().is_empty()) {
            out.push((key.into(), "a non-empty value".into(), "\"\"".into()));
        }
    }
    let mut expect = |key: &str, ok: &dyn Fn(&str) -> bool, expected: String| {
        if let Some(found) = text(key).filter(|v| !v.trim().is_empty()) {
            if !ok(&found) {
                out.push((key.into(), expected, found));
            }
        }
    };
    expect(
        "status",
        &|v| STATUSES.contains(&v.to_lowercase().as_str()),
        STATUSES.join(" | "),
    );
    expect(
        "system_type",
        &|v| SYSTEM_TYPES.contains(&v),
        SYSTEM_TYPES.join(" | "),
    );
    expect(
        "submitter",
        &|v| v.eq_ignore_ascii_case(org),
        format!("{org} (the folder name)"),
    );
    expect("division", &|v| v == division, division.to_string());
    for key in ["number_of_nodes", "accelerators_per_node"] {
        expect(
            key,
            &|v| v.trim().parse::<i64>().is_ok(),
            "an integer".into(),
        );
    }
    out
}

/// A value as text: strings as they are, numbers as written.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The systems json for a run: what this host shows, the submitter's file on
/// top, and the run's own facts (division, submitter, name from the command
/// line) over both. Returns it with the keys still missing or empty.
pub fn compose(
    detected: &Map<String, Value>,
    user: &Map<String, Value>,
    division: &str,
    org: &str,
    system: &str,
) -> (Map<String, Value>, Vec<String>) {
    let mut desc = Map::new();
    for key in REQUIRED {
        desc.insert(key.into(), Value::String(String::new()));
    }
    for (k, v) in detected {
        desc.insert(k.clone(), v.clone());
    }
    for (k, v) in user {
        desc.insert(k.clone(), v.clone());
    }
    desc.insert("division".into(), division.into());
    desc.insert("submitter".into(), org.into());
    desc.insert("system_name".into(), system.into());
    let missing = MEANINGFUL
        .iter()
        .filter(|k| {
            desc.get(**k)
                .is_none_or(|v| value_text(v).trim().is_empty())
        })
        .map(|k| k.to_string())
        .collect();
    (desc, missing)
}

/// What this host shows: CPU model, sockets, cores, memory, OS, storage of
/// `storage_of`, and the GPUs, driver and CUDA versions through `nvidia-smi`.
pub fn detect(storage_of: &Path) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            m.insert(k.into(), Value::String(v));
        }
    };
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    };
    put("host_processor_model_name", field("model name"));
    let sockets = {
        let mut ids: Vec<&str> = cpuinfo
            .lines()
            .filter(|l| l.starts_with("physical id"))
            .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len().max(1)
    };
    put("host_processors_per_node", Some(sockets.to_string()));
    let cores = field("cpu cores").and_then(|c| c.parse::<usize>().ok());
    put("host_processor_core_count", cores.map(|c| c.to_string()));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix("MemTotal:")?;
        rest.trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()
    });
    put(
        "host_memory_capacity",
        mem_kib.map(|k| format!("{} GB", k / 1_000_000)),
    );
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                Some(
                    l.strip_prefix("PRETTY_NAME=")?
                        .trim_matches('"')
                        .to_string(),
                )
            })
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok();
    put(
        "operating_system",
        os.map(|o| match &kernel {
            Some(k) => format!("{o} (kernel {})", k.trim()),
            None => o,
        }),
    );
    put("host_storage_capacity", storage_capacity(storage_of));
    put("host_storage_type", storage_type());
    put("system_type", Some("datacenter".into()));
    put("number_of_nodes", Some("1".into()));
    put(
        "framework",
        Some(format!("mlperf-gptoss {}", env!("CARGO_PKG_VERSION"))),
    );
    if let Some(gpus) = nvidia_smi() {
        for (k, v) in gpus {
            put(k, Some(v));
        }
    } else {
        put("accelerators_per_node", Some("0".into()));
    }
    m
}

/// Output of a command, if it ran and succeeded.
fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn storage_capacity(path: &Path) -> Option<String> {
    let absolute = std::env::current_dir().ok()?.join(path);
    let path = absolute.ancestors().find(|p| p.exists())?;
    let text = command_output("df", &["-Pk", path.to_str()?])?;
    let kib: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(format!("{} GB", kib * 1024 / 1_000_000_000))
}

fn storage_type() -> Option<String> {
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir("/sys/block").ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram") {
            continue;
        }
        let rotational = std::fs::read_to_string(entry.path().join("queue/rotational")).ok();
        let kind = match (
            name.starts_with("nvme"),
            rotational.as_deref().map(str::trim),
        ) {
            (true, _) => "NVMe SSD",
            (false, Some("0")) => "SSD",
            (false, Some("1")) => "HDD",
            _ => continue,
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    (!kinds.is_empty()).then(|| kinds.join(", "))
}

/// GPU keys from `nvidia-smi`, when it is installed and sees GPUs.
fn nvidia_smi() -> Option<Vec<(&'static str, String)>> {
    let list = command_output(
        "nvidia-smi",
        &[
            "--query-gpu=name,memory.total,driver_version",
            "--format=csv,noheader",
        ],
    )?;
    let rows: Vec<Vec<String>> = list
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|c| c.trim().to_string()).collect())
        .collect();
    let first = rows.first()?;
    let header = command_output("nvidia-smi", &[]).unwrap_or_default();
    let cuda = header
        .split("CUDA Version:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next().map(str::to_string));
    let mut out = vec![
        ("accelerators_per_node", rows.len().to_string()),
        (
            "accelerator_model_name",
            first.first().cloned().unwrap_or_default(),
        ),
        (
            "accelerator_memory_capacity",
            first.get(1).cloned().unwrap_or_default(),
        ),
    ];
    let driver = first.get(2).cloned().unwrap_or_default();
    out.push((
        "other_software_stack",
        match cuda {
            Some(c) => format!("NVIDIA driver {driver}, CUDA {c}"),
            None => format!("NVIDIA driver {driver}"),
        },
    ));
    Some(out)
}

/// Reads the submitter's system json (an object), naming the file on error.
pub fn read_user(path: &Path) -> anyhow::Result<Map<String, Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => anyhow::bail!("{}: expected a JSON object of system keys", path.display()),
        Err(e) => anyhow::bail!("{}: not valid JSON: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_meaningful_key_is_required() {
        for key in MEANINGFUL {
            assert!(REQUIRED.contains(&key), "{key}");
        }
    }

    #[test]
    fn compose_names_what_is_still_missing() {
        let (desc, missing) = compose(&Map::new(), &Map::new(), "closed", "Org", "sys");
        assert_eq!(desc.len(), REQUIRED.len());
        assert!(missing.contains(&"cooling".to_string()));
        assert!(!missing.contains(&"submitter".to_string()));
        let found = problems(&desc, "closed", "org");
        assert!(found.iter().any(|p| p.0 == "cooling"));
        assert!(
            !found.iter().any(|p| p.0 == "submitter"),
            "case-insensitive"
        );
    }
}
