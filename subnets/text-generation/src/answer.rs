//! Reading a final answer out of free text: the final number of a maths solution, the label of a
//! classification answer.

use sdk_guest::text;

/// A decimal number as written in a completion, in canonical form: sign, integer digits without
/// leading zeros, fractional digits without trailing zeros. `-0` is `0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number {
    negative: bool,
    integer: String,
    fraction: String,
}

impl Number {
    /// Parses `[-]digits[.digits]` (no separators). `None` for anything else.
    pub fn parse(s: &str) -> Option<Number> {
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (integer, fraction) = body.split_once('.').unwrap_or((body, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if integer.is_empty() || !digits(integer) || !digits(fraction) || (body.contains('.') && fraction.is_empty()) {
            return None;
        }
        let integer = integer.trim_start_matches('0');
        let integer = if integer.is_empty() { "0" } else { integer };
        let fraction = fraction.trim_end_matches('0');
        let zero = integer == "0" && fraction.is_empty();
        Some(Number { negative: negative && !zero, integer: integer.to_owned(), fraction: fraction.to_owned() })
    }

    /// The nearest `f64` (Rust's float parsing rounds correctly, the same on every platform).
    pub fn to_f64(&self) -> f64 {
        let mut s = String::with_capacity(self.integer.len() + self.fraction.len() + 2);
        if self.negative {
            s.push('-');
        }
        s.push_str(&self.integer);
        if !self.fraction.is_empty() {
            s.push('.');
            s.push_str(&self.fraction);
        }
        s.parse().unwrap_or(f64::NAN)
    }
}

/// The numbers written in `text`, in order, as canonical [`Number`]s.
///
/// A number is a run of digits, optionally with thousands separators (`1,234,567`: groups of
/// exactly three digits after the first) and a decimal part (`2.50`). A `-` directly before the
/// digits makes it negative unless a letter or digit precedes the `-` (`16-3` is a subtraction).
/// Digits glued to letters (`x2`, `3rd`) still count: `3rd` reads as 3.
pub fn numbers(text: &str) -> Vec<Number> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let negative = start > 0
            && b[start - 1] == b'-'
            && (start < 2 || !(b[start - 2].is_ascii_alphanumeric() || b[start - 2] == b'.'));
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let mut integer = String::from_utf8_lossy(&b[start..i]).into_owned();
        // Thousands separators: `,ddd` not followed by another digit, after a first group of 1-3.
        if integer.len() <= 3 {
            while i + 4 <= b.len()
                && b[i] == b','
                && b[i + 1..i + 4].iter().all(u8::is_ascii_digit)
                && !b.get(i + 4).is_some_and(u8::is_ascii_digit)
            {
                integer.push_str(&String::from_utf8_lossy(&b[i + 1..i + 4]));
                i += 4;
            }
        }
        let mut fraction = String::new();
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let f = i + 1;
            i = f;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            fraction = String::from_utf8_lossy(&b[f..i]).into_owned();
        }
        let literal = format!(
            "{}{}{}{}",
            if negative { "-" } else { "" },
            integer,
            if fraction.is_empty() { "" } else { "." },
            fraction
        );
        if let Some(n) = Number::parse(&literal) {
            out.push(n);
        }
    }
    out
}

/// The final answer of a maths solution: the first number after the last `####` marker if there
/// is one, else the number in the last `\boxed{…}`, else the last number in the text.
pub fn final_number(text: &str) -> Option<Number> {
    if let Some(pos) = text.rfind("####") {
        return numbers(&text[pos + 4..]).into_iter().next();
    }
    if let Some(pos) = text.rfind("\\boxed{") {
        let rest = &text[pos + 7..];
        let inner = rest.split_once('}').map_or(rest, |(inner, _)| inner);
        if let Some(n) = numbers(inner).into_iter().last() {
            return Some(n);
        }
    }
    numbers(text).into_iter().last()
}

/// Credit for a maths answer: 1 for the exact number, `close_credit · (1 − e / tolerance)` for a
/// relative error `e = |answer − expected| / max(|expected|, 1)` below `tolerance`, else 0.
pub fn number_credit(completion: &str, expected: &Number, close_credit: f64, tolerance: f64) -> f64 {
    let Some(got) = final_number(completion) else { return 0.0 };
    if &got == expected {
        return 1.0;
    }
    let want = expected.to_f64();
    let error = (got.to_f64() - want).abs() / want.abs().max(1.0);
    if error.is_finite() && error < tolerance { close_credit * (1.0 - error / tolerance) } else { 0.0 }
}

/// Separators that end the leading clause of a label answer.
const CLAUSE_END: &[char] = &['.', ',', ';', ':', '!', '?', '\n', ')'];
/// Leading words that introduce the label rather than being part of it (`Answer: yes`).
const LABEL_INTROS: &[&str] = &["answer", "label", "output", "the answer is", "the label is", "final answer"];

/// The leading clause of `text` after an optional introduction, normalised.
fn leading_clause(text: &str) -> String {
    let mut clauses = text.split(CLAUSE_END).map(text::normalize).filter(|c| !c.is_empty());
    let first = clauses.next().unwrap_or_default();
    if LABEL_INTROS.contains(&first.as_str()) { clauses.next().unwrap_or_default() } else { first }
}

/// Whether a classification answer names the reference label: its normalised text equals the
/// normalised reference, or its leading clause (the label, before any explanation) equals the
/// reference's leading clause.
pub fn label_matches(completion: &str, reference: &str) -> bool {
    let want = text::normalize(reference);
    if want.is_empty() {
        return false;
    }
    if text::normalize(completion) == want {
        return true;
    }
    let clause = leading_clause(completion);
    !clause.is_empty() && clause == leading_clause(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn canonical_numbers() {
        assert_eq!(n("018.500"), n("18.5"));
        assert_eq!(n("18.0"), n("18"));
        assert_eq!(n("-0"), n("0"));
        assert_ne!(n("-3"), n("3"));
        assert!(Number::parse("1.").is_none());
        assert!(Number::parse("").is_none());
        assert!(Number::parse("1a").is_none());
        assert_eq!(n("-2.25").to_f64(), -2.25);
    }

    #[test]
    fn numbers_in_text() {
        let got = numbers("Janet sells 16-3-4 = 9 eggs, earning $1,234.50 or -3 dollars; 3, 400 and 1,23.");
        let want = ["16", "3", "4", "9", "1234.5", "-3", "3", "400", "1", "23"];
        assert_eq!(got, want.iter().map(|s| n(s)).collect::<Vec<_>>());
        assert_eq!(numbers("12,3456"), [n("12"), n("3456")]);
        assert_eq!(numbers("It is 18."), [n("18")]);
        assert!(numbers("no digits here").is_empty());
    }

    #[test]
    fn final_number_prefers_markers() {
        assert_eq!(final_number("9 * 2 = 18\n#### 18"), Some(n("18")));
        assert_eq!(final_number("#### 18 then 7 more words 3"), Some(n("18")));
        assert_eq!(final_number("so \\boxed{70,000} after 2 steps"), Some(n("70000")));
        assert_eq!(final_number("first 3, then 5"), Some(n("5")));
        assert_eq!(final_number("nothing"), None);
        assert_eq!(final_number("#### none"), None);
    }

    #[test]
    fn number_credit_is_graded() {
        let want = n("200");
        assert_eq!(number_credit("The answer is 200.", &want, 0.25, 0.1), 1.0);
        assert_eq!(number_credit("$200.00", &want, 0.25, 0.1), 1.0);
        let close = number_credit("about 198", &want, 0.25, 0.1);
        assert!(close > 0.2 && close < 0.25, "{close}");
        assert_eq!(number_credit("300", &want, 0.25, 0.1), 0.0);
        assert_eq!(number_credit("", &want, 0.25, 0.1), 0.0);
        assert_eq!(number_credit(&"9".repeat(400), &want, 0.25, 0.1), 0.0);
        assert_eq!(number_credit("-3", &n("-3"), 0.25, 0.1), 1.0);
    }

    #[test]
    fn labels() {
        assert!(label_matches("yes", "Yes"));
        assert!(label_matches("Yes, it is toxic.", "Yes"));
        assert!(label_matches("Answer: negative", "negative"));
        assert!(label_matches("Adjective", "Adjective, JJ."));
        assert!(label_matches("adjective (JJ)", "Adjective, JJ."));
        assert!(label_matches("(D) because …", "D"));
        assert!(label_matches("Yes.", "yes, the thread contains hate speech."));
        assert!(!label_matches("yes or no", "yes"));
        assert!(!label_matches("no", "yes"));
        assert!(!label_matches("", "yes"));
        assert!(!label_matches("Is this spam? true or false", "true"));
    }
}
