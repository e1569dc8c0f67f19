//! Per-sequence key/value cache. Full-attention layers keep every position;
//! sliding-window layers keep only the last `window − 1` positions (plus the
//! chunk being processed), so their memory stays bounded however long the
//! sequence grows.

/// The cache of one layer of one sequence: rows of `kv_heads × head_dim`.
#[derive(Debug, Clone)]
pub(crate) struct LayerKv {
    window: Option<usize>,
    width: usize,
    /// Absolute position of the first row held.
    start: usize,
    k: Vec<f32>,
    v: Vec<f32>,
}

impl LayerKv {
    /// An empty cache; `window` is `Some` for a sliding-window layer.
    pub fn new(window: Option<usize>, width: usize) -> Self {
        LayerKv {
            window,
            width,
            start: 0,
            k: Vec::new(),
            v: Vec::new(),
        }
    }

    /// Appends the keys and values of new positions (rows of `width`).
    pub fn append(&mut self, k: &[f32], v: &[f32]) {
        self.k.extend_from_slice(k);
        self.v.extend_from_slice(v);
    }

    /// Absolute positions held: `start..end`.
    pub fn range(&self) -> (usize, usize) {
        (self.start, self.start + self.k.len() / self.width)
    }

    /// The key row of absolute position `pos`.
    pub fn key(&self, pos: usize) -> &[f32] {
        let i = (pos - self.start) * self.width;
        &self.k[i..i + self.width]
    }

    /// The value row of absolute position `pos`.
    pub fn value(&self, pos: usize) -> &[f32] {
        let i = (pos - self.start) * self.width;
        &self.v[i..i + self.width]
    }

    /// First key position visible to a query at `pos`.
    pub fn first_visible(&self, pos: usize) -> usize {
        match self.window {
            Some(w) => (pos + 1).saturating_sub(w),
            None => 0,
        }
    }

    /// Drops rows no future query can see. Compacts only once the dead rows
    /// outnumber the window, so the copy is amortized.
    pub fn trim(&mut self) {
        let Some(w) = self.window else { return };
        let (start, end) = self.range();
        let keep_from = (end + 1).saturating_sub(w);
        if keep_from > start && keep_from - start >= w.max(16) {
            let drop = (keep_from - start) * self.width;
            self.k.drain(..drop);
            self.v.drain(..drop);
            self.start = keep_from;
        }
    }

    /// Rows currently held (for tests of the window bound).
    #[cfg(test)]
    fn rows(&self) -> usize {
        self.k.len() / self.width
    }
}

/// The cache of one sequence across all layers; made by
/// [`GptOss::new_cache`](crate::GptOss::new_cache) and advanced by each step
/// the sequence takes part in.
#[derive(Debug, Clone)]
pub struct KvCache {
    pub(crate) layers: Vec<LayerKv>,
    /// Tokens already processed = position of the next token.
    pub(crate) len: usize,
}

impl KvCache {
    pub(crate) fn new(sliding: &[bool], window: usize, width: usize) -> Self {
        KvCache {
            layers: sliding
                .iter()
                .map(|&s| LayerKv::new(s.then_some(window), width))
                .collect(),
            len: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_layer_stays_bounded_and_keeps_its_window() {
        let mut kv = LayerKv::new(Some(4), 1);
        for p in 0..1000 {
            kv.append(&[p as f32], &[p as f32]);
            kv.trim();
            assert!(kv.rows() <= 4 + 16, "{} rows held at {p}", kv.rows());
            let (s, e) = kv.range();
            assert_eq!(e, p + 1);
            assert!(s <= kv.first_visible(p + 1));
            assert_eq!(kv.key(p)[0], p as f32);
        }
    }
}
