//! The goals the benchmarks are held to (listed in `docs/BENCHMARKS.md`), evaluated on a run's
//! medians.

use crate::format::{bytes, iqr, mode_name, times};
use crate::imports;
use crate::results::Results;
use crate::roundtrip;
use crate::workload::Route;

/// One of the benchmarks' goals and how the run did.
#[derive(Debug, Clone)]
pub struct Goal {
    /// What was asked.
    pub goal: String,
    /// What was measured.
    pub figure: String,
    /// Whether it holds (on the median).
    pub met: bool,
}

/// Evaluates the goals on the medians.
#[must_use]
pub fn evaluate(results: &Results) -> Vec<Goal> {
    let mut goals = Vec::new();
    for mode in &results.workload.modes {
        let name = mode_name(mode.with_realloc);
        let talc_raw = &mode.get("talc", Route::Raw).samples;
        let talc_abi = &mode.get("talc", Route::Abi).samples;
        let cost = talc_abi.ratio_to(talc_raw);
        goals.push(Goal {
            goal: format!("workload, {name}: talc through the ABI ≤ 1.15 × raw talc's time"),
            figure: format!("{} × {}", times(cost), iqr(cost)),
            met: cost.median <= 1.15,
        });
        let dlmalloc_raw = &mode.get("dlmalloc", Route::Raw).samples;
        let dlmalloc_abi = &mode.get("dlmalloc", Route::Abi).samples;
        let speedup = dlmalloc_raw.ratio_to(talc_abi);
        let against_abi = dlmalloc_abi.ratio_to(talc_abi);
        goals.push(Goal {
            goal: format!("workload, {name}: talc through the ABI ≥ 1.6 × as fast as dlmalloc"),
            figure: format!(
                "{} × raw dlmalloc {}; {} × dlmalloc through the ABI",
                times(speedup),
                iqr(speedup),
                times(against_abi)
            ),
            met: speedup.median >= 1.6,
        });
    }
    for roundtrips in [&results.roundtrip, &results.roundtrip_speed] {
        let build = roundtrips.build.label();
        for result in &roundtrips.payloads {
            owned_goals(&mut goals, build, result);
            let speedup =
                result.samples[roundtrip::COMPONENT].ratio_to(&result.samples[roundtrip::GUESTMEM]);
            let target = match result.len {
                16 => 2.5,
                1024 => 2.0,
                1_048_576 => 1.0,
                _ => continue,
            };
            goals.push(Goal {
                goal: format!(
                    "round trip, {}, {build}: guestmem-host ≥ {target} × the Component Model's calls/s",
                    bytes(result.len)
                ),
                figure: format!("{} × {}", times(speedup), iqr(speedup)),
                met: speedup.median >= target,
            });
            if result.len == 16 {
                let cost = result.samples[roundtrip::ASYNC_TOKIO]
                    .ratio_to(&result.samples[roundtrip::GUESTMEM]);
                goals.push(Goal {
                    goal: format!(
                        "round trip, 16 B, {build}: call_bytes_async (tokio) within 1.3 × call_bytes's time"
                    ),
                    figure: format!("{} × {}", times(cost), iqr(cost)),
                    met: cost.median <= 1.3,
                });
                let against = result.samples[roundtrip::MANUAL]
                    .ratio_to(&result.samples[roundtrip::GUESTMEM]);
                goals.push(Goal {
                    goal: format!(
                        "round trip, 16 B, {build}: guestmem-host ≥ 1 × the articles' convention's calls/s"
                    ),
                    figure: format!("{} × {}", times(against), iqr(against)),
                    met: against.median >= 1.0,
                });
            }
            if result.len == 1 << 20 {
                let cost = result.samples[roundtrip::GUESTMEM]
                    .ratio_to(&result.samples[roundtrip::MEMCPY]);
                goals.push(Goal {
                    goal: format!(
                        "round trip, 1 MiB, {build}: guestmem within 4 × three memcpys' time"
                    ),
                    figure: format!("{} × {}", times(cost), iqr(cost)),
                    met: cost.median <= 4.0,
                });
            }
        }
    }
    for calls in [&results.imports, &results.imports_speed] {
        let build = calls.build.label();
        for result in &calls.payloads {
            let size = bytes(result.len);
            let speedup =
                result.samples[imports::COMPONENT].ratio_to(&result.samples[imports::BLOCK]);
            let target = if result.len == 16 { 1.5 } else { 1.2 };
            goals.push(Goal {
                goal: format!(
                    "host function answering {size}, {build}: guestmem ≥ {target} × the Component Model's calls/s"
                ),
                figure: format!("{} × {}", times(speedup), iqr(speedup)),
                met: speedup.median >= target,
            });
            let cost = result.samples[imports::ASYNC].ratio_to(&result.samples[imports::BLOCK]);
            goals.push(Goal {
                goal: format!(
                    "host function answering {size}, {build}: async host function (tokio) within 1.3 × the blocking one's time"
                ),
                figure: format!("{} × {}", times(cost), iqr(cost)),
                met: cost.median <= 1.3,
            });
        }
    }
    goals
}

/// Owned arguments: `in_place`'s `echo_owned` read with `call_view`, at 16 B against
/// the borrowed `echo` read the same way, at 1 MiB and 16 MiB against the Component Model and one
/// memcpy of the payload.
fn owned_goals(goals: &mut Vec<Goal>, build: &str, result: &roundtrip::PayloadResult) {
    let owned = &result.samples[roundtrip::OWNED];
    let size = bytes(result.len);
    if result.len == 16 {
        let against = result.samples[roundtrip::BORROWED].ratio_to(owned);
        goals.push(Goal {
            goal: format!(
                "round trip, 16 B, {build}: owned echo ≥ 1 × the borrowed echo's calls/s (both read with call_view)"
            ),
            figure: format!("{} × {}", times(against), iqr(against)),
            met: against.median >= 1.0,
        });
    }
    if result.len == 1 << 20 || result.len == 16 << 20 {
        let speedup = result.samples[roundtrip::COMPONENT].ratio_to(owned);
        goals.push(Goal {
            goal: format!(
                "round trip, {size}, {build}: owned echo ≥ 1.3 × the Component Model's calls/s"
            ),
            figure: format!("{} × {}", times(speedup), iqr(speedup)),
            met: speedup.median >= 1.3,
        });
        let cost = owned.ratio_to(&result.samples[roundtrip::MEMCPY_ONCE]);
        goals.push(Goal {
            goal: format!("round trip, {size}, {build}: owned echo within 1.5 × one memcpy's time"),
            figure: format!("{} × {}", times(cost), iqr(cost)),
            met: cost.median <= 1.5,
        });
    }
}
