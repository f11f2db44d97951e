//! The description of a human review queue (`type: review_queue`).

use sysdes_kernel::SimDuration;

use crate::spec::Distribution;

/// A pool of human reviewers working in shifts: a share of the requests
/// that reach it are kept for review (the rest pass), and every request is
/// answered at once (the review is asynchronous: the caller does not wait
/// for it).
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewQueueSpec {
    /// Share of arriving requests kept for review, in (0, 1].
    pub share: f64,
    /// One review's time, for one reviewer.
    pub review_time: Distribution,
    /// The staffing, repeating: each shift's reviewers for its length,
    /// then the next, the last followed by the first. One shift is a
    /// constant staff (its length is then irrelevant).
    pub shifts: Vec<ReviewShift>,
}

/// One shift: `reviewers` at work for `length`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewShift {
    /// Reviewers at work (0 for a time nobody reviews).
    pub reviewers: u32,
    /// How long the shift lasts (greater than zero when there are several).
    pub length: SimDuration,
}

impl ReviewQueueSpec {
    /// The most reviewers of any shift.
    pub fn max_reviewers(&self) -> u32 {
        self.shifts.iter().map(|s| s.reviewers).max().unwrap_or(0)
    }
}
