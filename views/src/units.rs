//! Numbers as people read them: `14.2M`, `1.24µs`, `2 KiB`, `1:02:03`.
//!
//! Each formatter is a small `Display` value so a widget can `write!` it into a reused buffer
//! or `format!` it once; none of them allocates by itself.

use std::fmt;
use std::time::Duration;

/// A count or rate with an SI suffix and about three significant digits: `950`, `1.23k`,
/// `14.2M`, `3.10G`. Negative and non-finite values print as `-`.
#[derive(Clone, Copy, Debug)]
pub struct Si(pub f64);

impl fmt::Display for Si {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if !v.is_finite() || v < 0.0 {
            return f.pad("-");
        }
        const UNITS: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
        for (scale, suffix) in UNITS {
            // Round to three digits first so that 999_960 prints as 1.00M, not 1000k.
            if sig3(v) >= scale {
                return f.pad(&three_digits(v / scale, suffix));
            }
        }
        if v >= 100.0 || v == v.trunc() {
            f.pad(&format!("{v:.0}"))
        } else {
            f.pad(&three_digits(v, ""))
        }
    }
}

/// `x` rounded to three significant digits.
fn sig3(x: f64) -> f64 {
    if x <= 0.0 {
        return x;
    }
    let factor = 10f64.powf(x.log10().floor() - 2.0);
    (x / factor).round() * factor
}

/// Rounds `x` (>= 1) to three significant digits.
fn round3(x: f64) -> f64 {
    if x >= 100.0 {
        x.round()
    } else if x >= 10.0 {
        (x * 10.0).round() / 10.0
    } else {
        (x * 100.0).round() / 100.0
    }
}

fn three_digits(x: f64, suffix: &str) -> String {
    let r = round3(x);
    if r >= 100.0 {
        format!("{r:.0}{suffix}")
    } else if r >= 10.0 {
        format!("{r:.1}{suffix}")
    } else {
        format!("{r:.2}{suffix}")
    }
}

/// A duration in nanoseconds with the unit that keeps it short: `38ns`, `1.24µs`, `124µs`,
/// `12.4ms`, `1.50s`. With `ascii`, `us` replaces `µs`.
#[derive(Clone, Copy, Debug)]
pub struct Nanos {
    /// The value, ns.
    pub ns: u64,
    /// Spell micro as `u`.
    pub ascii: bool,
}

impl Nanos {
    /// `ns` nanoseconds, in the glyph set's spelling of micro.
    pub fn new(ns: u64, ascii: bool) -> Nanos {
        Nanos { ns, ascii }
    }
}

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Display only: the precision lost converting to f64 is far below three digits.
        #[allow(clippy::cast_precision_loss)]
        let v = self.ns as f64;
        let micro = if self.ascii { "us" } else { "µs" };
        let s = if self.ns < 1_000 {
            format!("{}ns", self.ns)
        } else if sig3(v) < 1e6 {
            three_digits(v / 1e3, micro)
        } else if sig3(v) < 1e9 {
            three_digits(v / 1e6, "ms")
        } else {
            three_digits(v / 1e9, "s")
        };
        f.pad(&s)
    }
}

/// A byte count in binary units: `8 B`, `64 B`, `2 KiB`, `1.5 MiB`.
#[derive(Clone, Copy, Debug)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
        let mut unit = 0;
        let mut whole = self.0;
        while whole >= 1024 && unit + 1 < UNITS.len() {
            whole /= 1024;
            unit += 1;
        }
        let exact = unit == 0 || self.0.is_multiple_of(1u64 << (10 * unit));
        let s = if exact {
            format!("{whole} {}", UNITS[unit])
        } else {
            #[allow(clippy::cast_precision_loss)]
            let v = self.0 as f64 / (1u64 << (10 * unit)) as f64;
            format!("{} {}", three_digits(v, ""), UNITS[unit])
        };
        f.pad(&s)
    }
}

/// Elapsed time as a clock: `12.3s` under a minute, `4:05` under an hour, `1:02:03` beyond.
#[derive(Clone, Copy, Debug)]
pub struct Clock(pub Duration);

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let s = if self.0 < Duration::from_millis(100) {
            // A short trace or run: `6.00ms`, not `0.0s` (µs spelled `us`: a clock is plain text).
            Nanos::new(u64::try_from(self.0.as_nanos()).unwrap_or(u64::MAX), true).to_string()
        } else if secs < 60 {
            format!("{:.1}s", self.0.as_secs_f64())
        } else if secs < 3600 {
            format!("{}:{:02}", secs / 60, secs % 60)
        } else {
            format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
        };
        f.pad(&s)
    }
}

/// A percentage with one decimal, `-` when the denominator is zero.
#[derive(Clone, Copy, Debug)]
pub struct Percent(pub f64);

impl Percent {
    /// `num / den` as a percentage.
    // Display only.
    #[allow(clippy::cast_precision_loss)]
    pub fn of(num: u64, den: u64) -> Percent {
        if den == 0 {
            Percent(f64::NAN)
        } else {
            Percent(num as f64 * 100.0 / den as f64)
        }
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_finite() {
            f.pad(&format!("{:.1}%", self.0))
        } else {
            f.pad("-")
        }
    }
}

/// The number of decimal digits of `n` (1 for 0).
pub(crate) fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_keeps_three_digits() {
        let s = |v| Si(v).to_string();
        assert_eq!(s(0.0), "0");
        assert_eq!(s(7.0), "7");
        assert_eq!(s(0.25), "0.25");
        assert_eq!(s(950.0), "950");
        assert_eq!(s(999.4), "999");
        assert_eq!(s(1234.0), "1.23k");
        assert_eq!(s(14_200_000.0), "14.2M");
        assert_eq!(s(999_960.0), "1.00M");
        assert_eq!(s(3.1e9), "3.10G");
        assert_eq!(s(f64::NAN), "-");
        assert_eq!(s(-1.0), "-");
        assert_eq!(format!("{:>6}", Si(1234.0)), " 1.23k");
    }

    #[test]
    fn nanos_pick_the_short_unit() {
        let n = |v| Nanos::new(v, false).to_string();
        assert_eq!(n(38), "38ns");
        assert_eq!(n(999), "999ns");
        assert_eq!(n(1_240), "1.24µs");
        assert_eq!(n(124_000), "124µs");
        assert_eq!(n(999_999), "1.00ms");
        assert_eq!(n(12_400_000), "12.4ms");
        assert_eq!(n(1_500_000_000), "1.50s");
        assert_eq!(Nanos::new(1_240, true).to_string(), "1.24us");
    }

    #[test]
    fn bytes_in_binary_units() {
        assert_eq!(Bytes(8).to_string(), "8 B");
        assert_eq!(Bytes(64).to_string(), "64 B");
        assert_eq!(Bytes(2048).to_string(), "2 KiB");
        assert_eq!(Bytes(1536 * 1024).to_string(), "1.50 MiB");
        assert_eq!(Bytes(8 << 20).to_string(), "8 MiB");
    }

    #[test]
    fn clock_and_percent() {
        assert_eq!(Clock(Duration::from_millis(12_345)).to_string(), "12.3s");
        // A 6 ms trace is 6.00ms, not 0.0s.
        assert_eq!(Clock(Duration::from_micros(6_000)).to_string(), "6.00ms");
        assert_eq!(Clock(Duration::from_millis(300)).to_string(), "0.3s");
        assert_eq!(Clock(Duration::from_secs(245)).to_string(), "4:05");
        assert_eq!(Clock(Duration::from_secs(3723)).to_string(), "1:02:03");
        assert_eq!(Percent::of(1, 3).to_string(), "33.3%");
        assert_eq!(Percent::of(1, 0).to_string(), "-");
        assert_eq!(digits(0), 1);
        assert_eq!(digits(9), 1);
        assert_eq!(digits(10), 2);
        assert_eq!(digits(131_071), 6);
    }
}
