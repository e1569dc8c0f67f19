//! Accuracy-log truncation as the official `truncate_accuracy_log.py` does it:
//! the sha256 of the full `mlperf_log_accuracy.json` goes into `accuracy.txt`
//! (appended as `\nhash=<hex>\n`; TEST07/TEST09 get an `accuracy.txt` holding
//! only `hash=<hex>\n`), and the json becomes its first 4096 characters,
//! `\n\n...\n\n` and its last 4096. Unlike the script, the full log is moved
//! beside the tree ([`super::layout::full_copy_of`]) rather than left to a backup flag.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};

/// The checker refuses accuracy logs of this size or more ("is not truncated").
pub const MAX_ACCURACY_LOG_SIZE: u64 = 10 * 1024;
/// Characters kept from each end.
const VIEWABLE_SIZE: usize = 4096;
/// The accuracy log's file name.
pub const ACCURACY_LOG: &str = "mlperf_log_accuracy.json";

/// Which `accuracy/` folder: a scenario's (hash appended to the scorer's
/// accuracy.txt) or a compliance test's (accuracy.txt holds only the hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `<Scenario>/accuracy/`.
    Accuracy,
    /// `<Scenario>/TEST07/accuracy/` or `TEST09/accuracy/`.
    Compliance,
}

/// The sha256 of a file as lowercase hex.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first `hash=<hex>` line of an accuracy.txt (the script's `^hash=([\w\d]+)$`).
pub fn hash_line(accuracy_txt: &str) -> Option<&str> {
    accuracy_txt.split_inclusive('\n').find_map(|line| {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let value = line.strip_prefix("hash=")?;
        (!value.is_empty() && value.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .then_some(value)
    })
}

/// The truncated text of a log: unchanged below 4096 bytes (the script returns
/// early), else the first 4096 characters, `\n\n...\n\n`, and the characters read
/// from byte offset `size - 4096` (the script reads in text mode after a byte seek).
pub fn truncated(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() < VIEWABLE_SIZE {
        return bytes.to_vec();
    }
    let text = String::from_utf8_lossy(bytes);
    let start: String = text.chars().take(VIEWABLE_SIZE).collect();
    let tail = String::from_utf8_lossy(&bytes[bytes.len() - VIEWABLE_SIZE..]);
    let end: String = tail.chars().take(VIEWABLE_SIZE).collect();
    let mut out = start.into_bytes();
    out.extend_from_slice(b"\n\n...\n\n");
    out.extend_from_slice(end.as_bytes());
    out
}

/// Truncates `<acc_dir>/mlperf_log_accuracy.json` after moving the full log to
/// `full_copy`, and writes the hash into `<acc_dir>/accuracy.txt`. Skips a folder
/// that already has a hash and a log under 10 KiB, as the script does. Returns
/// the hash, or `None` when it skipped.
pub fn truncate_accuracy_dir(
    acc_dir: &Path,
    kind: Kind,
    full_copy: &Path,
) -> anyhow::Result<Option<String>> {
    let log = acc_dir.join(ACCURACY_LOG);
    let txt = acc_dir.join("accuracy.txt");
    let size = std::fs::metadata(&log)
        .with_context(|| format!("{} is missing", log.display()))?
        .len();
    let existing = std::fs::read_to_string(&txt).unwrap_or_default();
    if kind == Kind::Accuracy && hash_line(&existing).is_some() && size < MAX_ACCURACY_LOG_SIZE {
        return Ok(None);
    }
    if let Some(dir) = full_copy.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Copy, then truncate: the full log is never lost if this stops half-way.
    std::fs::copy(&log, full_copy)
        .with_context(|| format!("keeping the full log at {}", full_copy.display()))?;
    let hash = sha256_file(full_copy)?;
    let text = match kind {
        Kind::Accuracy => {
            anyhow::ensure!(
                txt.is_file(),
                "{} missing: score the accuracy log before truncating it",
                txt.display()
            );
            format!("{existing}\nhash={hash}\n")
        }
        Kind::Compliance => format!("hash={hash}\n"),
    };
    write_atomic(&txt, text.as_bytes())?;
    let bytes =
        std::fs::read(full_copy).with_context(|| format!("reading {}", full_copy.display()))?;
    write_atomic(&log, &truncated(&bytes))?;
    Ok(Some(hash))
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp: PathBuf = {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".tmp");
        path.with_file_name(name)
    };
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_lines_as_the_script_matches_them() {
        assert_eq!(hash_line("'exact_match': 1.0\n\nhash=ab12\n"), Some("ab12"));
        assert_eq!(hash_line("hash=ab12"), Some("ab12"));
        assert_eq!(hash_line(" hash=ab12\nhash=\nhash=a b\n"), None);
    }

    #[test]
    fn short_logs_stay_whole_and_long_ones_keep_both_ends() {
        assert_eq!(truncated(b"[]"), b"[]".to_vec());
        let long: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let cut = truncated(&long);
        assert_eq!(cut.len(), 4096 + 7 + 4096);
        assert_eq!(&cut[..4096], &long[..4096]);
        assert_eq!(&cut[4096..4103], b"\n\n...\n\n");
        assert_eq!(&cut[4103..], &long[long.len() - 4096..]);
    }
}
