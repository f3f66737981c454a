//! `report.md`: the run's figures and tables. What each table measures, how to read its ratios,
//! and what the figures have shown so far are in `docs/BENCHMARKS.md`, which the report links to.

use std::fmt::Write as _;

use crate::format::{bytes, iqr, rate, times};
use crate::goals;
use crate::imports::{self, HostCalls};
use crate::leak::ROUNDS;
use crate::machine::Machine;
use crate::measure::Plan;
use crate::results::{COMMAND, Results};
use crate::roundtrip::{self, CONTENDERS, RoundTrips};
use crate::workload::{ACTIONS, Route};
use harness::guests::ALLOCATORS;

/// Where the report's prose is, relative to the repository root.
pub const DOCS: &str = "docs/BENCHMARKS.md";

/// The report's markdown.
#[must_use]
pub fn render(results: &Results) -> String {
    let mut md = String::new();
    header(&mut md, results);
    goals_table(&mut md, results);
    sizes(&mut md, results);
    workload(&mut md, results);
    roundtrips(&mut md, results);
    leaks(&mut md, results);
    host_calls(&mut md, results);
    let _ = writeln!(md, "\n![ratios](chart.svg)");
    md
}

fn header(md: &mut String, results: &Results) {
    let machine = Machine::detect();
    let plan = Plan::new(results.quick);
    let rounds = results
        .workload
        .modes
        .first()
        .and_then(|mode| mode.contenders.first())
        .map_or(0, |contender| contender.samples.per_round.len());
    let _ = writeln!(md, "# guestmem benchmarks\n");
    let _ = writeln!(
        md,
        "{} on {}, {}.\n",
        if results.quick {
            format!("`{COMMAND} -- --quick` (a smoke test, not a measurement)")
        } else {
            format!("`{COMMAND}`")
        },
        machine.date,
        machine.describe()
    );
    let _ = writeln!(
        md,
        "{rounds} rounds; the round trips and the host-function calls in {passes} passes of \
         {per_pass}. Figures are medians \
         over rounds, ratios medians of per-round ratios with the interquartile range in \
         brackets. What is measured and how to read it: `{DOCS}`.\n",
        passes = plan.passes,
        per_pass = plan.pass().rounds,
    );
}

fn goals_table(md: &mut String, results: &Results) {
    let _ = writeln!(md, "## Goals\n");
    let _ = writeln!(md, "| goal | measured | met |\n|---|---|---|");
    for goal in goals::evaluate(results) {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            goal.goal,
            goal.figure,
            if goal.met { "yes" } else { "**no**" }
        );
    }
}

fn sizes(md: &mut String, results: &Results) {
    let _ = writeln!(md, "\n## 1. Module size\n");
    let _ = writeln!(md, "Bytes per module, `guest` profile:\n");
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
        "\n`echo` and `echo-copy` as a Component Model component: {} bytes.\n",
        results.sizes.component_echo
    );
}

fn workload(md: &mut String, results: &Results) {
    let _ = writeln!(md, "## 2. Allocator speed inside the guest\n");
    let _ = writeln!(
        md,
        "Time per workload of {ACTIONS} actions, and its ratio to raw talc's (lower is faster):\n"
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
        "\nThe largest linear memory after a workload, in 64 KiB pages (instances replaced past \
         1 GiB in brackets):\n"
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
}

fn roundtrips(md: &mut String, results: &Results) {
    let _ = writeln!(md, "\n## 3. Round trip from the host\n");
    let _ = writeln!(
        md,
        "`echo` called from the host; GB/s counts the payload once per round trip.\n"
    );
    roundtrip_tables(md, &results.roundtrip);
    roundtrip_tables(md, &results.roundtrip_speed);
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
        "\nOwned arguments (`in_place`'s `echo_owned`, read with `call_view`): its calls/s as a \
         multiple of the Component Model's and of the borrowed `echo` read the same way, and its \
         time ÷ one memcpy's:\n"
    );
    let _ = writeln!(
        md,
        "| payload | × Component Model | × borrowed (call_view) | time ÷ 1 × memcpy |\n|---|---:|---:|---:|"
    );
    for result in &roundtrips.payloads {
        let owned = &result.samples[roundtrip::OWNED];
        let component = result.samples[roundtrip::COMPONENT].ratio_to(owned);
        let borrowed = result.samples[roundtrip::BORROWED].ratio_to(owned);
        let memcpy = owned.ratio_to(&result.samples[roundtrip::MEMCPY_ONCE]);
        let _ = writeln!(
            md,
            "| {} | {} {} | {} {} | {} {} |",
            bytes(result.len),
            times(component),
            iqr(component),
            times(borrowed),
            iqr(borrowed),
            times(memcpy),
            iqr(memcpy)
        );
    }
    let _ = writeln!(
        md,
        "\nAsync calls (`call_bytes_async`, each driven to its end by the executor): their time ÷ \
         `call_bytes`'s (lower is better):\n"
    );
    let _ = writeln!(md, "| payload | tokio | poll loop |\n|---|---:|---:|");
    for result in &roundtrips.payloads {
        let sync = &result.samples[roundtrip::GUESTMEM];
        let tokio = result.samples[roundtrip::ASYNC_TOKIO].ratio_to(sync);
        let poll = result.samples[roundtrip::ASYNC_POLL].ratio_to(sync);
        let _ = writeln!(
            md,
            "| {} | {} {} | {} {} |",
            bytes(result.len),
            times(tokio),
            iqr(tokio),
            times(poll),
            iqr(poll)
        );
    }
    let _ = writeln!(md);
}

fn leaks(md: &mut String, results: &Results) {
    let _ = writeln!(md, "\n## 4. wee_alloc issue 106's leak pattern\n");
    let _ = writeln!(
        md,
        "Linear memory in 64 KiB pages after the first round and after round {ROUNDS}:\n"
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
}

fn host_calls(md: &mut String, results: &Results) {
    let _ = writeln!(md, "\n## 5. Host functions\n");
    let _ = writeln!(
        md,
        "The host calls the guest's `pull(n)`, which calls the host function `payload(n)` for \
         an answer of `n` bytes; GB/s counts the answer once per call.\n"
    );
    host_call_tables(md, &results.imports);
    host_call_tables(md, &results.imports_speed);
}

/// The host-function tables for one build of the guests.
fn host_call_tables(md: &mut String, calls: &HostCalls) {
    let _ = writeln!(md, "### {}\n", calls.build.label());
    let _ = write!(md, "| answer |");
    for name in imports::CONTENDERS {
        let _ = write!(md, " {name} |");
    }
    let _ = writeln!(md, "\n|---|{}", "---:|".repeat(imports::CONTENDERS.len()));
    for result in &calls.payloads {
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
        "\nguestmem's calls/s as a multiple of the Component Model's (higher is better for \
         guestmem):\n"
    );
    let compared = [imports::BLOCK, imports::VEC, imports::ASYNC];
    let _ = write!(md, "| answer |");
    for index in compared {
        let _ = write!(md, " {} |", imports::CONTENDERS[index]);
    }
    let _ = writeln!(md, "\n|---|{}", "---:|".repeat(compared.len()));
    for result in &calls.payloads {
        let component = &result.samples[imports::COMPONENT];
        let _ = write!(md, "| {} |", bytes(result.len));
        for index in compared {
            let ratio = component.ratio_to(&result.samples[index]);
            let _ = write!(md, " {} {} |", times(ratio), iqr(ratio));
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(
        md,
        "\nThe async host function (`func_async`, called with `call_u32_async` on tokio): its time \
         ÷ the blocking one's (lower is better):\n"
    );
    let _ = writeln!(md, "| answer | async ÷ blocking |\n|---|---:|");
    for result in &calls.payloads {
        let ratio = result.samples[imports::ASYNC].ratio_to(&result.samples[imports::BLOCK]);
        let _ = writeln!(
            md,
            "| {} | {} {} |",
            bytes(result.len),
            times(ratio),
            iqr(ratio)
        );
    }
    let _ = writeln!(md);
}
