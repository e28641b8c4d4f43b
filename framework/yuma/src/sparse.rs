//! Row-compressed sparse matrices of `I32F32`, the shape of every weight and bond matrix.
//!
//! Rows keep their entries in the order they were pushed: the chain's stored order matters
//! (zero-valued entries included), so nothing here sorts or drops entries on its own.

use substrate_fixed::types::I32F32;

use crate::fixed::{ZERO, safe_div};
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

impl Csr {
    /// An empty matrix ready for `rows` rows, with room for `capacity` entries.
    pub(crate) fn with_capacity(rows: usize, capacity: usize) -> Csr {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Csr { offsets, entries: Vec::with_capacity(capacity) }
    }

    /// Builds a matrix row by row: `fill(i, row)` pushes row `i`'s entries.
    pub(crate) fn build(rows: usize, capacity: usize, mut fill: impl FnMut(usize, &mut Vec<Entry>)) -> Csr {
        let mut matrix = Csr::with_capacity(rows, capacity);
        for i in 0..rows {
            fill(i, &mut matrix.entries);
            matrix.offsets.push(matrix.entries.len());
        }
        matrix
    }

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

    /// Row `i`'s entries, mutable.
    pub(crate) fn row_mut(&mut self, i: usize) -> &mut [Entry] {
        let range = self.offsets[i]..self.offsets[i + 1];
        &mut self.entries[range]
    }

    /// Every entry of every row, mutable.
    pub(crate) fn entries_mut(&mut self) -> &mut [Entry] {
        &mut self.entries
    }

    /// Every entry of every row.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The same matrix keeping only the entries for which `keep(row, entry)` holds.
    pub(crate) fn filter(&self, mut keep: impl FnMut(usize, Entry) -> bool) -> Csr {
        Csr::build(self.rows(), self.nnz(), |i, out| {
            out.extend(self.row(i).iter().copied().filter(|&e| keep(i, e)));
        })
    }

    /// Sum of each row; wraps like the chain's plain sums (`row_sum_sparse`).
    pub(crate) fn row_sums(&self) -> Vec<I32F32> {
        (0..self.rows()).map(|i| self.row(i).iter().fold(ZERO, |acc, &(_, v)| acc.wrapping_add(v))).collect()
    }

    /// Divides each row with a positive sum by that sum (`inplace_row_normalize_sparse`).
    pub(crate) fn normalize_rows(&mut self) {
        for i in 0..self.rows() {
            let row = self.row_mut(i);
            let total = row.iter().fold(ZERO, |acc, &(_, v)| acc.wrapping_add(v));
            if total > ZERO {
                row.iter_mut().for_each(|(_, v)| *v = safe_div(*v, total));
            }
        }
    }

    /// Saturating sum of each of `columns` columns.
    fn column_sums(&self, columns: usize) -> Vec<I32F32> {
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

    fn divide_columns(&mut self, divisors: &[I32F32]) {
        for (j, v) in &mut self.entries {
            let d = divisors[usize::from(*j)];
            if d != ZERO {
                *v = safe_div(*v, d);
            }
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
