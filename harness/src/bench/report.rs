//! The report: `report.md` (the tables the README carries, with the command, date and machine)
//! and `chart.svg`, both in `target/bench`.

use std::fmt::Write as _;
use std::path::Path;

use super::BenchError;
use super::leak::{LeakRow, ROUNDS};
use super::measure::Ratio;
use super::roundtrip::{self, CONTENDERS, RoundTrips};
use super::size::Sizes;
use super::workload::{ACTIONS, Route, Workload};
use crate::guests::ALLOCATORS;

/// The command that makes the report.
pub const COMMAND: &str = "cargo run --release -p harness -- bench";

/// Everything measured.
#[derive(Debug, Clone)]
pub struct Results {
    /// Part 1.
    pub sizes: Sizes,
    /// Part 2.
    pub workload: Workload,
    /// Part 3, guests built with the `guest` profile.
    pub roundtrip: RoundTrips,
    /// Part 3 again, guests built with `opt-level = 3`.
    pub roundtrip_speed: RoundTrips,
    /// Part 4.
    pub leaks: Vec<LeakRow>,
    /// Whether `--quick` shortened the run.
    pub quick: bool,
}

/// One of issue 4's goals and how the run did.
#[derive(Debug, Clone)]
pub struct Goal {
    /// What was asked.
    pub goal: String,
    /// What was measured.
    pub figure: String,
    /// Whether it holds (on the median).
    pub met: bool,
}

/// Writes `report.md` and `chart.svg` into `out`; returns the markdown.
///
/// # Errors
///
/// [`BenchError::Io`] if a file cannot be written.
pub fn write(out: &Path, results: &Results) -> Result<String, BenchError> {
    let markdown = markdown(results);
    for (name, text) in [("report.md", &markdown), ("chart.svg", &chart(results))] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|source| BenchError::Io { path, source })?;
    }
    Ok(markdown)
}

/// Evaluates issue 4's goals on the medians.
#[must_use]
pub fn goals(results: &Results) -> Vec<Goal> {
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
    goals
}

fn mode_name(with_realloc: bool) -> &'static str {
    if with_realloc {
        "with realloc"
    } else {
        "alloc + free"
    }
}

fn times(ratio: Ratio) -> String {
    format!("{:.2}", ratio.median)
}

fn iqr(ratio: Ratio) -> String {
    format!("[{:.2}–{:.2}]", ratio.low, ratio.high)
}

fn bytes(len: usize) -> String {
    match len {
        len if len >= 1 << 20 => format!("{} MiB", len >> 20),
        len if len >= 1 << 10 => format!("{} KiB", len >> 10),
        len => format!("{len} B"),
    }
}

fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1} k", per_second / 1e3)
    } else {
        format!("{per_second:.0}")
    }
}

/// The report's markdown.
#[must_use]
pub fn markdown(results: &Results) -> String {
    let mut md = String::new();
    let machine = Machine::detect();
    let plan = super::measure::Plan::new(results.quick);
    let rounds = results
        .workload
        .modes
        .first()
        .and_then(|mode| mode.contenders.first())
        .map_or(0, |contender| contender.samples.per_round.len());
    let _ = writeln!(md, "# guestmem benchmarks\n");
    let _ = writeln!(
        md,
        "`{COMMAND}`{} on {}, {}.\n",
        if results.quick {
            " --quick (a smoke test, not a measurement)"
        } else {
            ""
        },
        machine.date,
        machine.describe()
    );
    let _ = writeln!(
        md,
        "Contenders run interleaved in rounds ({rounds} rounds; the round trips in {passes} \
         passes of {per_pass}, each compiling and instantiating its guests anew, since where code \
         and memory land moves their figures by a few percent from run to run), in one process \
         and one wasmtime engine; each figure is the median over rounds, and each ratio the \
         median of the per-round ratios, with the interquartile range in brackets. The machine \
         is shared: read the ratios, not the times. (criterion is not used: it runs one \
         benchmark after another, so a slow spell lands on one contender; here every round runs \
         them all.)\n",
        passes = plan.passes,
        per_pass = plan.pass().rounds,
    );

    let _ = writeln!(md, "## Goals\n");
    let _ = writeln!(md, "| goal | measured | met |\n|---|---|---|");
    for goal in goals(results) {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            goal.goal,
            goal.figure,
            if goal.met { "yes" } else { "**no**" }
        );
    }

    let _ = writeln!(md, "\n## 1. Module size\n");
    let _ = writeln!(
        md,
        "Bytes of each example module, `guest` profile (`opt-level = \"z\"`, LTO, `panic = \
         \"abort\"`, stripped), per allocator back end, and the same guest written the articles' \
         way with std and Rust's default allocator (`harness/guests/manual`).\n"
    );
    let _ = write!(md, "| example |");
    for allocator in ALLOCATORS {
        let _ = write!(md, " {allocator} |");
    }
    let _ = writeln!(md, " std, default allocator |");
    let _ = writeln!(md, "|---|{}---:|", "---:|".repeat(ALLOCATORS.len()));
    for row in &results.sizes.rows {
        let _ = write!(md, "| `{}` |", row.example);
        for size in &row.per_allocator {
            let _ = write!(md, " {size} |");
        }
        let _ = writeln!(md, " {} |", row.std);
    }
    let _ = writeln!(
        md,
        "\n`echo` and `echo-copy` as a Component Model component (wit-bindgen, wasm32-wasip2, \
         `no_std` with dlmalloc so that it imports nothing): {} bytes. \
         The examples other than `minimal` carry the `stats` feature; `minimal` carries \
         `compact` and no `stats`.\n",
        results.sizes.component_echo
    );

    let _ = writeln!(md, "## 2. Allocator speed inside the guest\n");
    let _ = writeln!(
        md,
        "talc's random-actions workload run inside the guest under wasmtime: {ACTIONS} actions, \
         sizes 1 to 10,000 bytes, align 8, at least 50 blocks live, in each round the same \
         seeded sequence for every contender; through the raw `GlobalAlloc` and through guestmem's `alloc`, \
         `realloc` and `free` (`harness/guests/bench_workload`, no `stats`). Time per workload, \
         and its ratio to raw talc's (lower is faster).\n"
    );
    let _ = writeln!(
        md,
        "| allocator | path | alloc + free | × raw talc | with realloc | × raw talc |\n|---|---|---:|---:|---:|---:|"
    );
    for allocator in ALLOCATORS {
        for route in [Route::Raw, Route::Abi] {
            let _ = write!(md, "| {allocator} | {} |", route.label());
            for mode in &results.workload.modes {
                let samples = &mode.get(allocator, route).samples;
                let ratio = samples.ratio_to(&mode.get("talc", Route::Raw).samples);
                let _ = write!(
                    md,
                    " {:.2} ms | {} {} |",
                    samples.median() / 1e6,
                    times(ratio),
                    iqr(ratio)
                );
            }
            let _ = writeln!(md);
        }
    }
    let _ = writeln!(
        md,
        "\nEach round runs a new seed and new instances (warmed by one untimed workload). The \
         largest linear memory after a workload, in 64 KiB pages, although every workload frees \
         all it allocated (an instance past 1 GiB is replaced, untimed):\n"
    );
    let _ = writeln!(
        md,
        "| allocator | alloc + free, raw | ABI | with realloc, raw | ABI |\n|---|---:|---:|---:|---:|"
    );
    for allocator in ALLOCATORS {
        let _ = write!(md, "| {allocator} |");
        for mode in &results.workload.modes {
            for route in [Route::Raw, Route::Abi] {
                let contender = mode.get(allocator, route);
                if contender.replaced > 0 {
                    let _ = write!(
                        md,
                        " {} ({} replaced) |",
                        contender.max_pages, contender.replaced
                    );
                } else {
                    let _ = write!(md, " {} |", contender.max_pages);
                }
            }
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(
        md,
        "\nThe ABI's own cost, per allocator (ABI time ÷ raw time):\n"
    );
    let _ = writeln!(
        md,
        "| allocator | alloc + free | with realloc |\n|---|---:|---:|"
    );
    for allocator in ALLOCATORS {
        let _ = write!(md, "| {allocator} |");
        for mode in &results.workload.modes {
            let ratio = mode
                .get(allocator, Route::Abi)
                .samples
                .ratio_to(&mode.get(allocator, Route::Raw).samples);
            let _ = write!(md, " {} {} |", times(ratio), iqr(ratio));
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "\n## 3. Round trip from the host\n");
    let _ = writeln!(
        md,
        "`echo` called from the host under wasmtime: input copied in, echoed, result copied out, \
         both blocks freed. guestmem is the `echo` example with talc, called through typed \
         exports (and, for reference, through the harness's generic `Guest::call_result`); the \
         articles' convention is `harness/guests/manual` (std, `Vec::with_capacity` + \
         `mem::forget`, no header, length known to the host); the Component Model is \
         `harness/guests/echo_component` (`echo: func(data: list<u8>) -> list<u8>`, wit-bindgen, \
         called through `wasmtime::component` with `&[u8]` in and `Vec<u8>` out; it returns the \
         list it was handed, while its `echo-copy` copies it as guestmem's `echo` must, since \
         guestmem's inputs are borrowed); the baseline is the host copying the bytes three \
         times. The guests are built twice: with the `guest` profile as it is (size first), and \
         with `opt-level = 3` (speed first). GB/s counts the payload once per round trip.\n"
    );
    roundtrip_tables(&mut md, &results.roundtrip);
    roundtrip_tables(&mut md, &results.roundtrip_speed);
    let _ = writeln!(
        md,
        "\nAt 64 KiB the two dlmalloc guests (the articles' convention and `echo-copy`) are slow \
         for a reason other than their code: their round trip runs several times slower when \
         the payload is a multiple of 4 KiB (61,440, 65,536, 98,304 and 131,072 bytes; not \
         64,000 or 65,600), with the same instruction count per byte under callgrind, most \
         likely cache aliasing between the input and the copy, which dlmalloc places back to \
         back. talc's layout does not hit it here. Do not read the 64 KiB row as the \
         conventions' cost."
    );
    if results.roundtrip.candidate.is_some() {
        let _ = writeln!(
            md,
            "\nThe candidate build against the current one and the Component Model (calls/s \
             multiples, higher is better for the candidate):\n"
        );
        let _ = writeln!(
            md,
            "| payload | × guestmem | × Component Model |\n|---|---:|---:|"
        );
        for result in &results.roundtrip.payloads {
            let candidate = &result.samples[roundtrip::CANDIDATE];
            let current = result.samples[roundtrip::GUESTMEM].ratio_to(candidate);
            let component = result.samples[roundtrip::COMPONENT].ratio_to(candidate);
            let _ = writeln!(
                md,
                "| {} | {} {} | {} {} |",
                bytes(result.len),
                times(current),
                iqr(current),
                times(component),
                iqr(component)
            );
        }
    }

    let _ = writeln!(md, "\n## 4. wee_alloc issue 106's leak pattern\n");
    let _ = writeln!(
        md,
        "Blocks of 85,196 and 80,000 bytes allocated, then freed in allocation order, {ROUNDS} \
         times: linear memory in 64 KiB pages after the first round and after the last. Inside \
         the guest through the global allocator (the issue's repro), and from the host through \
         guestmem's `alloc` and `free`.\n"
    );
    let _ = writeln!(
        md,
        "| allocator | GlobalAlloc: after 1 | after {ROUNDS} | ABI: after 1 | after {ROUNDS} |\n|---|---:|---:|---:|---:|"
    );
    for row in &results.leaks {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            row.allocator, row.raw.first, row.raw.last, row.abi.first, row.abi.last
        );
    }
    let _ = writeln!(md, "\n![ratios](chart.svg)");
    md
}

/// The round-trip tables for one build of the guests.
fn roundtrip_tables(md: &mut String, roundtrips: &RoundTrips) {
    let _ = writeln!(md, "### {}\n", roundtrips.build.label());
    let mut names: Vec<String> = CONTENDERS.iter().map(|&name| name.to_owned()).collect();
    if let Some(candidate) = &roundtrips.candidate {
        names.push(format!("candidate `{}`", candidate.display()));
    }
    let _ = write!(md, "| payload |");
    for name in &names {
        let _ = write!(md, " {name} |");
    }
    let _ = writeln!(md, "\n|---|{}", "---:|".repeat(names.len()));
    for result in &roundtrips.payloads {
        let _ = write!(md, "| {} |", bytes(result.len));
        for samples in &result.samples {
            let ns = samples.median();
            let _ = write!(
                md,
                " {}calls/s, {:.2} GB/s |",
                rate(1e9 / ns),
                result.len as f64 / ns
            );
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(
        md,
        "\nguestmem's calls/s as a multiple of each contender's (higher is better for guestmem); \
         last column: guestmem's time ÷ three memcpys':\n"
    );
    let compared = [
        roundtrip::COMPONENT,
        roundtrip::COMPONENT_COPY,
        roundtrip::MANUAL,
        roundtrip::GENERIC,
    ];
    let _ = write!(md, "| payload |");
    for &index in &compared {
        let _ = write!(md, " × {} |", names[index]);
    }
    let _ = writeln!(md, " time ÷ 3 × memcpy |");
    let _ = writeln!(md, "|---|{}---:|", "---:|".repeat(compared.len()));
    for result in &roundtrips.payloads {
        let guestmem = &result.samples[roundtrip::GUESTMEM];
        let _ = write!(md, "| {} |", bytes(result.len));
        for &index in &compared {
            let ratio = result.samples[index].ratio_to(guestmem);
            let _ = write!(md, " {} {} |", times(ratio), iqr(ratio));
        }
        let memcpy = guestmem.ratio_to(&result.samples[roundtrip::MEMCPY]);
        let _ = writeln!(md, " {} {} |", times(memcpy), iqr(memcpy));
    }
    let _ = writeln!(
        md,
        "\nThe owned-input sketch (`harness/guests/echo_owned`, not ABI v1): the host gives its \
         input block up and the guest returns it as the result, length-prefixed in place, as a \
         Component Model callee owns its `list<u8>`. Its calls/s as a multiple of the Component \
         Model's and of guestmem's:\n"
    );
    let _ = writeln!(
        md,
        "| payload | × Component Model | × guestmem |\n|---|---:|---:|"
    );
    for result in &roundtrips.payloads {
        let owned = &result.samples[roundtrip::OWNED];
        let component = result.samples[roundtrip::COMPONENT].ratio_to(owned);
        let guestmem = result.samples[roundtrip::GUESTMEM].ratio_to(owned);
        let _ = writeln!(
            md,
            "| {} | {} {} | {} {} |",
            bytes(result.len),
            times(component),
            iqr(component),
            times(guestmem),
            iqr(guestmem)
        );
    }
    let _ = writeln!(md);
}

/// Where the run happened.
struct Machine {
    date: String,
    cpu: String,
    cores: usize,
    os: String,
    rustc: String,
}

impl Machine {
    fn detect() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
        let os = std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or_else(
            |_| std::env::consts::OS.to_owned(),
            |release| format!("Linux {}", release.trim()),
        );
        let rustc =
            std::process::Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
                .arg("--version")
                .output()
                .ok()
                .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
                .unwrap_or_default();
        Self {
            date: utc_now(),
            cpu,
            cores: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            os,
            rustc,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} ({} cores), {}, {}, wasmtime 48.0.8",
            self.cpu, self.cores, self.os, self.rustc
        )
    }
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let minutes = seconds % 86_400 / 60;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to a Gregorian date.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Colours of the chart's series.
const COLOURS: [&str; 5] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"];

/// Two panels of grouped bars on log scales: round-trip calls/s relative to the Component Model,
/// and workload speed relative to raw talc.
#[must_use]
pub fn chart(results: &Results) -> String {
    let roundtrip_groups: Vec<(String, Vec<f64>)> = results
        .roundtrip
        .payloads
        .iter()
        .zip(&results.roundtrip_speed.payloads)
        .map(|(result, speed)| {
            let component = &result.samples[roundtrip::COMPONENT];
            let mut values: Vec<f64> = [
                roundtrip::GUESTMEM,
                roundtrip::GENERIC,
                roundtrip::MANUAL,
                roundtrip::COMPONENT_COPY,
            ]
            .iter()
            .map(|&index| component.ratio_to(&result.samples[index]).median)
            .collect();
            values.push(
                speed.samples[roundtrip::COMPONENT]
                    .ratio_to(&speed.samples[roundtrip::GUESTMEM])
                    .median,
            );
            (bytes(result.len), values)
        })
        .collect();
    let mut workload_groups = Vec::new();
    for allocator in ALLOCATORS {
        let mut values = Vec::new();
        for mode in &results.workload.modes {
            let talc = &mode.get("talc", Route::Raw).samples;
            for route in [Route::Raw, Route::Abi] {
                values.push(talc.ratio_to(&mode.get(allocator, route).samples).median);
            }
        }
        workload_groups.push((allocator.to_owned(), values));
    }
    let mut svg = String::new();
    let (width, height) = (1000.0, 450.0);
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    panel(
        &mut svg,
        (20.0, 10.0, 470.0, 430.0),
        "Round trip: calls/s ÷ Component Model's",
        &[
            "guestmem",
            "guestmem, harness::Guest",
            "articles' convention",
            "Component Model, echo-copy",
            "guestmem, both built with opt-level 3",
        ],
        &roundtrip_groups,
    );
    panel(
        &mut svg,
        (510.0, 10.0, 470.0, 430.0),
        "Workload: speed ÷ raw talc's",
        &[
            "alloc+free, raw",
            "alloc+free, ABI",
            "with realloc, raw",
            "with realloc, ABI",
        ],
        &workload_groups,
    );
    let _ = writeln!(svg, "</svg>");
    svg
}

/// Draws one panel of grouped bars at `(x, y, w, h)`, log scale, with a line at 1.
fn panel(
    svg: &mut String,
    (x, y, w, h): (f64, f64, f64, f64),
    title: &str,
    series: &[&str],
    groups: &[(String, Vec<f64>)],
) {
    let values = groups
        .iter()
        .flat_map(|(_, values)| values.iter().copied())
        .filter(|value| value.is_finite() && *value > 0.0);
    let (low, high) = values.fold((1.0f64, 1.0f64), |(low, high), value| {
        (low.min(value), high.max(value))
    });
    let (low, high) = ((low.log10() - 0.1).floor(), (high.log10() + 0.1).ceil());
    let plot = (x + 50.0, y + 30.0, w - 60.0, h - 130.0);
    let scale = |value: f64| plot.1 + plot.3 - (value.log10() - low) / (high - low) * plot.3;
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" font-size="14" font-weight="bold">{}</text>"#,
        x,
        y + 15.0,
        escape(title)
    );
    let mut decade = low;
    while decade <= high {
        let value = 10f64.powf(decade);
        let ty = scale(value);
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{ty:.1}" x2="{}" y2="{ty:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            plot.0,
            plot.0 + plot.2,
            plot.0 - 5.0,
            ty + 4.0,
            format_value(value)
        );
        decade += 1.0;
    }
    let one = scale(1.0);
    let _ = writeln!(
        svg,
        r#"<line x1="{}" y1="{one:.1}" x2="{}" y2="{one:.1}" stroke="black"/>"#,
        plot.0,
        plot.0 + plot.2
    );
    let group_width = plot.2 / groups.len().max(1) as f64;
    let bar = group_width * 0.8 / series.len().max(1) as f64;
    for (index, (label, values)) in groups.iter().enumerate() {
        let gx = plot.0 + index as f64 * group_width + group_width * 0.1;
        for (which, &value) in values.iter().enumerate() {
            if !(value.is_finite() && value > 0.0) {
                continue;
            }
            let top = scale(value).min(one);
            let bottom = scale(value).max(one);
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {value:.2}</title></rect>"#,
                gx + which as f64 * bar,
                bar - 1.0,
                (bottom - top).max(0.5),
                COLOURS[which % COLOURS.len()],
                escape(series[which % series.len()])
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            gx + group_width * 0.4,
            plot.1 + plot.3 + 16.0,
            escape(label)
        );
    }
    for (which, name) in series.iter().enumerate() {
        let ly = plot.1 + plot.3 + 34.0 + which as f64 * 15.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{}" y="{:.1}">{}</text>"#,
            plot.0,
            ly - 9.0,
            COLOURS[which % COLOURS.len()],
            plot.0 + 15.0,
            ly,
            escape(name)
        );
    }
}

fn format_value(value: f64) -> String {
    if value >= 1.0 {
        format!("{value:.0}×")
    } else {
        format!("{value}×")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_409), (2025, 11, 17));
    }
}
