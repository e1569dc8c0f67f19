//! Python's character classes for `str` patterns, as the official scorer's `re` sees them.
//!
//! * `\s` and `str.strip()`: `str.isspace()`.
//! * `\w` and `\b`: `str.isalnum()` or `_`.
//! * `\d`: `str.isdecimal()` (Unicode `Nd`), whose digits `int()` accepts too.
//! * `[a-zA-Z]`, `[A-D]`, literals under `re.IGNORECASE`: Python compares the simple
//!   lower-case of the subject character, and adds the extra case pairs of
//!   `sre_constants`/`_casefix` (`i`↔`ı`, `s`↔`ſ`), so `İ` (lower-cases to `i`), `ı`,
//!   `ſ` and `K` (Kelvin, lower-cases to `k`) are letters for those patterns.
//!
//! The three Unicode tables are data, generated from Python itself by
//! `data/gen_pychars.py` (see the first line of `data/pychars.txt` for the
//! Python and Unicode versions).

use std::sync::OnceLock;

struct Tables {
    word: Vec<(u32, u32)>,
    digit: Vec<(u32, u32)>,
    space: Vec<(u32, u32)>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = Tables {
            word: Vec::new(),
            digit: Vec::new(),
            space: Vec::new(),
        };
        for line in include_str!("../data/pychars.txt").lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split_ascii_whitespace();
            let (Some(class), Some(a), Some(b)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let (Ok(a), Ok(b)) = (u32::from_str_radix(a, 16), u32::from_str_radix(b, 16)) else {
                continue;
            };
            match class {
                "word" => t.word.push((a, b)),
                "digit" => t.digit.push((a, b)),
                "space" => t.space.push((a, b)),
                _ => {}
            }
        }
        t
    })
}

fn find(ranges: &[(u32, u32)], c: char) -> Option<(u32, u32)> {
    let cp = c as u32;
    let i = ranges.partition_point(|&(_, b)| b < cp);
    ranges.get(i).copied().filter(|&(a, _)| a <= cp)
}

/// `str.isspace()`: Python's `\s` and what `str.strip()` removes.
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        return matches!(c, '\t'..='\r' | '\u{1c}'..='\u{20}');
    }
    find(&tables().space, c).is_some()
}

/// Python's `\w` (`str.isalnum()` or `_`), which decides `\b`.
pub fn is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    find(&tables().word, c).is_some()
}

/// The value of a Python `\d` character (`str.isdecimal()`), or None.
pub fn digit_value(c: char) -> Option<u32> {
    if c.is_ascii() {
        return c.to_digit(10);
    }
    find(&tables().digit, c).map(|(a, _)| c as u32 - a)
}

/// A letter of `[a-zA-Z]` / `[^a-zA-Z]` under `re.IGNORECASE`.
pub fn is_letter_ci(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '\u{130}' | '\u{131}' | '\u{17f}' | '\u{212a}')
}

/// `c` matches the lower-case ASCII letter `lit` of a literal or range under
/// `re.IGNORECASE` (`lit` must be lower-case ASCII).
pub fn eq_ci(c: char, lit: char) -> bool {
    if c.is_ascii() {
        return c.to_ascii_lowercase() == lit;
    }
    match c {
        '\u{130}' | '\u{131}' => lit == 'i',
        '\u{17f}' => lit == 's',
        '\u{212a}' => lit == 'k',
        _ => false,
    }
}

/// `c` is in the class `[A-<last>]` under `re.IGNORECASE` (`last` upper-case ASCII).
pub fn in_range_ci(c: char, last: char) -> bool {
    let last = last.to_ascii_lowercase();
    ('a'..=last).any(|lit| eq_ci(c, lit))
}

/// Python `str.upper()` of one character.
pub fn upper(c: char) -> String {
    c.to_uppercase().collect()
}

/// Python `str.strip()` (no argument).
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// The character before byte offset `i` of `s`.
pub fn char_before(s: &str, i: usize) -> Option<char> {
    s[..i].chars().next_back()
}

/// The character at byte offset `i` of `s`.
pub fn char_at(s: &str, i: usize) -> Option<char> {
    s[i..].chars().next()
}

/// Python's `\b` at byte offset `i` of `s`.
pub fn word_boundary(s: &str, i: usize) -> bool {
    let before = char_before(s, i).is_some_and(is_word);
    let after = char_at(s, i).is_some_and(is_word);
    before != after
}

/// Skips Python `\s*` from byte offset `i`; returns the offset after it.
pub fn skip_space(s: &str, i: usize) -> usize {
    let rest = &s[i..];
    i + (rest.len() - rest.trim_start_matches(is_space).len())
}

/// Matches a case-insensitive ASCII word (given in lower case) at byte offset `i`;
/// returns the offset after it.
pub fn literal_ci(s: &str, i: usize, word: &str) -> Option<usize> {
    let mut chars = s[i..].char_indices();
    for lit in word.chars() {
        let (_, c) = chars.next()?;
        if !eq_ci(c, lit) {
            return None;
        }
    }
    Some(chars.next().map_or(s.len(), |(j, _)| i + j))
}

/// Python's `bytes.fromhex` refused its argument: the message Python's
/// `ValueError` carries, with the position in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotHex {
    /// Character index Python reports: the first non-ASCII character if there is
    /// one, else where a hex digit was expected.
    pub position: usize,
}

impl std::fmt::Display for NotHex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "non-hexadecimal number found in fromhex() arg at position {}",
            self.position
        )
    }
}

/// Python `bytes.fromhex(s)`: pairs of hex digits (either case), C `isspace`
/// (space, `\t`, `\n`, `\v`, `\f`, `\r`) allowed before each pair. A string with any
/// non-ASCII character fails at the first one, as CPython checks that first.
pub fn fromhex(s: &str) -> Result<Vec<u8>, NotHex> {
    if let Some(position) = s.chars().position(|c| !c.is_ascii()) {
        return Err(NotHex { position });
    }
    let b = s.as_bytes();
    let digit = |i: usize| match b.get(i) {
        Some(&c) if c.is_ascii_hexdigit() => Ok((c as char).to_digit(16).unwrap_or(0) as u8),
        _ => Err(NotHex { position: i }),
    };
    let mut out = Vec::with_capacity(b.len() / 2);
    let mut i = 0;
    while i < b.len() {
        if matches!(b[i], b' ' | b'\t'..=b'\r') {
            i += 1;
            continue;
        }
        out.push(digit(i)? << 4 | digit(i + 1)?);
        i += 2;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_python() {
        // str.isspace(): the file separators count, ZERO WIDTH SPACE does not.
        assert!(is_space('\u{1f}') && is_space('\u{3000}') && is_space('\u{85}'));
        assert!(!is_space('\u{200b}') && !is_space('\u{feff}'));
        // isalnum(): letters and all numerics; combining marks are not.
        assert!(is_word('é') && is_word('中') && is_word('²') && is_word('٣'));
        assert!(!is_word('\u{301}') && !is_word('-') && !is_word('€'));
        assert_eq!(digit_value('٣'), Some(3));
        assert_eq!(digit_value('𝟗'), Some(9));
        assert_eq!(digit_value('²'), None); // isdigit but not isdecimal
        assert!(is_letter_ci('K') && is_letter_ci('ſ') && !is_letter_ci('é'));
        assert!(in_range_ci('ı', 'J') && !in_range_ci('ı', 'D') && in_range_ci('d', 'D'));
        assert_eq!(upper('ı'), "I");
        assert_eq!(upper('\u{130}'), "\u{130}");
        assert_eq!(literal_ci("ANſWER:", 0, "answer"), Some(7));
        assert_eq!(strip("\u{a0} x \u{1c}"), "x");
    }
}
