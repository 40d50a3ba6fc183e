//! For tests (feature `testing`): strings near the valid shapes of a field, from a small
//! deterministic generator (xorshift), so that the shares of accepted cases a test asserts
//! are the same on every run.

/// A xorshift generator from its seed.
#[derive(Debug, Clone)]
pub struct Gen(pub u64);

impl Gen {
    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }

    /// `n` ASCII digits.
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    /// `valid` as it is (half the time), or with one character of `pool` inserted, or one
    /// character deleted or replaced by one of `pool`; and whether it was changed.
    pub fn mutated(&mut self, valid: &str, pool: &[char]) -> (String, bool) {
        let mut chars: Vec<char> = valid.chars().collect();
        if self.below(2) == 0 || chars.is_empty() || pool.is_empty() {
            return (valid.to_owned(), false);
        }
        let at = self.below(chars.len() as u64) as usize;
        let c = pool[self.below(pool.len() as u64) as usize];
        match self.below(3) {
            0 => chars.insert(at, c),
            1 => {
                chars.remove(at);
            }
            _ => chars[at] = c,
        }
        (chars.into_iter().collect(), true)
    }
}
