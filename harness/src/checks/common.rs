//! Helpers more than one check uses: deterministic bytes and inputs, and what the example guests
//! answer to them.

/// Deterministic, index-dependent bytes, so that a block overwritten by another shows.
pub fn pattern(seed: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|index| {
            let mixed = (index as u32)
                .wrapping_mul(31)
                .wrapping_add(seed.wrapping_mul(97));
            mixed.to_le_bytes()[0] ^ mixed.to_le_bytes()[1]
        })
        .collect()
}

/// A small deterministic generator (xorshift32): the same sizes on every run.
#[derive(Debug, Clone)]
pub struct Xorshift(u32);

impl Xorshift {
    /// A generator started from `seed` (0 is replaced by 1).
    #[must_use]
    pub fn new(seed: u32) -> Self {
        Self(seed.max(1))
    }

    /// The next value.
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// A value below `bound` (which must not be 0).
    pub fn below(&mut self, bound: u32) -> u32 {
        self.next_u32() % bound
    }

    /// A mixed input length: mostly small, some of a few KiB, a few up to 64 KiB.
    pub fn mixed_len(&mut self) -> usize {
        let len = match self.below(100) {
            0..70 => self.below(65),
            70..95 => 64 + self.below(4096 - 64),
            _ => 4096 + self.below(65_536 - 4096),
        };
        usize::try_from(len).unwrap_or(0)
    }
}

/// Characters for `upper`'s inputs: ASCII, and ones whose upper case is longer or different.
const TEXT: [char; 12] = ['a', 'z', 'Q', '0', ' ', 'ß', 'é', 'ǆ', 'ﬃ', 'σ', 'ж', '😀'];

/// An input of about `len` bytes for `guest`.
pub fn input(guest: &str, len: usize, random: &mut Xorshift) -> Vec<u8> {
    if guest == "upper" {
        let mut text = String::with_capacity(len + 4);
        while text.len() < len {
            text.push(TEXT[random.below(12) as usize]);
        }
        text.into_bytes()
    } else {
        (0..len)
            .map(|_| random.next_u32().to_le_bytes()[0])
            .collect()
    }
}

/// What `guest` must return for `input`.
pub fn expected(guest: &str, input: &[u8]) -> Vec<u8> {
    if guest == "upper" {
        String::from_utf8_lossy(input).to_uppercase().into_bytes()
    } else {
        input.to_vec()
    }
}
