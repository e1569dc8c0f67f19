//! Number formatting of LoadGen's logs: C++ stream defaults (`%g`, six
//! significant digits) and `fixed` with two decimals.

/// C++ default stream formatting of a double (`%g`, precision 6).
pub fn g6(v: f64) -> String {
    g(v, 6)
}

/// `%.{p}g`.
pub fn g(v: f64, p: usize) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let p = p.max(1);
    let sci = format!("{:.*e}", p - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    if x < -4 || x >= p as i32 {
        let mant = strip_zeros(mant);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", x.abs())
    } else {
        let prec = (p as i32 - 1 - x).max(0) as usize;
        strip_zeros(&format!("{v:.prec$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// C++ `std::fixed << std::setprecision(2)`.
pub fn f2(v: f64) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf".into() } else { "inf".into() };
    }
    format!("{v:.2}")
}

/// C++ `std::fixed << std::setprecision(1)`.
pub fn f1(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g6_matches_loadgen_examples() {
        // Examples from loadgen.md §9.
        assert_eq!(g6(101910.0), "101910");
        assert_eq!(g6(2018.0712), "2018.07");
        assert_eq!(g6(1_103_700.0), "1.1037e+06");
        assert_eq!(g6(1.907_96e-5), "1.90796e-05");
        assert_eq!(g6(0.99), "0.99");
        assert_eq!(g6(1.0), "1");
        assert_eq!(g6(0.0001), "0.0001");
        assert_eq!(g6(999_999.5), "1e+06");
    }

    #[test]
    fn f2_fixed() {
        assert_eq!(f2(12.345_6), "12.35");
        assert_eq!(f2(0.0), "0.00");
    }
}
