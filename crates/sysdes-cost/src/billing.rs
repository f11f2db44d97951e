//! Billing rules: how an instance's lifetime becomes billed seconds.

/// The increment a lifetime is rounded up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Increment {
    /// Whole seconds (EC2, Compute Engine, Fargate after their minimum).
    #[default]
    PerSecond,
    /// Whole hours (older or marketplace billing).
    PerHour,
}

impl Increment {
    /// The name used in scenario files and price tables.
    pub fn name(self) -> &'static str {
        match self {
            Increment::PerSecond => "per_second",
            Increment::PerHour => "per_hour",
        }
    }
}

/// A billing rule: an increment and a minimum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Billing {
    /// What a lifetime is rounded up to.
    pub increment: Increment,
    /// Seconds billed at least, however short the lifetime.
    pub minimum_s: u64,
}

const NS_PER_S: u64 = 1_000_000_000;

impl Billing {
    /// The seconds billed for a lifetime of `ns` nanoseconds: rounded up
    /// to the increment, and at least the minimum.
    pub fn billed_seconds(&self, ns: u64) -> u64 {
        let s = ns.div_ceil(NS_PER_S);
        let s = match self.increment {
            Increment::PerSecond => s,
            Increment::PerHour => s.div_ceil(3600).saturating_mul(3600),
        };
        s.max(self.minimum_s)
    }
}

/// Parses a whole number of seconds written with a unit: `60s`, `1m`,
/// `1h`, `0s`. A price table's `minimum` uses it (the scenario loader reads
/// its own durations).
pub fn parse_seconds(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("expected a whole number of seconds such as `60s`, found `{text}`"))?;
    let scale = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        _ => {
            return Err(format!(
                "expected a duration in whole `s`, `m` or `h` such as `60s`, found `{text}`"
            ));
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_second_rounds_up_to_whole_seconds_and_applies_the_minimum() {
        let b = Billing {
            increment: Increment::PerSecond,
            minimum_s: 60,
        };
        assert_eq!(b.billed_seconds(0), 60);
        assert_eq!(b.billed_seconds(59_999_999_999), 60);
        assert_eq!(b.billed_seconds(60_000_000_001), 61);
        assert_eq!(b.billed_seconds(3_600_000_000_000), 3600);
    }

    #[test]
    fn per_hour_rounds_up_to_whole_hours() {
        let b = Billing {
            increment: Increment::PerHour,
            minimum_s: 0,
        };
        assert_eq!(b.billed_seconds(1), 3600);
        assert_eq!(b.billed_seconds(3_600_000_000_000), 3600);
        assert_eq!(b.billed_seconds(3_600_000_000_001), 7200);
        assert_eq!(b.billed_seconds(0), 0);
    }

    #[test]
    fn seconds_with_units() {
        assert_eq!(parse_seconds("60s"), Ok(60));
        assert_eq!(parse_seconds("2m"), Ok(120));
        assert_eq!(parse_seconds("1h"), Ok(3600));
        assert!(parse_seconds("60").is_err());
        assert!(parse_seconds("1.5s").is_err());
        assert!(parse_seconds("-1s").is_err());
    }
}
