//! A small seeded random number generator (SplitMix64), so generated data
//! depends on the seed alone and not on any crate's version.

/// SplitMix64: fast, seedable, good enough for shaping test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A uniform integer in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Whether an event of probability `p` happens.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A geometric count (failures before the first success) with the
    /// given mean, capped at `cap`.
    pub fn geometric(&mut self, mean: f64, cap: usize) -> usize {
        let p = 1.0 / (mean + 1.0);
        let mut k = 0;
        while k < cap && !self.chance(p) {
            k += 1;
        }
        k
    }

    /// An index in `0..n` skewed towards 0 (`n` > 0): `n * u^skew`, so with
    /// `skew` 3 half the picks land in the first eighth. Low indices are the
    /// popular packages.
    pub fn popular(&mut self, n: usize, skew: f64) -> usize {
        ((n as f64 * self.unit().powf(skew)) as usize).min(n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_mean_is_close() {
        let mut rng = Rng::new(7);
        let n = 20_000;
        let sum: usize = (0..n).map(|_| rng.geometric(3.0, 1000)).sum();
        let mean = sum as f64 / n as f64;
        assert!((2.8..3.2).contains(&mean), "{mean}");
    }

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<u64> = (0..5)
            .scan(Rng::new(1), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(Rng::new(1), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
    }
}
