//! The embedded task data: GSM8K (test split) and Self-Instruct (seed and user-oriented tasks).
//!
//! Both files are JSON Lines compiled into the plugin (`data/README.md` gives sources and
//! licences). A task reads one row: [`Dataset::len`] and [`Dataset::row`] find lines by scanning
//! for newlines, so only the chosen row is ever parsed.

use serde::Deserialize;

/// GSM8K test split, one problem a line: `{"id", "prompt", "answer"}`.
const GSM8K: &str = include_str!("../data/gsm8k.jsonl");
/// Self-Instruct tasks, one a line: `{"id", "scoring", "instruction", "input", "reference"}`.
const SELF_INSTRUCT: &str = include_str!("../data/self_instruct.jsonl");

/// One of the two embedded datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    /// Grade-school maths word problems with integer answers.
    Gsm8k,
    /// Open-ended instructions (and a few classification tasks) with reference outputs.
    SelfInstruct,
}

/// A GSM8K row.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MathRow {
    /// Stable identifier, e.g. `gsm8k-test-0000`.
    pub id: String,
    /// The word problem.
    pub prompt: String,
    /// The final answer, an integer without separators.
    pub answer: String,
}

/// A Self-Instruct row.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstructRow {
    /// Stable identifier, e.g. `selfinstruct-seed-001`.
    pub id: String,
    /// `exact_label` for classification tasks, `reference_similarity` otherwise.
    pub scoring: String,
    /// The instruction.
    pub instruction: String,
    /// The instance input, empty when the instruction stands alone.
    pub input: String,
    /// The reference output.
    pub reference: String,
}

impl InstructRow {
    /// The prompt sent to miners: the instruction, then a blank line and the input if any.
    pub fn prompt(&self) -> String {
        if self.input.is_empty() { self.instruction.clone() } else { format!("{}\n\n{}", self.instruction, self.input) }
    }

    /// Whether the row is a classification task scored by exact label.
    pub fn is_label(&self) -> bool {
        self.scoring == "exact_label"
    }
}

impl Dataset {
    fn text(self) -> &'static str {
        match self {
            Dataset::Gsm8k => GSM8K,
            Dataset::SelfInstruct => SELF_INSTRUCT,
        }
    }

    /// The number of rows.
    pub fn len(self) -> usize {
        lines(self.text()).count()
    }

    /// Whether the dataset has no rows (never, for the embedded files).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The raw JSON of row `index`, if it exists.
    pub fn line(self, index: usize) -> Option<&'static str> {
        lines(self.text()).nth(index)
    }

    /// Row `index` decoded as `T`.
    pub fn row<T: serde::de::DeserializeOwned>(self, index: usize) -> Result<T, String> {
        let line = self.line(index).ok_or_else(|| format!("{self:?} has no row {index}"))?;
        serde_json::from_str(line).map_err(|e| format!("{self:?} row {index} is corrupt: {e}"))
    }
}

/// The non-empty lines of `text`.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_decodes() {
        assert_eq!(Dataset::Gsm8k.len(), 1319);
        assert_eq!(Dataset::SelfInstruct.len(), 427);
        for i in 0..Dataset::Gsm8k.len() {
            let row: MathRow = Dataset::Gsm8k.row(i).unwrap();
            assert!(row.answer.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()), "{}", row.id);
        }
        let mut labels = 0;
        for i in 0..Dataset::SelfInstruct.len() {
            let row: InstructRow = Dataset::SelfInstruct.row(i).unwrap();
            assert!(!row.reference.trim().is_empty(), "{}", row.id);
            labels += usize::from(row.is_label());
        }
        assert_eq!(labels, 26);
        assert!(Dataset::Gsm8k.line(1319).is_none());
        assert!(Dataset::Gsm8k.row::<MathRow>(5000).is_err());
    }
}
