//! LoadGen's own words for a config file its `FromConfig` rejected.
//!
//! `FromConfig` logs each bad line to the detail log, which LoadGen only
//! writes once a test starts, and returns `-EINVAL`. We stop before the test
//! (a run with half-read settings wastes the cluster), so the messages are
//! rebuilt here by reading the file with `FromConfig`'s rules: whitespace
//! separated words; a lone `#` ends the line unless a value is expected;
//! `key = value...`, where each value must be read whole by C's `strtoul`
//! (base 0) or `strtod` — the C library's own functions, called directly.

use std::ffi::{c_char, c_int, c_ulong, CString};
use std::path::Path;

extern "C" {
    fn strtoul(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_ulong;
    fn strtod(s: *const c_char, end: *mut *mut c_char) -> f64;
}

/// Whether C's `f` reads all of `word`.
fn reads_whole(word: &str, f: impl Fn(*const c_char, *mut *mut c_char)) -> bool {
    let Ok(c) = CString::new(word) else {
        return false;
    };
    let mut end: *mut c_char = std::ptr::null_mut();
    f(c.as_ptr(), &mut end);
    // SAFETY: `end` points into `c` (or at its start) after the call.
    let used = unsafe { end.cast_const().offset_from(c.as_ptr()) };
    used == word.len() as isize
}

fn is_number(word: &str) -> bool {
    // SAFETY: `s` is a NUL-terminated string and `end` a valid out-pointer.
    reads_whole(word, |s, end| unsafe {
        strtoul(s, end, 0);
    }) || reads_whole(word, |s, end| unsafe {
        strtod(s, end);
    })
}

/// The messages `FromConfig` logs for `text`, one per bad line, in order.
pub fn from_config_errors(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_nr = i + 1;
        let mut looking_for = 0;
        for word in line.split_ascii_whitespace() {
            if word == "#" && looking_for != 2 {
                break;
            }
            if looking_for == 2 {
                if is_number(word) {
                    continue;
                }
                errors.push(format!(
                    "value needs to be integer or double, line={line_nr}"
                ));
                break;
            }
            if looking_for == 1 && word != "=" {
                errors.push(format!("expected 'key=value', line={line_nr}"));
                break;
            }
            looking_for += 1;
        }
    }
    errors
}

/// What to tell the user about `path`, which `FromConfig` rejected with `rc`.
pub fn explain(which: &str, path: &Path, rc: &str) -> String {
    let errors = match std::fs::read_to_string(path) {
        Ok(text) if rc != "-2" => from_config_errors(&text),
        _ => vec![format!("can't open file {}", path.display())],
    };
    let listed = if errors.is_empty() {
        format!("FromConfig returned {rc}")
    } else {
        errors.join("; ")
    };
    format!(
        "the official LoadGen rejected {which} {} (FromConfig returned {rc}): {listed}; \
         every line must be `key = value` with an integer or double value",
        path.display()
    )
}
