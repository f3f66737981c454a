//! `chart.svg`: the report's ratios as three panels of grouped bars.

use std::fmt::Write as _;

use crate::format::bytes;
use crate::imports;
use crate::results::Results;
use crate::roundtrip;
use crate::workload::Route;
use harness::guests::ALLOCATORS;

/// Colours of the chart's series.
const COLOURS: [&str; 5] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"];

/// Three panels of grouped bars on log scales: round-trip calls/s relative to the Component Model,
/// workload speed relative to raw talc, and host-function calls/s relative to the Component
/// Model.
#[must_use]
pub fn render(results: &Results) -> String {
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
    let host_call_groups: Vec<(String, Vec<f64>)> = results
        .imports
        .payloads
        .iter()
        .zip(&results.imports_speed.payloads)
        .map(|(result, speed)| {
            let values = [result, speed]
                .into_iter()
                .flat_map(|result| {
                    let component = &result.samples[imports::COMPONENT];
                    [imports::BLOCK, imports::VEC]
                        .map(|index| component.ratio_to(&result.samples[index]).median)
                })
                .collect();
            (bytes(result.len), values)
        })
        .collect();
    let mut svg = String::new();
    let (width, height) = (1500.0, 450.0);
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
            "guestmem, by name (Guest::call_bytes)",
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
    panel(
        &mut svg,
        (1000.0, 10.0, 470.0, 430.0),
        "Host function: calls/s ÷ Component Model's",
        &[
            "guestmem, ResultBlock",
            "guestmem, Vec<u8>",
            "ResultBlock, both built with opt-level 3",
            "Vec<u8>, both built with opt-level 3",
        ],
        &host_call_groups,
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
