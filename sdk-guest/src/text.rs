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

/// Lowercases `text`, replaces punctuation and symbols by spaces, and collapses whitespace.
///
/// The result has no leading or trailing space and single spaces between tokens.
pub fn normalize(text: &str) -> String {
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

/// The whitespace-separated tokens of already normalised text, without allocating.
pub fn words(normalized: &str) -> std::str::SplitAsciiWhitespace<'_> {
    normalized.split_ascii_whitespace()
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
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "input {input:?}");
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
    }
}
