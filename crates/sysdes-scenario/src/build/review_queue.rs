//! Reading `type: review_queue` components (human reviewers in shifts),
//! and their raw schema.

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::SimDuration;
use sysdes_models::{ComponentKind, ReviewQueueSpec, ReviewShift};

use super::{Ctx, Entry, Kind, count, distribution, positive_duration};
use crate::node::SNode;
use crate::raw::DistRaw;
use crate::units::{Duration, Share};

/// `type: review_queue` — human-in-the-loop review: `share` of the requests that reach it (e.g. a call step from a model's post-processing) are kept for review and every request is answered at once; reviewers (`reviewers`, or `shifts` that repeat) take the items first come first served.
#[derive(JsonSchema)]
#[allow(dead_code)] // Only used to generate the JSON Schema; the loader reads each key on its own.
#[serde(
    deny_unknown_fields,
    expecting = "a review queue: a map with `review_time` and `reviewers` or `shifts`, and optionally `share`"
)]
#[schemars(rename = "ReviewQueue")]
pub(crate) struct ReviewQueueRaw {
    /// Share of arriving requests kept for review, in (0, 1] (`0.04` or `4%`; default 1).
    pub share: Option<Share>,
    /// One review's time, e.g. `{ exponential: 30s }`.
    pub review_time: DistRaw,
    /// A constant number of reviewers, at least 1 (or give `shifts`).
    #[schemars(range(min = 1))]
    pub reviewers: Option<i64>,
    /// Staffing over time, repeating after the last shift, e.g. `[ { reviewers: 6, length: 8h }, { reviewers: 0, length: 16h } ]`.
    pub shifts: Option<Vec<ShiftRaw>>,
}

/// One shift of a review queue.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `reviewers` and `length`")]
#[schemars(rename = "ReviewShift")]
pub(crate) struct ShiftRaw {
    /// Reviewers at work during the shift (0 for nobody).
    pub reviewers: i64,
    /// How long the shift lasts, greater than zero.
    pub length: Duration,
}

/// Reads a review queue.
pub(super) fn read(ctx: &mut Ctx, e: &Entry<'_>) -> Option<ComponentKind> {
    review_queue(ctx, e.body).map(ComponentKind::ReviewQueue)
}

fn review_queue(ctx: &mut Ctx, body: &SNode) -> Option<ReviewQueueSpec> {
    ctx.unknown_keys(body, Kind::ReviewQueue.keys());
    let before = ctx.issues.len();
    let share = match ctx
        .optional::<Share>(body, "share")
        .map(|s| s.map(Share::fraction))
    {
        Ok(None) => Some(1.0),
        Ok(Some(s)) if s > 0.0 && s <= 1.0 => Some(s),
        Ok(Some(s)) => {
            ctx.push(
                body.at_or_near(&["share"]),
                format!("`share` must be in (0, 1], found {s}"),
                Some("e.g. `share: 0.1` reviews one request in ten".to_owned()),
            );
            None
        }
        Err(()) => None,
    };
    let review_time = ctx
        .required::<DistRaw>(
            body,
            "review_time",
            Some("add e.g. `review_time: { exponential: 30s }`".to_owned()),
        )
        .and_then(|raw| distribution(ctx, &raw, body.at_or_near(&["review_time"]), "review_time"));
    let reviewers = ctx.optional::<i64>(body, "reviewers");
    let shifts = ctx.optional::<Vec<ShiftRaw>>(body, "shifts");
    let shifts = match (reviewers, shifts) {
        (Ok(Some(n)), Ok(None)) => count(ctx, n, 1, body.at_or_near(&["reviewers"]), "reviewers")
            .map(|reviewers| {
                vec![ReviewShift {
                    reviewers,
                    length: SimDuration::ZERO,
                }]
            }),
        (Ok(None), Ok(Some(list))) => {
            let node = body.at_or_near(&["shifts"]);
            if list.is_empty() {
                ctx.push(node, "`shifts` must list at least one shift", None);
            }
            let mut out = Vec::with_capacity(list.len());
            for (i, s) in list.iter().enumerate() {
                let item = node.item(i).unwrap_or(node);
                let reviewers = count(
                    ctx,
                    s.reviewers,
                    0,
                    item.at_or_near(&["reviewers"]),
                    "reviewers",
                );
                let length =
                    positive_duration(ctx, s.length, item.at_or_near(&["length"]), "length");
                if let (Some(reviewers), Some(length)) = (reviewers, length) {
                    out.push(ReviewShift { reviewers, length });
                }
            }
            if !out.is_empty() && out.len() == list.len() && out.iter().all(|s| s.reviewers == 0) {
                ctx.push(
                    node,
                    "no shift has reviewers: nothing would ever be reviewed",
                    Some("give at least one shift `reviewers: 1` or more".to_owned()),
                );
            }
            Some(out)
        }
        (Ok(Some(_)), Ok(Some(_))) => {
            ctx.push(
                body.at_or_near(&["shifts"]),
                "give either `reviewers` (a constant staff) or `shifts`, not both",
                None,
            );
            None
        }
        (Ok(None), Ok(None)) => {
            ctx.push(
                body,
                "missing required key `reviewers` (or `shifts`)",
                Some("add e.g. `reviewers: 4` or `shifts: [ { reviewers: 6, length: 8h }, { reviewers: 0, length: 16h } ]`".to_owned()),
            );
            None
        }
        _ => None,
    };
    if ctx.issues.len() != before {
        return None;
    }
    Some(ReviewQueueSpec {
        share: share?,
        review_time: review_time?,
        shifts: shifts?,
    })
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::SimDuration;
    use sysdes_models::{ComponentKind, ReviewQueueSpec};

    use crate::test_support::{first_kind, has, only_problem, problem_texts};

    fn scenario(body: &str) -> String {
        format!(
            "name: t\nduration: 60s\ncomponents:\n  review:\n    type: review_queue\n{body}workloads:\n  - name: outputs\n    target: review\n    arrival: {{ poisson: 10/s }}\n"
        )
    }

    fn queue(body: &str) -> ReviewQueueSpec {
        match first_kind(&scenario(body)) {
            Ok(ComponentKind::ReviewQueue(q)) => q,
            other => panic!("not a review queue: {other:?}"),
        }
    }

    #[test]
    fn reads_constant_reviewers_and_shifts() {
        let q = queue("    share: 0.1\n    review_time: { exponential: 30s }\n    reviewers: 4\n");
        assert_eq!((q.share, q.max_reviewers(), q.shifts.len()), (0.1, 4, 1));
        let q = queue(
            "    review_time: 30s\n    shifts: [ { reviewers: 6, length: 8h }, { reviewers: 0, length: 16h } ]\n",
        );
        assert_eq!(q.share, 1.0);
        assert_eq!(q.shifts[1].reviewers, 0);
        let percent = queue("    share: 4%\n    review_time: 30s\n    reviewers: 2\n");
        assert_eq!(percent.share, 0.04);
        assert_eq!(q.shifts[0].length, SimDuration::from_secs(8 * 3600));
    }

    #[test]
    fn bad_review_queues_get_located_errors() {
        let (line, _, message, _) = only_problem(&scenario(
            "    share: 1.5\n    review_time: 1s\n    reviewers: 1\n",
        ));
        assert_eq!(
            (line, message.as_str()),
            (
                6,
                "`share`: a share must be from 0 to 1 (0 % to 100 %), found `1.5`"
            )
        );
        has(
            &problem_texts(&scenario("    review_time: 1s\n")),
            "missing required key `reviewers` (or `shifts`)",
        );
        has(
            &problem_texts(&scenario(
                "    review_time: 1s\n    reviewers: 2\n    shifts: [ { reviewers: 1, length: 1h } ]\n",
            )),
            "not both",
        );
        has(
            &problem_texts(&scenario(
                "    review_time: 1s\n    shifts: [ { reviewers: 1, length: 0s } ]\n",
            )),
            "length",
        );
        has(
            &problem_texts(&scenario(
                "    review_time: 1s\n    shifts: [ { reviewers: 0, length: 1h }, { reviewers: 0, length: 2h } ]\n",
            )),
            "no shift has reviewers",
        );
        has(
            &problem_texts(&scenario("    review_time: 1s\n    reviewer: 2\n")),
            "did you mean `reviewers`",
        );
    }
}
