//! The compressed form of LiveCodeBench's `private_test_cases`: base64 of zlib of
//! a Python pickle of one `str` (the JSON test list). Decoded here without a
//! Python: base64 as `base64.b64decode` (non-alphabet characters skipped),
//! zlib, and a pickle reader that accepts only the opcodes of a pickled `str`,
//! so nothing in the data is ever executed.

use flate2::{Decompress, FlushDecompress, Status};

/// base64 → bytes, as Python's `base64.b64decode(s)` (`validate=False`): bytes
/// outside the alphabet are skipped, `=` that cannot be padding is skipped, and
/// decoding stops where padding completes a quantum.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    fn value(b: u8) -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits, mut data, mut pads) = (0u32, 0u32, 0usize, 0usize);
    for &b in text.as_bytes() {
        if b == b'=' {
            pads += 1;
            match data % 4 {
                2 if pads >= 2 => return Ok(out),
                3 => return Ok(out),
                _ => continue,
            }
        }
        let Some(v) = value(b) else { continue };
        pads = 0;
        data += 1;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    match data % 4 {
        0 => Ok(out),
        1 => Err(format!(
            "base64: {data} data characters cannot be 1 more than a multiple of 4"
        )),
        _ => Err("base64: incorrect padding".into()),
    }
}

/// zlib → bytes (`zlib.decompress`): the stream must be complete.
pub fn zlib_decompress(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut inflater = Decompress::new(true);
    let mut out = Vec::with_capacity(data.len() * 4);
    loop {
        if out.capacity() - out.len() < 64 * 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let consumed = inflater.total_in() as usize;
        let status = inflater
            .decompress_vec(&data[consumed..], &mut out, FlushDecompress::None)
            .map_err(|e| format!("zlib: {e}"))?;
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok => {}
            // No progress although there is room: the input ended early.
            Status::BufError => return Err("zlib: incomplete or truncated stream".into()),
        }
    }
}

/// The `str` of a pickle holding exactly one string (any protocol from 2 on;
/// `FRAME` and memo opcodes are allowed), as a slice of `data`.
pub fn unpickle_str(data: &[u8]) -> Result<&str, String> {
    let mut pos = 0usize;
    let take = |n: usize, pos: &mut usize| -> Result<&[u8], String> {
        let end = pos
            .checked_add(n)
            .filter(|&e| e <= data.len())
            .ok_or("pickle: truncated")?;
        let s = &data[*pos..end];
        *pos = end;
        Ok(s)
    };
    let le = |b: &[u8]| b.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64) as usize;
    let mut value: Option<&[u8]> = None;
    loop {
        let op = take(1, &mut pos)?[0];
        match op {
            0x80 => {
                take(1, &mut pos)?; // PROTO n
            }
            0x95 => {
                take(8, &mut pos)?; // FRAME length
            }
            0x94 => {} // MEMOIZE
            b'q' => {
                take(1, &mut pos)?; // BINPUT
            }
            b'r' => {
                take(4, &mut pos)?; // LONG_BINPUT
            }
            0x8c | b'X' | 0x8d if value.is_none() => {
                let width = match op {
                    0x8c => 1,
                    b'X' => 4,
                    _ => 8,
                };
                let n = le(take(width, &mut pos)?);
                value = Some(take(n, &mut pos)?);
            }
            b'.' => {
                let bytes = value.ok_or("pickle: holds no string")?;
                return std::str::from_utf8(bytes)
                    .map_err(|e| format!("pickle: string is not UTF-8: {e}"));
            }
            other => {
                return Err(format!(
                "pickle: opcode 0x{other:02x} at byte {}: not a pickled str (nothing was executed)",
                pos - 1
            ))
            }
        }
    }
}

/// zlib → pickle of an already base64-decoded value.
pub fn decode_compressed(compressed: &[u8]) -> Result<String, String> {
    let pickled = zlib_decompress(compressed)?;
    unpickle_str(&pickled).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_like_python() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8h").unwrap(), b"hello!");
        assert!(base64_decode("aGVsbG8").unwrap_err().contains("padding"));
        assert!(base64_decode("aGVsb")
            .unwrap_err()
            .contains("multiple of 4"));
        // Python stops at completed padding and skips stray '='.
        assert_eq!(base64_decode("aG==VsbG8=").unwrap(), b"h");
        assert_eq!(base64_decode("aG=Vs").unwrap(), b"hel");
        assert_eq!(base64_decode("=aGVs=bG8h").unwrap(), b"hello!");
    }

    #[test]
    fn pickled_strings() {
        // pickle.dumps("hi", protocol=4) and protocol 2 (BINUNICODE), both from Python 3.11.
        let p4 = b"\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02hi\x94.";
        assert_eq!(unpickle_str(p4).unwrap(), "hi");
        let p2 = b"\x80\x02X\x02\x00\x00\x00hiq\x00.";
        assert_eq!(unpickle_str(p2).unwrap(), "hi");
        // A call (os.system) is refused, not run.
        let evil = b"\x80\x04cos\nsystem\n\x8c\x02id\x85R.";
        assert!(unpickle_str(evil)
            .unwrap_err()
            .contains("not a pickled str"));
        assert!(unpickle_str(b"\x80\x04\x8c\x05hi")
            .unwrap_err()
            .contains("truncated"));
    }

    #[test]
    fn zlib_round_trip_and_truncation() {
        use std::io::Write;
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let text = "x".repeat(300_000);
        enc.write_all(text.as_bytes()).unwrap();
        let z = enc.finish().unwrap();
        assert_eq!(zlib_decompress(&z).unwrap(), text.as_bytes());
        assert!(zlib_decompress(&z[..z.len() / 2])
            .unwrap_err()
            .contains("truncated"));
    }
}
