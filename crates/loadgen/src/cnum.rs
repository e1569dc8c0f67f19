//! C number parsing as LoadGen's config reader sees it.
//!
//! LoadGen accepts a config value only if `strtoul(base 0)` or `strtod`
//! consumes the whole token, then reads integer keys with `strtoull` and
//! double keys with `strtod` — each taking only the longest valid prefix.
//! So `010` is 8 as an integer but 10.0 as a double, and `1.9e3` is 1 as an
//! integer. These functions return the value and how many bytes were used.

/// The prefix both `strto*` functions skip before the digits: leading
/// whitespace, then one optional sign. Returns (negative, index after it).
fn space_and_sign(b: &[u8]) -> (bool, usize) {
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let neg = b.get(i) == Some(&b'-');
    if neg || b.get(i) == Some(&b'+') {
        i += 1;
    }
    (neg, i)
}

/// `strtoull(s, &end, 0)`: (value, bytes consumed). 0 bytes = no number.
pub fn strtoull(s: &str) -> (u64, usize) {
    let b = s.as_bytes();
    let (neg, i) = space_and_sign(b);
    let (base, start) = if i + 1 < b.len()
        && b[i] == b'0'
        && (b[i + 1] | 0x20) == b'x'
        && b.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit())
    {
        (16u64, i + 2)
    } else if i < b.len() && b[i] == b'0' {
        (8, i)
    } else {
        (10, i)
    };
    let mut j = start;
    let mut value: u64 = 0;
    let mut overflow = false;
    while j < b.len() {
        let d = match (b[j] as char).to_digit(base as u32) {
            Some(d) => u64::from(d),
            None => break,
        };
        match value.checked_mul(base).and_then(|v| v.checked_add(d)) {
            Some(v) => value = v,
            None => overflow = true,
        }
        j += 1;
    }
    if j == start {
        return (0, 0);
    }
    if overflow {
        return (u64::MAX, j);
    }
    (if neg { value.wrapping_neg() } else { value }, j)
}

/// `strtod(s, &end)` in the C locale: (value, bytes consumed).
pub fn strtod(s: &str) -> (f64, usize) {
    let b = s.as_bytes();
    let (neg, i) = space_and_sign(b);
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let lower = rest.to_ascii_lowercase();
    if lower.starts_with("infinity") {
        return (sign * f64::INFINITY, i + 8);
    }
    if lower.starts_with("inf") {
        return (sign * f64::INFINITY, i + 3);
    }
    if lower.starts_with("nan") {
        let mut end = i + 3;
        if b.get(end) == Some(&b'(') {
            let mut k = end + 1;
            while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
                k += 1;
            }
            if b.get(k) == Some(&b')') {
                end = k + 1;
            }
        }
        return (f64::NAN, end);
    }
    if lower.starts_with("0x") {
        if let Some((v, used)) = hex_float(&b[i + 2..]) {
            return (sign * v, i + 2 + used);
        }
        // "0x" without hex digits: only the "0" is a number.
        return (sign * 0.0, i + 1);
    }
    let digits = |from: usize| {
        let mut k = from;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        k
    };
    let int_end = digits(i);
    let mut end = int_end;
    let mut frac = "";
    if end < b.len() && b[end] == b'.' {
        let frac_end = digits(end + 1);
        frac = &s[end + 1..frac_end];
        end = frac_end;
    }
    let int = &s[i..int_end];
    if int.is_empty() && frac.is_empty() {
        return (0.0, 0);
    }
    let mut exp = "0";
    if end < b.len() && (b[end] | 0x20) == b'e' {
        let mut k = end + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        let exp_end = digits(k);
        if exp_end > k {
            exp = &s[end + 1..exp_end];
            end = exp_end;
        }
    }
    let int = if int.is_empty() { "0" } else { int };
    let frac = if frac.is_empty() { "0" } else { frac };
    let text = format!("{int}.{frac}e{exp}");
    let v: f64 = text.parse().unwrap_or(f64::INFINITY);
    (sign * v, end)
}

/// The part of a hex float after "0x": digits, optional fraction, optional
/// binary exponent. None if there is no hex digit.
fn hex_float(b: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let mut mant = 0f64;
    let mut any = false;
    let mut scale = 0i32;
    while i < b.len() && b[i].is_ascii_hexdigit() {
        mant = mant * 16.0 + f64::from((b[i] as char).to_digit(16)?);
        any = true;
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        let mut k = i + 1;
        while k < b.len() && b[k].is_ascii_hexdigit() {
            mant = mant * 16.0 + f64::from((b[k] as char).to_digit(16)?);
            scale -= 4;
            any = true;
            k += 1;
        }
        if any {
            i = k;
        }
    }
    if !any {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'p' {
        let mut k = i + 1;
        let mut eneg = false;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            eneg = b[k] == b'-';
            k += 1;
        }
        let start = k;
        let mut e: i32 = 0;
        while k < b.len() && b[k].is_ascii_digit() {
            e = e.saturating_mul(10).saturating_add(i32::from(b[k] - b'0'));
            k += 1;
        }
        if k > start {
            scale = scale.saturating_add(if eneg { -e } else { e });
            i = k;
        }
    }
    Some((mant * 2f64.powi(scale), i))
}

/// True if the whole token is a number to LoadGen's config reader.
pub fn is_config_number(token: &str) -> bool {
    let (_, used) = strtoull(token);
    if used == token.len() && used > 0 {
        return true;
    }
    let (_, used) = strtod(token);
    used == token.len() && used > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_prefixes() {
        for (input, expected) in [
            ("010", (8, 3)),
            ("0x10", (16, 4)),
            ("1.9e3", (1, 1)),
            ("0x", (0, 1)),
            ("-1", (u64::MAX, 2)),
            ("99999999999999999999999", (u64::MAX, 23)),
            ("abc", (0, 0)),
        ] {
            assert_eq!(strtoull(input), expected, "{input}");
        }
    }

    #[test]
    fn double_prefixes() {
        for (input, expected) in [
            ("010", (10.0, 3)),
            ("1.9e3", (1900.0, 5)),
            ("1e", (1.0, 1)),
            (".5", (0.5, 2)),
            ("0x1p3", (8.0, 5)),
            ("2.5x", (2.5, 3)),
        ] {
            assert_eq!(strtod(input), expected, "{input}");
        }
    }

    #[test]
    fn whole_tokens() {
        assert!(is_config_number("7"));
        assert!(is_config_number("1.0"));
        assert!(is_config_number("0x1F"));
        assert!(!is_config_number("#"));
        assert!(!is_config_number("7a"));
        // Not octal, but a valid double: accepted, and read as integer 0.
        assert!(is_config_number("08"));
        assert_eq!(strtoull("08"), (0, 1));
    }
}
