//! A small CSV table read whole, with columns found by header name. Cells
//! stay text until a plot asks for numbers, so one bad cell is reported with
//! its file, line and column.

use std::path::{Path, PathBuf};

use crate::PlotError;

/// A CSV file: its header and rows of text cells.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file it was read from (for error messages and data URLs).
    pub path: PathBuf,
    /// The header, in file order.
    pub headers: Vec<String>,
    /// The rows, each as long as the header.
    pub rows: Vec<Vec<String>>,
    /// The 1-based file line of each row.
    lines: Vec<u64>,
}

impl Table {
    /// Reads `path`; a missing file is [`PlotError::MissingFile`] naming
    /// `needed_for`, a ragged or undecodable file is [`PlotError::Csv`].
    pub fn read(path: &Path, needed_for: &str) -> Result<Table, PlotError> {
        if !path.is_file() {
            return Err(PlotError::MissingFile {
                path: path.to_path_buf(),
                needed_for: needed_for.to_string(),
            });
        }
        let bytes = std::fs::read(path).map_err(|source| PlotError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Table::parse(path, &bytes)
    }

    /// Parses CSV text; `path` only names the source in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Table, PlotError> {
        let csv_error = |e: csv::Error| PlotError::Csv {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes);
        let headers: Vec<String> = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(PlotError::Csv {
                path: path.to_path_buf(),
                message: "no header line".to_string(),
            });
        }
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            lines.push(record.position().map_or(0, |p| p.line()));
            rows.push(record.iter().map(|c| c.trim().to_string()).collect());
        }
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            rows,
            lines,
        })
    }

    /// The index of column `name`, if present.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// The index of column `name`, or [`PlotError::MissingColumn`].
    pub fn column(&self, name: &str) -> Result<usize, PlotError> {
        self.find(name).ok_or_else(|| PlotError::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
        })
    }

    /// The text cells of column `name`.
    pub fn text(&self, name: &str) -> Result<Vec<String>, PlotError> {
        let i = self.column(name)?;
        Ok(self.rows.iter().map(|r| r[i].clone()).collect())
    }

    /// The cells of column `name` as numbers; an empty cell is NaN, any
    /// other non-number is [`PlotError::BadNumber`].
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>, PlotError> {
        let i = self.column(name)?;
        self.rows
            .iter()
            .zip(&self.lines)
            .map(|(row, &line)| {
                let cell = &row[i];
                if cell.is_empty() {
                    return Ok(f64::NAN);
                }
                cell.parse::<f64>().map_err(|_| PlotError::BadNumber {
                    path: self.path.clone(),
                    line,
                    column: name.to_string(),
                    value: cell.clone(),
                })
            })
            .collect()
    }

    /// Like [`Table::numbers`] but `None` when the column is absent.
    pub fn numbers_if_present(&self, name: &str) -> Result<Option<Vec<f64>>, PlotError> {
        match self.find(name) {
            Some(_) => self.numbers(name).map(Some),
            None => Ok(None),
        }
    }

    /// The number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_columns_by_name_and_reports_bad_cells_with_their_line() {
        let t = Table::parse(Path::new("x.csv"), b"a,b\n1,2\n3,\n4,oops\n").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.find("b"), Some(1));
        let err = t.numbers("b").unwrap_err().to_string();
        assert!(err.contains("x.csv: line 4, column `b`: `oops`"), "{err}");
        assert!(t.numbers("a").unwrap() == vec![1.0, 3.0, 4.0]);
        assert!(matches!(
            t.column("c"),
            Err(PlotError::MissingColumn { .. })
        ));
    }

    #[test]
    fn a_ragged_file_is_an_error_naming_it() {
        let err = Table::parse(Path::new("r.csv"), b"a,b\n1,2,3\n").unwrap_err();
        assert!(err.to_string().starts_with("r.csv: malformed CSV"), "{err}");
    }
}
