//! Timing that survives a noisy machine: contenders run interleaved (A, B, C, A, B, C, ...) in
//! rounds, each round timing one batch of each, and what is reported is the median over rounds of
//! per-round figures and per-round ratios. A slow spell hits every contender of a round alike, so
//! it moves the ratio far less than a time.

use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Rounds, each timing one batch of every contender.
    pub rounds: usize,
    /// A batch repeats the operation until it lasts at least this long.
    pub batch: Duration,
    /// Benchmarks whose contenders are cheap to set up split their rounds into this many passes,
    /// each with freshly compiled modules and new instances: where code and memory land differs
    /// from one pass to the next (as from one run to the next), and the figures cover that.
    pub passes: usize,
}

impl Plan {
    /// The full plan, or a short one for `--quick`.
    #[must_use]
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                rounds: 3,
                batch: Duration::from_millis(2),
                passes: 1,
            }
        } else {
            Self {
                rounds: 21,
                batch: Duration::from_millis(20),
                passes: 3,
            }
        }
    }
}

impl Plan {
    /// The plan of one pass: `rounds / passes` rounds.
    #[must_use]
    pub fn pass(&self) -> Self {
        Self {
            rounds: (self.rounds / self.passes.max(1)).max(1),
            passes: 1,
            ..*self
        }
    }
}

/// A contender's per-round times for one operation, in nanoseconds per operation.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// One figure per round.
    pub per_round: Vec<f64>,
}

impl Samples {
    /// The median time per operation, in nanoseconds.
    #[must_use]
    pub fn median(&self) -> f64 {
        median(&self.per_round)
    }

    /// The first and third quartiles, in nanoseconds.
    #[must_use]
    pub fn quartiles(&self) -> (f64, f64) {
        quartiles(&self.per_round)
    }

    /// The median over rounds of `self / other`: how many times longer `self` takes.
    #[must_use]
    pub fn ratio_to(&self, other: &Self) -> Ratio {
        let ratios: Vec<f64> = self
            .per_round
            .iter()
            .zip(&other.per_round)
            .map(|(a, b)| a / b)
            .collect();
        let (low, high) = quartiles(&ratios);
        Ratio {
            median: median(&ratios),
            low,
            high,
        }
    }
}

/// A ratio of two contenders' times, measured round by round.
#[derive(Debug, Clone, Copy)]
pub struct Ratio {
    /// The median over rounds.
    pub median: f64,
    /// The first quartile over rounds.
    pub low: f64,
    /// The third quartile over rounds.
    pub high: f64,
}

impl Ratio {
    /// The inverse ratio (`other / self`): how many times faster `self` is.
    #[must_use]
    pub fn inverse(self) -> Self {
        Self {
            median: 1.0 / self.median,
            low: 1.0 / self.high,
            high: 1.0 / self.low,
        }
    }
}

/// The median of `values` (NaN when empty).
#[must_use]
pub fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

/// The first and third quartiles of `values`.
#[must_use]
pub fn quartiles(values: &[f64]) -> (f64, f64) {
    (percentile(values, 0.25), percentile(values, 0.75))
}

fn percentile(values: &[f64], at: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = at * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let weight = position - below as f64;
    sorted[below] * (1.0 - weight) + sorted[above] * weight
}

/// One operation to time; returns `Err` to stop the benchmark.
pub type Operation<'a, E> = Box<dyn FnMut() -> Result<(), E> + 'a>;

/// One operation that times itself, leaving out its own untimed setup; returns the time taken.
/// It is told the round it runs in (calibration runs in round 0), so that it can change its
/// input or start afresh from one round to the next.
pub type TimedOperation<'a, E> = Box<dyn FnMut(usize) -> Result<Duration, E> + 'a>;

/// Times each operation in rounds, interleaved, and returns each one's [`Samples`].
///
/// Each operation first runs once untimed (warming caches, growing memory, compiling lazily),
/// then a calibration picks its batch size so that a batch lasts about `plan.batch`. The order
/// within a round rotates, so no contender always runs right after the same one.
///
/// # Errors
///
/// The first error an operation returns.
pub fn interleaved<E>(plan: &Plan, operations: &mut [Operation<'_, E>]) -> Result<Vec<Samples>, E> {
    let mut batches: Vec<Batch<'_, E>> = operations
        .iter_mut()
        .map(|operation| -> Batch<'_, E> {
            Box::new(move |_round, runs| {
                let start = Instant::now();
                for _ in 0..runs {
                    operation()?;
                }
                Ok(start.elapsed())
            })
        })
        .collect();
    rounds(plan, &mut batches)
}

/// As [`interleaved`], for operations that time themselves (and may do untimed work first,
/// such as replacing an instance whose memory has grown too far).
///
/// # Errors
///
/// The first error an operation returns.
pub fn interleaved_timed<E>(
    plan: &Plan,
    operations: &mut [TimedOperation<'_, E>],
) -> Result<Vec<Samples>, E> {
    let mut batches: Vec<Batch<'_, E>> = operations
        .iter_mut()
        .map(|operation| -> Batch<'_, E> {
            Box::new(move |round, runs| {
                let mut total = Duration::ZERO;
                for _ in 0..runs {
                    total += operation(round)?;
                }
                Ok(total)
            })
        })
        .collect();
    rounds(plan, &mut batches)
}

/// A batch: in round `round`, runs the operation `n` times, returns the time they took.
type Batch<'a, E> = Box<dyn FnMut(usize, u64) -> Result<Duration, E> + 'a>;

fn rounds<E>(plan: &Plan, batches: &mut [Batch<'_, E>]) -> Result<Vec<Samples>, E> {
    let mut batch_sizes = Vec::with_capacity(batches.len());
    for batch in batches.iter_mut() {
        batch(0, 1)?;
        let mut runs = 0u64;
        let mut spent = Duration::ZERO;
        while spent < plan.batch / 4 || runs == 0 {
            spent += batch(0, 1)?;
            runs += 1;
        }
        let per_run = spent.as_secs_f64() / runs as f64;
        let size = (plan.batch.as_secs_f64() / per_run).ceil().max(1.0) as u64;
        batch_sizes.push(size);
    }
    let count = batches.len();
    let mut samples = vec![Samples::default(); count];
    for round in 0..plan.rounds {
        for offset in 0..count {
            let index = (round + offset) % count;
            let runs = batch_sizes[index];
            let elapsed = batches[index](round, runs)?;
            samples[index]
                .per_round
                .push(elapsed.as_secs_f64() * 1e9 / runs as f64);
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_quartiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(quartiles(&[1.0, 2.0, 3.0, 4.0, 5.0]), (2.0, 4.0));
    }

    #[test]
    fn ratios_are_taken_round_by_round() {
        let a = Samples {
            per_round: vec![2.0, 4.0, 6.0],
        };
        let b = Samples {
            per_round: vec![1.0, 2.0, 3.0],
        };
        assert_eq!(a.ratio_to(&b).median, 2.0);
        assert_eq!(a.ratio_to(&b).inverse().median, 0.5);
    }
}
