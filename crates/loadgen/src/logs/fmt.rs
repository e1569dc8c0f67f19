//! Number formatting of LoadGen's logs: C++ stream defaults (`%g`, six
//! significant digits) and `fixed` with two decimals.

/// C++ default stream formatting of a double (`%g`, precision 6).
pub fn g6(v: f64) -> String {
    g(v, 6)
}

/// `%.{p}g`.
pub fn g(v: f64, p: usize) -> String {
    if let Some(text) = non_finite(v) {
        return text;
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

/// How C's printf writes NaN and infinities (the sign of a NaN kept).
fn non_finite(v: f64) -> Option<String> {
    if v.is_nan() {
        Some(if v.is_sign_negative() { "-nan" } else { "nan" }.into())
    } else if v.is_infinite() {
        Some(if v < 0.0 { "-inf" } else { "inf" }.into())
    } else {
        None
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
    if let Some(text) = non_finite(v) {
        return text;
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
    fn non_finite_and_zero_as_glibc_printf() {
        // `printf '%g|%g|%g|%g|%g|%.2f' nan -nan -inf 0 -0 inf` with glibc.
        let got = [
            g6(f64::NAN),
            g6(-f64::NAN),
            g6(f64::NEG_INFINITY),
            g6(0.0),
            g6(-0.0),
            f2(f64::INFINITY),
        ];
        assert_eq!(got, ["nan", "-nan", "-inf", "0", "-0", "inf"]);
    }

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
