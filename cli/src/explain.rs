//! `dsim check --explain FILE`: an HTML page with an SVG timeline of each violation.
//!
//! One section per checked file. For a violation it shows the text explanation and a timeline
//! of the smallest window that cannot be linearized: one row per operation, time flowing right
//! on an ordinal scale (every distinct instant gets its own column, so short operations stay
//! visible next to long ones). Operations of the longest linearizable prefix are green and
//! numbered in their linearization order, the operation that cannot be linearized is red, and
//! operations that may or may not have taken effect are hatched grey. The page is
//! self-contained: no scripts, no external resources.

use std::io::Write;

use sim_core::check::linearizability::{
    explain_text, timeline_rows, Completion, Input, LinOp, TimelineRow, Violation,
};

use crate::check_file::{key_label, FileOutcome};
use crate::diagram::svg::esc;

/// Width of the label column, in pixels.
const LABEL_WIDTH: usize = 280;
/// Width of the time axis, in pixels.
const AXIS_WIDTH: usize = 720;
const ROW_HEIGHT: usize = 26;
/// Rows drawn at most (the ones nearest the violation are kept).
const ROWS_MAX: usize = 200;

/// Writes the page for `outcomes`.
pub fn write_html(outcomes: &[FileOutcome], w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>dsim check</title>")?;
    writeln!(
        w,
        "<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}pre{{background:#f6f6f6;padding:1em;overflow-x:auto}}\
         .pass{{color:#27632a}}.fail{{color:#b3261e}}.unknown{{color:#8a6d00}}svg text{{font-family:ui-monospace,monospace;font-size:12px}}</style>"
    )?;
    writeln!(w, "</head><body><h1>dsim check</h1>")?;
    for o in outcomes {
        let name = esc(&o.path.display().to_string());
        match &o.result {
            Err(e) => writeln!(
                w,
                "<section><h2>{name}</h2><p class=\"fail\">bad input</p><pre>{}</pre></section>",
                esc(e)
            )?,
            Ok((p, r, elapsed)) => {
                let class = match r.verdict.name() {
                    "linearizable" => "pass",
                    "not-linearizable" => "fail",
                    _ => "unknown",
                };
                writeln!(
                    w,
                    "<section><h2>{name}</h2><p class=\"{class}\"><b>{}</b> — {}, {}, {:.2} ms ({} format, {} convention)</p>",
                    r.verdict.name(),
                    count(r.operations, "operation"),
                    count(r.keys, "key"),
                    elapsed.as_secs_f64() * 1e3,
                    p.history.format.name(),
                    p.convention.name()
                )?;
                if let Some(v) = &r.violation {
                    let rows = timeline_rows(&p.history.ops, v);
                    writeln!(w, "<p><b>Why:</b> {}</p>", esc(&why(&p.history.ops, v)))?;
                    write_svg(&rows, w)?;
                    writeln!(w, "<pre>{}</pre>", esc(&explain_text(&p.history.ops, v)))?;
                }
                for u in &r.unknown {
                    writeln!(
                        w,
                        "<p class=\"unknown\">{} undecided: {}</p>",
                        esc(&key_label(&u.key)),
                        u.reason.name()
                    )?;
                }
                writeln!(w, "</section>")?;
            }
        }
    }
    writeln!(w, "</body></html>")
}

/// `n` and `word`, in the plural unless `n` is 1.
fn count(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// One sentence saying why the highlighted operation cannot be placed: what it saw or did,
/// and that no order of the operations before it, consistent with real time, allows it.
pub fn why(ops: &[LinOp], v: &Violation) -> String {
    let op = &ops[v.blocking];
    let what = match (&op.input, &op.output, op.completion) {
        (Input::Read, Some(x), Completion::Ok) => format!("it read `{x}`"),
        (Input::Cas { expected, .. }, _, Completion::Ok) => {
            format!("its compare-and-set found `{expected}`")
        }
        (Input::Cas { expected, .. }, _, Completion::Fail) => {
            format!("its compare-and-set failed, so it found a value other than `{expected}`")
        }
        _ => format!("it completed as `{}`", op.describe()),
    };
    format!(
        "#{} ({}) cannot be placed: {what}, but no order of the operations that completed before it, consistent with when each was invoked and completed, leaves {} in a state where that is possible.",
        v.blocking,
        op.describe(),
        key_label(&v.key)
    )
}

/// Round tick values (1, 2 or 5 times a power of ten apart) covering `[lo, hi]`, about ten.
fn round_ticks(lo: u64, hi: u64) -> Vec<u64> {
    let span = hi.saturating_sub(lo).max(1);
    let mut step = 1u64;
    'find: loop {
        for m in [1u64, 2, 5] {
            let s = step.saturating_mul(m);
            if span / s <= 10 {
                step = s;
                break 'find;
            }
        }
        step = step.saturating_mul(10);
    }
    let first = lo.div_ceil(step) * step;
    (0..)
        .map(|k| first.saturating_add(k * step))
        .take_while(|&t| t <= hi)
        .take(12)
        .collect()
}

/// The SVG timeline of a window.
pub fn write_svg(rows: &[TimelineRow], w: &mut dyn Write) -> std::io::Result<()> {
    let skipped = rows.len().saturating_sub(ROWS_MAX);
    let rows = &rows[skipped..];
    let mut times: Vec<u64> = rows
        .iter()
        .flat_map(|r| [Some(r.call), r.ret])
        .flatten()
        .collect();
    times.sort_unstable();
    times.dedup();
    let columns = times.len() + 1; // One more column on the right for "open to the end".
    let x = |t: u64| -> usize {
        let rank = times.partition_point(|&x| x < t);
        LABEL_WIDTH + rank * AXIS_WIDTH / columns.max(1)
    };
    let x_end = LABEL_WIDTH + AXIS_WIDTH;
    let top = 40;
    let height = top + rows.len() * ROW_HEIGHT + 50;
    let width = x_end + 40;
    writeln!(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">")?;
    writeln!(
        w,
        "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#eeeeee\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#bbbbbb\" stroke-width=\"3\"/></pattern></defs>"
    )?;
    if skipped > 0 {
        writeln!(
            w,
            "<text x=\"8\" y=\"16\">… {} not shown</text>",
            count(skipped, "earlier operation")
        )?;
    }
    writeln!(
        w,
        "<text x=\"{LABEL_WIDTH}\" y=\"30\" fill=\"#666\">time →</text>"
    )?;
    // Vertical grid lines at each instant; labels at round times (1, 2 or 5 times a power of
    // ten apart), each placed where its time falls on the ordinal axis.
    let bottom = top + rows.len() * ROW_HEIGHT;
    for &t in &times {
        let xt = x(t);
        writeln!(
            w,
            "<line x1=\"{xt}\" y1=\"{top}\" x2=\"{xt}\" y2=\"{bottom}\" stroke=\"#eeeeee\"/>"
        )?;
    }
    if let (Some(&lo), Some(&hi)) = (times.first(), times.last()) {
        for t in round_ticks(lo, hi) {
            let xt = x(t);
            writeln!(w, "<text x=\"{xt}\" y=\"{}\" fill=\"#888\" font-size=\"10\" text-anchor=\"middle\">{t}</text>", bottom + 14)?;
        }
    }
    for (n, r) in rows.iter().enumerate() {
        let y = top + n * ROW_HEIGHT;
        let x0 = x(r.call);
        let x1 = match r.ret {
            Some(t) => x(t).max(x0 + 4),
            None => x_end,
        };
        let (fill, stroke) = if r.blocking {
            ("#f4c7c3", "#b3261e")
        } else if r.optional {
            ("url(#hatch)", "#999999")
        } else if r.prefix_position.is_some() {
            ("#cde8cd", "#27632a")
        } else {
            ("#d6e4f5", "#2f5d8a")
        };
        let dash = if r.optional {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        writeln!(
            w,
            "<text x=\"8\" y=\"{}\">{}</text>",
            y + 17,
            esc(&format!("#{} p{} {}", r.index, r.process, r.label))
        )?;
        writeln!(
            w,
            "<rect x=\"{x0}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}><title>{}</title></rect>",
            y + 4,
            x1 - x0,
            ROW_HEIGHT - 8,
            esc(&format!(
                "#{} p{} {} — invoked {}, {}",
                r.index,
                r.process,
                r.label,
                r.call,
                r.ret.map_or("never completed".to_string(), |t| format!("completed {t}"))
            ))
        )?;
        let note = match (r.blocking, r.prefix_position) {
            (true, _) => "✗".to_string(),
            (false, Some(k)) => format!("{}", k + 1),
            _ => String::new(),
        };
        if !note.is_empty() {
            writeln!(
                w,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                x0 + 4,
                y + 17,
                esc(&note)
            )?;
        }
    }
    let ly = top + rows.len() * ROW_HEIGHT + 34;
    writeln!(
        w,
        "<text x=\"8\" y=\"{ly}\" fill=\"#555\">green: in the longest linearizable prefix (numbered in linearization order) · red ✗: cannot be linearized · hatched: may or may not have taken effect · blue: other</text>"
    )?;
    writeln!(w, "</svg>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_span() {
        assert_eq!(round_ticks(53, 85), vec![55, 60, 65, 70, 75, 80, 85]);
        assert_eq!(round_ticks(0, 1), vec![0, 1]);
        assert_eq!(
            round_ticks(1_234_567, 9_876_543),
            vec![
                2_000_000, 3_000_000, 4_000_000, 5_000_000, 6_000_000, 7_000_000, 8_000_000,
                9_000_000
            ]
        );
        assert_eq!(count(1, "key"), "1 key");
        assert_eq!(count(2, "key"), "2 keys");
    }
}
