//! How the report writes its figures: ratios, ranges, sizes and rates.

use crate::measure::Ratio;

/// The name of a workload mode.
#[must_use]
pub fn mode_name(with_realloc: bool) -> &'static str {
    if with_realloc {
        "with realloc"
    } else {
        "alloc + free"
    }
}

/// A ratio's median, as `1.23`.
#[must_use]
pub fn times(ratio: Ratio) -> String {
    format!("{:.2}", ratio.median)
}

/// A ratio's interquartile range, as `[1.20–1.26]`.
#[must_use]
pub fn iqr(ratio: Ratio) -> String {
    format!("[{:.2}–{:.2}]", ratio.low, ratio.high)
}

/// A payload length in B, KiB or MiB.
#[must_use]
pub fn bytes(len: usize) -> String {
    match len {
        len if len >= 1 << 20 => format!("{} MiB", len >> 20),
        len if len >= 1 << 10 => format!("{} KiB", len >> 10),
        len => format!("{len} B"),
    }
}

/// A rate per second with k or M.
#[must_use]
pub fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1} k", per_second / 1e3)
    } else {
        format!("{per_second:.0}")
    }
}
