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

/// [`normalize`] for ASCII text, without data-dependent branches: every byte is written, and the
/// write position advances unless the byte is a space following a space.
fn normalize_ascii(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len()];
    let mut len = 0;
    let mut after_space = true;
    for &b in bytes {
        let c = ASCII[(b & 0x7f) as usize];
        let space = c == b' ';
        out[len] = c;
        len += usize::from(!(space && after_space));
        after_space = space;
    }
    if after_space && len > 0 {
        len -= 1;
    }
    out.truncate(len);
    // Only ASCII bytes were written, so this never fails.
    String::from_utf8(out).unwrap_or_default()
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

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.0.as_bytes();
        let mut start = 0;
        while start < bytes.len() && bytes[start] == b' ' {
            start += 1;
        }
        if start == bytes.len() {
            self.0 = "";
            return None;
        }
        let mut end = start + 1;
        while end < bytes.len() && bytes[end] != b' ' {
            end += 1;
        }
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
        for _ in 0..2000 {
            let len = rng.index(40);
            let s: String = (0..len).map(|_| alphabet[rng.index(alphabet.len())] as char).collect();
            assert_eq!(normalize_ascii(s.as_bytes()), normalize_unicode(&s), "{s:?}");
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
