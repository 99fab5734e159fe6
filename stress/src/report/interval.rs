//! Medians with confidence intervals, for A/B comparisons made of alternating turns.
//!
//! An A/B comparison here is a list of *rounds*: in each round every side ran one turn of the
//! same load, one after the other, and left one figure (ops/s, a p99). On a shared VM the
//! machine drifts between rounds (another tenant, a migrated vCPU), so the figures are
//! compared within rounds: the ratio B/A is the median of the per-round ratios, and its
//! interval comes from a bootstrap that resamples whole rounds, which keeps each round's
//! pair together. A side's own median gets the same percentile bootstrap over its turns.
//!
//! The bootstrap is seeded (the same turns give the same interval, so a report can be
//! reproduced and a test can know its answer), uses [`BOOTSTRAP_RESAMPLES`] resamples and
//! reports the central [`CONFIDENCE`] of the resampled medians. With few rounds the
//! percentile bootstrap is a little narrow (it cannot produce values outside the observed
//! ones); [`MIN_ROUNDS`] keeps it honest enough for the question asked, "does the interval
//! contain 1.0?".
//!
//! Hand-written: the arithmetic is twenty lines, and the statistics crates on offer either
//! bring a large dependency tree or do not offer paired resampling.

use serde::Serialize;
use slotscope_table::SplitMix64;

/// Resamples per bootstrap.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// The central share of the resampled medians an interval covers.
pub const CONFIDENCE: f64 = 0.95;
/// Fewest rounds for an interval; below it the comparison says "too few turns".
pub const MIN_ROUNDS: usize = 5;
/// The bootstrap's fixed seed.
const SEED: u64 = 0x5107_5c09_e1ab_0001;

/// A median and the interval around it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The median of the values.
    pub median: f64,
    /// The interval's low end.
    pub lo: f64,
    /// The interval's high end.
    pub hi: f64,
    /// How many values it came from.
    pub n: usize,
}

impl Estimate {
    /// Whether `x` lies inside the interval (ends included).
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// What the ratio's interval says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The interval lies wholly above 1.0.
    Higher,
    /// The interval lies wholly below 1.0.
    Lower,
    /// The interval contains 1.0: the two sides cannot be told apart.
    WithinNoise,
    /// Fewer than [`MIN_ROUNDS`] rounds: no interval.
    TooFewTurns,
}

impl Verdict {
    /// The verdict for a ratio estimate (`None`: too few rounds).
    pub fn of(ratio: Option<&Estimate>) -> Verdict {
        match ratio {
            None => Verdict::TooFewTurns,
            Some(r) if r.lo > 1.0 => Verdict::Higher,
            Some(r) if r.hi < 1.0 => Verdict::Lower,
            Some(_) => Verdict::WithinNoise,
        }
    }

    /// The words for it, for a measure where `higher_is_better`.
    pub fn words(self, higher_is_better: bool) -> &'static str {
        match (self, higher_is_better) {
            (Verdict::Higher, true) | (Verdict::Lower, false) => "better",
            (Verdict::Higher, false) | (Verdict::Lower, true) => "worse",
            (Verdict::WithinNoise, _) => "within noise",
            (Verdict::TooFewTurns, _) => "too few turns",
        }
    }
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    median_in_place(&mut v)
}

fn median_in_place(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The `q` quantile of sorted `v` (nearest rank).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
fn quantile(v: &[f64], q: f64) -> f64 {
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i.min(v.len() - 1)]
}

/// Bootstraps `stat` over `n` items: the statistic of each resample (indices drawn with
/// replacement), sorted.
fn bootstrap(n: usize, mut stat: impl FnMut(&[usize]) -> f64) -> Vec<f64> {
    let mut rng = SplitMix64::new(SEED ^ n as u64);
    let mut idx = vec![0usize; n];
    let mut out = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    for _ in 0..BOOTSTRAP_RESAMPLES {
        for i in &mut idx {
            *i = rng.below(n);
        }
        let s = stat(&idx);
        if !s.is_nan() {
            out.push(s);
        }
    }
    out.sort_unstable_by(f64::total_cmp);
    out
}

fn estimate_from(median: f64, resampled: &[f64], n: usize) -> Estimate {
    let tail = (1.0 - CONFIDENCE) / 2.0;
    if resampled.is_empty() {
        return Estimate { median, lo: median, hi: median, n };
    }
    Estimate { median, lo: quantile(resampled, tail), hi: quantile(resampled, 1.0 - tail), n }
}

/// The median of `values` with its bootstrap interval; `None` with fewer than
/// [`MIN_ROUNDS`] values (NaNs are left out).
pub fn median_estimate(values: &[f64]) -> Option<Estimate> {
    let v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.len() < MIN_ROUNDS {
        return None;
    }
    let mut scratch = Vec::with_capacity(v.len());
    let resampled = bootstrap(v.len(), |idx| {
        scratch.clear();
        scratch.extend(idx.iter().map(|&i| v[i]));
        median_in_place(&mut scratch)
    });
    Some(estimate_from(median(&v), &resampled, v.len()))
}

/// B against A over paired rounds: the median of the per-round ratios `b[i] / a[i]` with a
/// bootstrap interval over rounds; `None` with fewer than [`MIN_ROUNDS`] usable rounds (a
/// round whose A figure is not positive, or either figure is not finite, is left out).
pub fn ratio_estimate(a: &[f64], b: &[f64]) -> Option<Estimate> {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| **x > 0.0 && x.is_finite() && y.is_finite())
        .map(|(x, y)| y / x)
        .collect();
    median_estimate(&ratios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_known_lists() {
        assert!((median(&[3.0, 1.0, 2.0]) - 2.0).abs() < 1e-12);
        assert!((median(&[4.0, 1.0, 3.0, 2.0]) - 2.5).abs() < 1e-12);
        assert!(median(&[]).is_nan());
        assert!((median(&[f64::NAN, 5.0]) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn identical_values_give_a_point_interval() {
        let e = median_estimate(&[7.0; 10]).unwrap();
        assert_eq!((e.median, e.lo, e.hi, e.n), (7.0, 7.0, 7.0, 10));
    }

    #[test]
    fn too_few_values_give_no_interval() {
        assert!(median_estimate(&[1.0, 2.0, 3.0, 4.0]).is_none());
        assert_eq!(Verdict::of(None), Verdict::TooFewTurns);
        // A round with A = 0 is unusable: 5 rounds, one of them dropped.
        assert!(ratio_estimate(&[0.0, 1.0, 1.0, 1.0, 1.0], &[1.0; 5]).is_none());
    }

    #[test]
    fn the_interval_brackets_the_median_within_the_data() {
        let v: Vec<f64> = (1..=21).map(f64::from).collect();
        let e = median_estimate(&v).unwrap();
        assert!((e.median - 11.0).abs() < 1e-12);
        assert!(e.lo < 11.0 && e.hi > 11.0, "{e:?}");
        assert!(e.lo >= 1.0 && e.hi <= 21.0);
        // The median of 21 values: the 95% interval lies around ranks 6..16 (binomial).
        assert!((5.0..=8.0).contains(&e.lo) && (14.0..=17.0).contains(&e.hi), "{e:?}");
        // Seeded: the same data gives the same interval.
        assert_eq!(median_estimate(&v), Some(e));
    }

    #[test]
    fn a_clear_effect_is_named_and_noise_is_called_noise() {
        // B is 20% faster in every round, with drift between rounds that both sides share.
        let a: Vec<f64> = (0..12).map(|i| 100.0 + f64::from(i % 4) * 30.0).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 1.2).collect();
        let r = ratio_estimate(&a, &b).unwrap();
        assert!((r.median - 1.2).abs() < 1e-9 && (r.lo - 1.2).abs() < 1e-9, "{r:?}");
        assert_eq!(Verdict::of(Some(&r)), Verdict::Higher);
        assert_eq!(Verdict::Higher.words(true), "better");
        assert_eq!(Verdict::Higher.words(false), "worse");
        // Alternating +-5% around equal: the interval holds 1.0.
        let b: Vec<f64> =
            a.iter().enumerate().map(|(i, x)| x * if i % 2 == 0 { 1.05 } else { 0.95 }).collect();
        let r = ratio_estimate(&a, &b).unwrap();
        assert!(r.contains(1.0), "{r:?}");
        assert_eq!(Verdict::of(Some(&r)), Verdict::WithinNoise);
        assert_eq!(Verdict::WithinNoise.words(true), "within noise");
        // Slower in every round.
        let b: Vec<f64> = a.iter().map(|x| x * 0.5).collect();
        assert_eq!(Verdict::of(ratio_estimate(&a, &b).as_ref()), Verdict::Lower);
    }
}
