//! The token vocabulary that generative recommenders use for semantic IDs.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SemidError};

/// Maps semantic-ID digits to token ids.
///
/// Token 0 is PAD (also the decoder start token). Digit `d < levels` with code `c` is
/// token `1 + d*K + c`; the identification digit (`d = levels`) with value `c` is
/// token `1 + levels*K + c`, where `c < id_size`. BOS and EOS follow. With the
/// default `id_size = K` this is the reference layout: BOS = 4K+1, EOS = 4K+2,
/// vocabulary 4K+3 for three levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenLayout {
    levels: usize,
    codebook_size: usize,
    id_size: usize,
}

impl TokenLayout {
    /// A layout with `levels` code digits of `codebook_size` values each, plus an
    /// identification digit of `codebook_size` values.
    pub fn new(levels: usize, codebook_size: usize) -> Result<Self> {
        Self::with_id_size(levels, codebook_size, codebook_size)
    }

    /// Like [`TokenLayout::new`], with an identification digit holding `id_size` values
    /// (wider than the codebook when many items share one code prefix).
    pub fn with_id_size(levels: usize, codebook_size: usize, id_size: usize) -> Result<Self> {
        if levels == 0 || codebook_size == 0 || id_size == 0 {
            return Err(SemidError::Config(format!(
                "token layout needs levels, codebook size and id size > 0 (got {levels}, {codebook_size}, {id_size})"
            )));
        }
        let vocab = 3u64 + levels as u64 * codebook_size as u64 + id_size as u64;
        if vocab > u64::from(u32::MAX) {
            return Err(SemidError::Config(format!(
                "vocabulary of {vocab} tokens does not fit u32"
            )));
        }
        Ok(Self {
            levels,
            codebook_size,
            id_size,
        })
    }

    /// Number of code levels (without the identification digit).
    pub fn levels(&self) -> usize {
        self.levels
    }

    /// Number of digits per item: the code levels plus the identification digit.
    pub fn num_digits(&self) -> usize {
        self.levels + 1
    }

    /// Codes per level (K).
    pub fn codebook_size(&self) -> usize {
        self.codebook_size
    }

    /// Values the identification digit can take.
    pub fn id_size(&self) -> usize {
        self.id_size
    }

    /// Number of values digit `digit` can take.
    pub fn digit_size(&self, digit: usize) -> usize {
        if digit < self.levels {
            self.codebook_size
        } else {
            self.id_size
        }
    }

    /// The padding token, also the decoder start token.
    pub fn pad(&self) -> u32 {
        0
    }

    /// The beginning-of-sequence token.
    pub fn bos(&self) -> u32 {
        (1 + self.levels * self.codebook_size + self.id_size) as u32
    }

    /// The end-of-sequence token.
    pub fn eos(&self) -> u32 {
        self.bos() + 1
    }

    /// Number of tokens.
    pub fn vocab_size(&self) -> usize {
        self.eos() as usize + 1
    }

    /// First token of digit `digit`.
    pub fn offset(&self, digit: usize) -> u32 {
        (1 + digit * self.codebook_size) as u32
    }

    /// The token of `code` at `digit`.
    ///
    /// # Panics
    /// When `digit` or `code` is out of range: that is a programming error, not bad data.
    pub fn token(&self, digit: usize, code: u32) -> u32 {
        assert!(
            digit <= self.levels && (code as usize) < self.digit_size(digit),
            "code {code} at digit {digit} is outside the token layout {self:?}"
        );
        self.offset(digit) + code
    }

    /// The `(digit, code)` of a digit token; `None` for PAD, BOS, EOS or out-of-range ids.
    pub fn code(&self, token: u32) -> Option<(usize, u32)> {
        if token == 0 || token >= self.bos() {
            return None;
        }
        let t = (token - 1) as usize;
        let digit = (t / self.codebook_size).min(self.levels);
        Some((digit, (t - digit * self.codebook_size) as u32))
    }

    /// The tokens of one item's digits.
    pub fn tokens<'a>(&self, codes: &'a [u32]) -> impl Iterator<Item = u32> + use<'a> {
        let layout = *self;
        codes
            .iter()
            .enumerate()
            .map(move |(d, &c)| layout.token(d, c))
    }

    /// Checks that `codes` is a valid digit sequence (at most `num_digits` digits, each in range).
    pub fn check(&self, codes: &[u32]) -> Result<()> {
        if codes.len() > self.num_digits() {
            return Err(SemidError::InvalidCodes {
                codes: codes.to_vec(),
                reason: format!("longer than {} digits", self.num_digits()),
            });
        }
        for (d, &c) in codes.iter().enumerate() {
            if c as usize >= self.digit_size(d) {
                return Err(SemidError::InvalidCodes {
                    codes: codes.to_vec(),
                    reason: format!("digit {d} is {c}, outside 0..{}", self.digit_size(d)),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_layout() {
        // Reference code: tokens code + d*K + 1, BOS = 4K+1, EOS = 4K+2, vocab 4K+3.
        let l = TokenLayout::new(3, 256).unwrap();
        assert_eq!(l.token(0, 0), 1);
        assert_eq!(l.token(2, 255), 3 * 256);
        assert_eq!(l.token(3, 7), 1 + 3 * 256 + 7);
        assert_eq!(l.bos(), 4 * 256 + 1);
        assert_eq!(l.eos(), 4 * 256 + 2);
        assert_eq!(l.vocab_size(), 4 * 256 + 3);
        assert_eq!(l.num_digits(), 4);
    }

    #[test]
    fn token_code_round_trip() {
        for l in [
            TokenLayout::new(3, 5).unwrap(),
            TokenLayout::with_id_size(3, 5, 11).unwrap(),
        ] {
            for d in 0..l.num_digits() {
                for c in 0..l.digit_size(d) as u32 {
                    assert_eq!(l.code(l.token(d, c)), Some((d, c)));
                }
            }
            assert_eq!(l.code(l.pad()), None);
            assert_eq!(l.code(l.bos()), None);
            assert_eq!(l.code(l.eos()), None);
            let digit_tokens = (1..l.bos()).filter(|&t| l.code(t).is_some()).count();
            assert_eq!(digit_tokens, l.vocab_size() - 3);
        }
    }
}
