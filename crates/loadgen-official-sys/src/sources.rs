//! The official LoadGen sources on disk: which layout they come in, the
//! SHA-1 record LoadGen keeps of its own files, and checking the files
//! against it. Shared by `build.rs` (which refuses to compile a modified
//! tree) and this crate's tests.
// Without the feature only the tests use this module, and not all of it.
#![cfg_attr(not(feature = "official"), allow(dead_code))]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

/// The library sources `setup.py` compiles, bindings left out
/// (`python_api.cc` needs pybind11; our own shim replaces `c_api.cc`).
pub const LIB_SOURCES: [&str; 8] = [
    "early_stopping.cc",
    "issue_query_controller.cc",
    "loadgen.cc",
    "logging.cc",
    "test_settings_internal.cc",
    "utils.cc",
    "version.cc",
    "results.cc",
];

/// Where the sources come from, which decides where the generated files are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The extracted PyPI sdist: `generated/version_generated.cc` and
    /// `mlperf_conf.h` ship with it and are compiled as shipped.
    Sdist,
    /// A git checkout's `loadgen/` folder: both files are generated, outside
    /// the checkout, by LoadGen's own `version_generator.py`.
    Checkout,
}

/// The shipped version record of an sdist.
pub const SHIPPED_VERSION_CC: &str = "generated/version_generated.cc";

/// Decides the layout of `root`, or says why it is no LoadGen source tree.
pub fn layout(root: &Path) -> Result<Layout, String> {
    if !root.join("loadgen.h").is_file() {
        return Err(format!(
            "{} has no loadgen.h: point MLPERF_LOADGEN_SRC at an extracted \
             mlcommons-loadgen sdist (scripts/fetch-official-loadgen.sh) or at \
             the loadgen/ folder of a checkout of mlcommons/inference",
            root.display()
        ));
    }
    Ok(if root.join(SHIPPED_VERSION_CC).is_file() {
        Layout::Sdist
    } else {
        Layout::Checkout
    })
}

/// One line of LoadGen's SHA-1 record: a file (relative to the LoadGen
/// root, as `/name` or `/bindings/name`) and its SHA-1 in hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The name as recorded, with its leading `/`.
    pub name: String,
    /// Lower-case hex.
    pub sha1: String,
}

/// Reads the file list out of `LoadgenSha1OfFiles()` in a
/// `version_generated.cc`, the record LoadGen logs as `loadgen_file_sha1`.
pub fn parse_sha1_record(version_cc: &str) -> Result<Vec<Recorded>, String> {
    const OPEN: &str = "R\"LGVG_RSLD(";
    const CLOSE: &str = ")LGVG_RSLD\"";
    let func = version_cc
        .find("LoadgenSha1OfFiles()")
        .ok_or("it defines no LoadgenSha1OfFiles()")?;
    let body = &version_cc[func..];
    let start = body
        .find(OPEN)
        .ok_or("LoadgenSha1OfFiles() has no raw string")?
        + OPEN.len();
    let len = body[start..]
        .find(CLOSE)
        .ok_or("LoadgenSha1OfFiles()'s raw string is not closed")?;
    let mut record = Vec::new();
    for (i, line) in body[start..start + len].lines().enumerate() {
        let parsed = line.split_once(' ').filter(|(hex, name)| {
            hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && name.starts_with('/')
        });
        let Some((hex, name)) = parsed else {
            return Err(format!(
                "line {} of LoadgenSha1OfFiles() is not `<sha1> /<file>`: {line:?}",
                i + 1
            ));
        };
        record.push(Recorded {
            name: name.to_string(),
            sha1: hex.to_ascii_lowercase(),
        });
    }
    if record.is_empty() {
        return Err("LoadgenSha1OfFiles() lists no files".into());
    }
    Ok(record)
}

/// SHA-1 of a file's bytes, in lower-case hex (what `version_generator.py` records).
pub fn sha1_hex(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let digest = Sha1::digest(&bytes);
    let mut hex = String::with_capacity(40);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    Ok(hex)
}

/// Checks every recorded file that is present under `root` against its
/// SHA-1 (an sdist ships a subset of the checkout the record was made in),
/// and that every file the build compiles or includes is recorded. Returns
/// the files checked; the error names each offending file.
pub fn verify(root: &Path, record: &[Recorded]) -> Result<Vec<PathBuf>, String> {
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for entry in record {
        let path = root.join(entry.name.trim_start_matches('/'));
        if !path.is_file() {
            continue;
        }
        let actual = sha1_hex(&path)?;
        if actual != entry.sha1 {
            problems.push(format!(
                "{} has SHA-1 {actual}, but LoadGen's own record says {}",
                path.display(),
                entry.sha1
            ));
        }
        checked.push(path);
    }
    for needed in compiled_files(root)? {
        if !checked.contains(&needed) {
            problems.push(format!(
                "{} is compiled but missing from LoadGen's SHA-1 record",
                needed.display()
            ));
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(format!(
            "the LoadGen sources in {} are not the ones their version record describes \
             (a build from altered sources is not a valid LoadGen); use an unmodified copy \
             (scripts/fetch-official-loadgen.sh, or a clean checkout of an approved tag):\n  {}",
            root.display(),
            problems.join("\n  ")
        ))
    }
}

/// The files that go into the library: its sources and every header beside them.
fn compiled_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = LIB_SOURCES.iter().map(|s| root.join(s)).collect();
    let entries =
        std::fs::read_dir(root).map_err(|e| format!("listing {}: {e}", root.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("listing {}: {e}", root.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "h") && path.is_file() {
            files.push(path);
        }
    }
    Ok(files)
}

/// `mlperf_conf.h` as `setup.py` writes it: mlperf.conf as one C string
/// named `mlperf_conf`, one source line per config line.
pub fn mlperf_conf_header(conf: &str) -> String {
    let escaped = conf
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n\"\n\"");
    format!("const char* mlperf_conf =\n\"{escaped}\";\n")
}
