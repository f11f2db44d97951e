//! A capped list of a parser's problems, shared by the trace reader
//! (`sysdes-scenario`'s `trace.rs`) and the iteration-table reader
//! (`IterationTable::parse_csv`): a file with a million bad rows reports
//! the first [`MAX_PROBLEMS`] and a count of the rest, not a million lines.

/// The most problems reported for one file before the rest are counted.
pub const MAX_PROBLEMS: usize = 10;

/// A located problem that can also say how many more were left out.
pub trait Problem {
    /// The closing entry: `count` more problems were found and left out.
    fn and_more(count: u64) -> Self;
}

/// Collects problems, keeping at most [`MAX_PROBLEMS`] and counting the rest.
#[derive(Debug)]
pub struct Problems<T> {
    list: Vec<T>,
    more: u64,
}

impl<T> Default for Problems<T> {
    fn default() -> Self {
        Problems {
            list: Vec::new(),
            more: 0,
        }
    }
}

impl<T: Problem> Problems<T> {
    /// Records `p`: kept while fewer than [`MAX_PROBLEMS`] are, counted after.
    pub fn push(&mut self, p: T) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        } else {
            self.more += 1;
        }
    }

    /// Every problem recorded so far, kept or only counted.
    pub fn count(&self) -> u64 {
        self.list.len() as u64 + self.more
    }

    /// Whether no problem was recorded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The kept problems, followed by [`Problem::and_more`] when some were
    /// only counted.
    pub fn into_list(mut self) -> Vec<T> {
        if self.more > 0 {
            self.list.push(T::and_more(self.more));
        }
        self.list
    }

    /// `Ok(value)` when no problem was recorded, otherwise
    /// [`Problems::into_list`].
    pub fn finish<R>(self, value: R) -> Result<R, Vec<T>> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self.into_list())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct P(u64);

    impl Problem for P {
        fn and_more(count: u64) -> P {
            P(1000 + count)
        }
    }

    #[test]
    fn keeps_the_first_ten_and_counts_the_rest() {
        let mut p = Problems::default();
        assert_eq!(Problems::<P>::default().finish(7), Ok(7));
        for i in 0..MAX_PROBLEMS as u64 {
            p.push(P(i));
        }
        assert_eq!(p.count(), 10);
        let mut q = Problems::default();
        for i in 0..25 {
            q.push(P(i));
        }
        assert_eq!(q.count(), 25);
        let all: Vec<u64> = (0..10).collect();
        assert_eq!(p.into_list(), all.iter().map(|&i| P(i)).collect::<Vec<_>>());
        let list = q.finish(()).unwrap_err();
        assert_eq!(list.len(), MAX_PROBLEMS + 1);
        assert_eq!(list[MAX_PROBLEMS], P(1015), "15 left out");
    }
}
