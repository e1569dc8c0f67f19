//! The random-number primitives LoadGen uses, reproduced bit for bit.
//!
//! LoadGen draws every sample order and schedule from `std::mt19937` through
//! libstdc++'s `uniform_int_distribution`, `std::shuffle`,
//! `generate_canonical` and `exponential_distribution`. The orders depend on
//! those exact algorithms (GCC 12–14, 64-bit `uint_fast32_t`), so a generic
//! RNG crate would not reproduce them; each primitive here follows
//! libstdc++ step by step, consuming the engine in the same order.

/// `std::mt19937`: the 32-bit Mersenne Twister with the standard constants.
#[derive(Clone)]
pub struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl Mt19937 {
    /// Seeds like `std::mt19937(seed)`: only the low 32 bits of a 64-bit
    /// seed reach the state (LoadGen passes `uint64_t` seeds).
    pub fn new(seed: u64) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed as u32;
        for i in 1..624 {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { state, index: 624 }
    }

    /// The default-constructed engine (`std::mt19937{}`, seed 5489).
    pub fn default_seeded() -> Self {
        Self::new(5489)
    }

    fn twist(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        for i in 0..624 {
            let y = (self.state[i] & UPPER) | (self.state[(i + 1) % 624] & LOWER);
            let mut v = self.state[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= 0x9908_b0df;
            }
            self.state[i] = v;
        }
        self.index = 0;
    }

    /// One engine output (`g()`).
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }
}

/// `uniform_int_distribution{a, b}(g)` for a range of at most 2^32 values,
/// using libstdc++'s Lemire path (one multiply, rejection below the
/// threshold).
pub fn uniform_int(g: &mut Mt19937, a: u64, b: u64) -> u64 {
    let n = b - a + 1;
    if n == 1 << 32 {
        return a + u64::from(g.next_u32());
    }
    let n32 = n as u32;
    let mut prod = u64::from(g.next_u32()) * u64::from(n32);
    let mut low = prod as u32;
    if low < n32 {
        let thr = n32.wrapping_neg() % n32;
        while low < thr {
            prod = u64::from(g.next_u32()) * u64::from(n32);
            low = prod as u32;
        }
    }
    a + (prod >> 32)
}

/// `std::shuffle(v.begin(), v.end(), g)` as libstdc++ does it: two swap
/// positions per draw while `n*n` fits the engine's range, else one.
pub fn shuffle<T>(v: &mut [T], g: &mut Mt19937) {
    let n = v.len() as u64;
    if n < 2 {
        return;
    }
    if u64::from(u32::MAX) / n >= n {
        let mut i = 1usize;
        if n % 2 == 0 {
            let j = uniform_int(g, 0, 1) as usize;
            v.swap(1, j);
            i = 2;
        }
        while (i as u64) < n {
            let r = i as u64 + 1;
            let x = uniform_int(g, 0, r * (r + 1) - 1);
            v.swap(i, (x / (r + 1)) as usize);
            i += 1;
            v.swap(i, (x % (r + 1)) as usize);
            i += 1;
        }
    } else {
        for i in 1..v.len() {
            let j = uniform_int(g, 0, i as u64) as usize;
            v.swap(i, j);
        }
    }
}

/// `generate_canonical<double, 53>(g)`: two engine calls combined in double.
pub fn generate_canonical(g: &mut Mt19937) -> f64 {
    let g1 = f64::from(g.next_u32());
    let g2 = f64::from(g.next_u32());
    let s = g1 + g2 * 4_294_967_296.0;
    let r = s / 18_446_744_073_709_551_616.0;
    if r >= 1.0 {
        // nextafter(1.0, 0.0)
        f64::from_bits(1.0f64.to_bits() - 1)
    } else {
        r
    }
}

/// `exponential_distribution<double>(lambda)(g)`.
pub fn exponential(g: &mut Mt19937, lambda: f64) -> f64 {
    -(1.0 - generate_canonical(g)).ln() / lambda
}

/// `duration_cast<nanoseconds>(duration<double>(seconds))`: scale, then
/// truncate toward zero (saturating where C++ would be undefined).
pub fn seconds_to_ns(seconds: f64) -> i64 {
    (seconds * 1e9) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_reference_output() {
        // The C++ standard fixes the 10000th output of a default mt19937.
        let mut g = Mt19937::default_seeded();
        for _ in 0..9999 {
            g.next_u32();
        }
        assert_eq!(g.next_u32(), 4_123_659_995);
    }

    #[test]
    fn shuffle_small_lengths_are_permutations() {
        let mut g = Mt19937::new(1);
        for n in 0..40usize {
            let mut v: Vec<usize> = (0..n).collect();
            shuffle(&mut v, &mut g);
            v.sort_unstable();
            assert_eq!(v, (0..n).collect::<Vec<_>>());
        }
    }
}
