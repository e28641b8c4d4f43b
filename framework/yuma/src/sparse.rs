//! Row-compressed sparse matrices of `I32F32`, the shape of every weight and bond matrix.
//!
//! Rows keep their entries in the order they were pushed: the chain's stored order matters
//! (zero-valued entries included), so nothing here sorts or drops entries on its own.

use substrate_fixed::types::I32F32;

use crate::fixed::{Divisor, ZERO};
use crate::output::FixedRows;

/// One stored entry: target uid and value.
pub(crate) type Entry = (u16, I32F32);

/// An `n × n` sparse matrix in compressed-row form.
#[derive(Clone, Debug, Default)]
pub(crate) struct Csr {
    /// `entries[offsets[i]..offsets[i + 1]]` is row `i`.
    offsets: Vec<usize>,
    entries: Vec<Entry>,
}

/// Spare buffers for matrices and scratch, so that epoch after epoch reuses memory instead of
/// returning it to the system and faulting it back in.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    entries: Vec<Vec<Entry>>,
    offsets: Vec<Vec<usize>>,
    /// Scratch keys for the consensus' column buckets.
    pub(crate) keys: Vec<u64>,
}

impl Pool {
    /// Builds a matrix row by row: `fill(i, row)` pushes row `i`'s entries.
    pub(crate) fn build(&mut self, rows: usize, capacity: usize, mut fill: impl FnMut(usize, &mut Vec<Entry>)) -> Csr {
        let mut entries = self.entries.pop().unwrap_or_default();
        let mut offsets = self.offsets.pop().unwrap_or_default();
        entries.clear();
        entries.reserve(capacity);
        offsets.clear();
        offsets.reserve(rows + 1);
        offsets.push(0);
        for i in 0..rows {
            fill(i, &mut entries);
            offsets.push(entries.len());
        }
        Csr { offsets, entries }
    }

    /// Keeps a matrix's buffers for the next [`Pool::build`].
    pub(crate) fn recycle(&mut self, matrix: Csr) {
        self.entries.push(matrix.entries);
        self.offsets.push(matrix.offsets);
    }
}

impl Csr {
    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of stored entries.
    pub(crate) fn nnz(&self) -> usize {
        self.entries.len()
    }

    /// Row `i`'s entries, in stored order.
    pub(crate) fn row(&self, i: usize) -> &[Entry] {
        &self.entries[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Saturating sum of each of `columns` columns.
    pub(crate) fn column_sums(&self, columns: usize) -> Vec<I32F32> {
        let mut sums = vec![ZERO; columns];
        for &(j, v) in &self.entries {
            let s = &mut sums[usize::from(j)];
            *s = s.saturating_add(v);
        }
        sums
    }

    /// Divides each column with a non-zero sum by that sum (`inplace_col_normalize_sparse`).
    pub(crate) fn normalize_columns(&mut self, columns: usize) {
        let sums = self.column_sums(columns);
        self.divide_columns(&sums);
    }

    /// Divides each column by its largest entry, where that is non-zero (`inplace_col_max_upscale_sparse`).
    pub(crate) fn max_upscale_columns(&mut self, columns: usize) {
        let mut maxima = vec![ZERO; columns];
        for &(j, v) in &self.entries {
            let m = &mut maxima[usize::from(j)];
            if *m < v {
                *m = v;
            }
        }
        self.divide_columns(&maxima);
    }

    /// Divides each entry by its column's divisor, where that is non-zero.
    pub(crate) fn divide_columns(&mut self, divisors: &[I32F32]) {
        let divisors = column_divisors(divisors);
        for (j, v) in &mut self.entries {
            *v = divisors[usize::from(*j)].divide_unless_zero(*v);
        }
    }

    /// The rows as raw bits, empty rows omitted: the vectors' `matrices` form.
    pub(crate) fn to_fixed_rows(&self) -> FixedRows {
        (0..self.rows())
            .filter(|&i| !self.row(i).is_empty())
            .map(|i| (i as u16, self.row(i).iter().map(|&(j, v)| (j, v.to_bits())).collect()))
            .collect()
    }
}

/// A [`Divisor`] for each column value (see [`Divisor::divide_unless_zero`]).
pub(crate) fn column_divisors(values: &[I32F32]) -> Vec<Divisor> {
    values.iter().map(|&d| Divisor::new(d)).collect()
}

/// Divides a row by its sum when that is positive (`inplace_row_normalize_sparse`, one row).
pub(crate) fn normalize_row(row: &mut [Entry]) {
    let total = row.iter().fold(ZERO, |acc, &(_, v)| acc.wrapping_add(v));
    if total > ZERO {
        let total = Divisor::new(total);
        row.iter_mut().for_each(|(_, v)| *v = total.divide(*v));
    }
}
