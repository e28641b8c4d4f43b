//! Text normalisation and tokenisation, the same on every platform.
//!
//! [`normalize`] lowercases, turns every character that is neither alphanumeric nor whitespace
//! into a space, and collapses runs of whitespace into one space. [`words`] splits normalised
//! text into tokens; [`tokenize`] does both. This is the usual preprocessing of ROUGE-style
//! metrics (`"Hello,world!"` becomes the two tokens `hello` and `world`), extended to Unicode:
//! letters and digits of every script are kept.
//!
//! ```
//! use sdk_guest::text;
//!
//! assert_eq!(text::normalize("  Hello, World! It's 2025.  "), "hello world it s 2025");
//! assert_eq!(text::tokenize("Grüße, Welt"), ["grüße", "welt"]);
//! ```

/// For each ASCII byte: its lowercase form if it is a letter or digit, a space if it separates
/// tokens.
const ASCII: [u8; 128] = {
    let mut table = [b' '; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            table[b] = c.to_ascii_lowercase();
        }
        b += 1;
    }
    table
};

/// Lowercases `text`, replaces punctuation and symbols by spaces, and collapses whitespace.
///
/// The result has no leading or trailing space and single spaces between tokens. Letters and
/// digits are what `char::is_alphanumeric` says, lowercased by `char::to_lowercase`.
pub fn normalize(text: &str) -> String {
    if text.is_ascii() { normalize_ascii(text.as_bytes()) } else { normalize_unicode(text) }
}

/// [`normalize`] for ASCII text, eight bytes at a time: a chunk is classified and lowercased
/// as one `u64` (SWAR), and written whole unless it holds a separator that follows another
/// separator; such chunks (and the tail) go byte by byte, without data-dependent branches.
fn normalize_ascii(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len()];
    let mut len = 0;
    let mut after_space = true;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let upper = swar::in_range(x, b'A', b'Z');
        let alnum = upper | swar::in_range(x, b'a', b'z') | swar::in_range(x, b'0', b'9');
        let separators = !alnum & swar::HIGH;
        let follows_separator = (separators << 8) | (u64::from(after_space) << 7);
        if separators & follows_separator == 0 {
            let keep = (alnum >> 7) * 0xff;
            let lowered = ((x | (upper >> 2)) & keep) | (swar::SPACES & !keep);
            out[len..len + 8].copy_from_slice(&lowered.to_le_bytes());
            len += 8;
            after_space = separators >> 63 != 0;
        } else {
            for &b in chunk {
                (len, after_space) = push_ascii(&mut out, len, after_space, b);
            }
        }
    }
    for &b in chunks.remainder() {
        (len, after_space) = push_ascii(&mut out, len, after_space, b);
    }
    if after_space && len > 0 {
        len -= 1;
    }
    out.truncate(len);
    // Only ASCII bytes were written, so this never fails.
    String::from_utf8(out).unwrap_or_default()
}

/// Writes byte `b` normalised at `out[len]`; the write position advances unless it is a space
/// following a space. Returns the new position and whether `b` was a separator.
#[inline(always)]
fn push_ascii(out: &mut [u8], len: usize, after_space: bool, b: u8) -> (usize, bool) {
    let c = ASCII[(b & 0x7f) as usize];
    let space = c == b' ';
    out[len] = c;
    (len + usize::from(!(space && after_space)), space)
}

/// Byte-parallel arithmetic on the eight bytes of a `u64` ("SIMD within a register").
mod swar {
    /// `0x01` in every byte.
    const ONES: u64 = 0x0101_0101_0101_0101;
    /// The high bit of every byte.
    pub(super) const HIGH: u64 = 0x8080_8080_8080_8080;
    /// A space in every byte.
    pub(super) const SPACES: u64 = 0x2020_2020_2020_2020;

    /// The high bit of each byte of `x` that lies in `lo..=hi`; every byte of `x` must be ASCII
    /// (below 0x80), so no sum carries into the next byte.
    #[inline(always)]
    pub(super) fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
        let at_least_lo = x + ONES * u64::from(0x80 - lo);
        let above_hi = x + ONES * u64::from(0x7f - hi);
        at_least_lo & !above_hi & HIGH
    }

    /// The index of the first zero byte of `x`, if any. (The borrow of the subtraction can mark
    /// bytes above a zero byte too, but never one below the first.)
    #[inline(always)]
    pub(super) fn first_zero_byte(x: u64) -> Option<usize> {
        let marked = x.wrapping_sub(ONES) & !x & HIGH;
        (marked != 0).then(|| marked.trailing_zeros() as usize / 8)
    }

    /// The index of the first space in `bytes` at or after `from`, or `bytes.len()`.
    #[inline(always)]
    pub(super) fn find_space(bytes: &[u8], from: usize) -> usize {
        let mut i = from;
        while let Some(chunk) = bytes.get(i..i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            if let Some(z) = first_zero_byte(x ^ SPACES) {
                return i + z;
            }
            i += 8;
        }
        while i < bytes.len() && bytes[i] != b' ' {
            i += 1;
        }
        i
    }
}

/// [`normalize`] for text with non-ASCII characters.
fn normalize_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// The tokens of already normalised text (the pieces between spaces), without allocating.
pub fn words(normalized: &str) -> Words<'_> {
    Words(normalized)
}

/// The iterator [`words`] returns: the non-empty pieces of the text between ASCII spaces.
#[derive(Clone, Debug)]
pub struct Words<'a>(&'a str);

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.0.as_bytes();
        let Some(start) = bytes.iter().position(|&b| b != b' ') else {
            self.0 = "";
            return None;
        };
        let end = swar::find_space(bytes, start + 1);
        // Spaces are single bytes, so `start` and `end` are character boundaries.
        let word = self.0.get(start..end)?;
        self.0 = self.0.get(end..).unwrap_or_default();
        Some(word)
    }
}

/// The tokens of `text`: [`normalize`], then split on whitespace.
pub fn tokenize(text: &str) -> Vec<String> {
    words(&normalize(text)).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_cases() {
        let cases = [
            ("", ""),
            ("   ", ""),
            ("!!!", ""),
            ("abc", "abc"),
            ("ABC def", "abc def"),
            ("  leading and trailing  ", "leading and trailing"),
            ("tabs\tand\nnewlines\r\n", "tabs and newlines"),
            ("Hello,world!", "hello world"),
            ("don't stop", "don t stop"),
            ("e-mail: a@b.c", "e mail a b c"),
            ("3.14 and 2,718", "3 14 and 2 718"),
            ("ÀÉÎ ÕÜ", "àéî õü"),
            ("İstanbul", "i\u{307}stanbul"),
            ("日本語、テスト。", "日本語 テスト"),
            ("emoji 🎉 here", "emoji here"),
            ("a\u{00a0}b", "a b"),
            ("ÉCOLE, Straße", "école straße"),
            // A combining mark is not a letter: decomposed (NFD) accents split words.
            ("x\u{301}y", "x y"),
            ("ǅ ΣΑΣ", "ǆ σασ"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "input {input:?}");
        }
    }

    #[test]
    fn ascii_and_unicode_paths_agree() {
        let alphabet = b"aZ09 ,.!\t\n-_'\"()xyzQ";
        let mut rng = crate::rng::Rng::from_seed(5);
        for _ in 0..4000 {
            // Up to several eight-byte chunks, so both the whole-chunk and the byte paths run.
            let len = rng.index(70);
            let s: String = (0..len).map(|_| alphabet[rng.index(alphabet.len())] as char).collect();
            assert_eq!(normalize_ascii(s.as_bytes()), normalize_unicode(&s), "{s:?}");
        }
    }

    #[test]
    fn swar_range_and_zero_match_bytewise() {
        for b in 0u8..0x80 {
            for pos in 0..8 {
                // `b` at `pos`, other bytes cycling through ASCII so neighbours vary.
                let bytes: [u8; 8] =
                    std::array::from_fn(|i| if i == pos { b } else { (b ^ (i as u8).wrapping_mul(37)) & 0x7f });
                let x = u64::from_le_bytes(bytes);
                for (lo, hi) in [(b'A', b'Z'), (b'a', b'z'), (b'0', b'9')] {
                    let got = swar::in_range(x, lo, hi);
                    let want = bytes
                        .iter()
                        .enumerate()
                        .fold(0u64, |m, (i, &c)| if (lo..=hi).contains(&c) { m | 0x80 << (8 * i) } else { m });
                    assert_eq!(got, want, "{bytes:?} in {lo}..={hi}");
                }
                assert_eq!(swar::first_zero_byte(x), bytes.iter().position(|&c| c == 0), "{bytes:?}");
            }
        }
    }

    #[test]
    fn words_match_splitting_on_spaces() {
        let alphabet = ["a", "bc", " ", " ", "  ", "é", "日本", "xyzxyzxyz"];
        let mut rng = crate::rng::Rng::from_seed(9);
        for _ in 0..3000 {
            let s: String = (0..rng.index(30)).map(|_| alphabet[rng.index(alphabet.len())]).collect();
            let want: Vec<&str> = s.split(' ').filter(|w| !w.is_empty()).collect();
            assert_eq!(words(&s).collect::<Vec<_>>(), want, "{s:?}");
        }
    }

    #[test]
    fn normalize_is_idempotent() {
        for s in ["Hello, World!", "  x  y  ", "Grüße — Welt…", ""] {
            let once = normalize(s);
            assert_eq!(normalize(&once), once);
        }
    }

    #[test]
    fn tokenize_splits_words() {
        assert_eq!(tokenize("The cat, the HAT."), ["the", "cat", "the", "hat"]);
        assert!(tokenize(" ,.; ").is_empty());
        assert_eq!(words("a b  c").collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(words("").count(), 0);
        assert_eq!(words(" x ").collect::<Vec<_>>(), ["x"]);
    }
}
