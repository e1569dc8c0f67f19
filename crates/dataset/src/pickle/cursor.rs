//! Reading the pickle byte stream: fixed-width little-endian arguments, length-prefixed
//! strings, text lines, and Python's variable-length ints. Every read is bounds-checked,
//! so a truncated file is an error, never a panic.

use super::vm::VmError;

pub(super) struct Cursor<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], VmError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(VmError::Corrupt(format!(
                "the file ends at byte {} but {} more bytes are needed from byte {}",
                self.data.len(),
                n,
                self.pos
            ))),
        }
    }
    pub fn u8(&mut self) -> Result<u8, VmError> {
        Ok(self.take(1)?[0])
    }
    pub fn le<const N: usize>(&mut self) -> Result<[u8; N], VmError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    pub fn len4(&mut self) -> Result<usize, VmError> {
        Ok(u32::from_le_bytes(self.le::<4>()?) as usize)
    }
    pub fn len8(&mut self) -> Result<usize, VmError> {
        usize::try_from(u64::from_le_bytes(self.le::<8>()?))
            .map_err(|_| VmError::Corrupt("a length does not fit in memory".into()))
    }
    pub fn line(&mut self) -> Result<&'a str, VmError> {
        let rest = &self.data[self.pos..];
        let n = rest.iter().position(|&b| b == b'\n').ok_or_else(|| {
            VmError::Corrupt("the file ends early (text argument without newline)".into())
        })?;
        let s = std::str::from_utf8(&rest[..n])
            .map_err(|_| VmError::Corrupt("a text argument is not UTF-8".into()))?;
        self.pos += n + 1;
        Ok(s)
    }
}

pub(super) fn utf8(b: &[u8]) -> Result<String, VmError> {
    String::from_utf8(b.to_vec())
        .map_err(|_| VmError::Corrupt("a string is not valid UTF-8".into()))
}

/// Decodes a little-endian two's complement integer of any length (LONG1/LONG4).
pub(super) fn long(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() {
        return Some(0);
    }
    if bytes.len() > 8 {
        let sign = if bytes[bytes.len() - 1] & 0x80 != 0 {
            0xff
        } else {
            0
        };
        // Longer encodings are fine when the extra bytes are pure sign extension.
        if bytes[8..].iter().any(|&b| b != sign) {
            return None;
        }
        let v = i64::from_le_bytes(bytes[..8].try_into().ok()?);
        return ((v < 0) == (sign == 0xff)).then_some(v);
    }
    let fill = if bytes[bytes.len() - 1] & 0x80 != 0 {
        0xff
    } else {
        0
    };
    let mut a = [fill; 8];
    a[..bytes.len()].copy_from_slice(bytes);
    Some(i64::from_le_bytes(a))
}
