//! The drawing itself: the timeline as SVG elements placed by the [`Layout`]. What scales
//! with the zoom (message lines, operation bars, down spans, partition bands) sits in the
//! group `#zoom`, which the page scales in x; what keeps its size (drop crosses, markers,
//! instants, the evidence's moments, timers) sits in `#points`, each element placed by its
//! `data-x` (its x at zoom 1) and `data-y`.

use std::fmt::Write as _;

use scenarios::timeline::{End, Lane, OpOutcome, Timeline};
use sim_core::{Endpoint, SimTime};

use super::layout::Layout;

/// Text for an SVG or HTML text node or attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A lane's name: `n0`, `c2`.
pub fn lane_name(l: Lane) -> String {
    l.to_string()
}

fn t(ns: u64) -> String {
    SimTime(ns).to_string()
}

/// A small stable palette index for a message kind.
fn hue(kind: &str) -> usize {
    kind.bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) as usize
        % 8
}

/// The whole SVG.
pub fn svg(tl: &Timeline, l: &Layout, show_timers_max: usize) -> String {
    let mut s = String::with_capacity(256 + tl.messages.len() * 220);
    let height = l.height();
    let _ = write!(
        s,
        r#"<svg id="svg" xmlns="http://www.w3.org/2000/svg" height="{height}" data-width="{}" data-from="{}" data-to="{}">"#,
        l.width, l.from, l.to
    );
    lanes(&mut s, tl, l);
    s.push_str(r#"<g id="zoom">"#);
    bands(&mut s, tl, l);
    downs(&mut s, tl, l);
    global_instants(&mut s, tl, l, height);
    operations(&mut s, tl, l);
    messages(&mut s, tl, l);
    s.push_str("</g>");
    s.push_str(r#"<g id="points">"#);
    drops(&mut s, tl, l);
    instants(&mut s, tl, l);
    marks(&mut s, tl, l);
    evidence(&mut s, tl, l);
    if tl.timers.len() <= show_timers_max {
        timers(&mut s, tl, l);
    }
    s.push_str("</g>");
    s.push_str(r#"<g id="labels"></g><g id="axis"></g></svg>"#);
    s
}

fn lanes(s: &mut String, _tl: &Timeline, l: &Layout) {
    s.push_str(r#"<g id="lanes">"#);
    for (i, lane) in l.lanes().iter().enumerate() {
        let class = match lane {
            Endpoint::Node(_) => "lane node",
            Endpoint::Client(_) => "lane client",
        };
        let y = l.y(i);
        let _ = write!(
            s,
            r#"<line class="{class}" data-lane="{}" x1="0" x2="100%" y1="{y}" y2="{y}"/>"#,
            lane_name(*lane)
        );
    }
    s.push_str("</g>");
}

fn bands(s: &mut String, tl: &Timeline, l: &Layout) {
    for (b, band) in tl.partitions.iter().enumerate() {
        let (x, w) = (l.x(band.from), l.x(band.to) - l.x(band.from));
        let title = format!(
            "partition {} from {} to {}",
            band.what,
            t(band.from),
            t(band.to)
        );
        for (g, group) in band.groups.iter().enumerate() {
            for lane in group {
                let Some(row) = l.row(*lane) else { continue };
                let _ = write!(
                    s,
                    r#"<rect class="band g{}" data-band="{b}" x="{x}" y="{}" width="{w}" height="{}"><title>{}</title></rect>"#,
                    g % 4,
                    l.row_top(row) + 1.0,
                    l.lane_height - 2.0,
                    esc(&format!("{title}: side {}", g + 1))
                );
            }
        }
    }
}

fn downs(s: &mut String, tl: &Timeline, l: &Layout) {
    for d in &tl.downs {
        let Some(row) = l.row(Endpoint::Node(d.node)) else {
            continue;
        };
        let (x, w) = (l.x(d.from), (l.x(d.to) - l.x(d.from)).max(0.0));
        let what = if d.crashed { "crashed" } else { "paused" };
        let _ = write!(
            s,
            r#"<rect class="down {what}" x="{x}" y="{}" width="{w}" height="{}"><title>{} {what} from {} to {}</title></rect>"#,
            l.row_top(row) + 4.0,
            l.lane_height - 8.0,
            d.node,
            t(d.from),
            t(d.to)
        );
    }
}

fn global_instants(s: &mut String, tl: &Timeline, l: &Layout, height: f64) {
    for i in tl.instants.iter().filter(|i| i.lane.is_none()) {
        let x = l.x(i.at);
        let _ = write!(
            s,
            r#"<line class="ginst" x1="{x}" x2="{x}" y1="{}" y2="{}"><title>{}</title></line>"#,
            l.top,
            height - 8.0,
            esc(&format!("{} at {}", i.what, t(i.at)))
        );
    }
}

fn operations(s: &mut String, tl: &Timeline, l: &Layout) {
    let evidence: Vec<usize> = tl.failed().flat_map(|c| c.operations.clone()).collect();
    for op in &tl.operations {
        let Some(row) = l.row(Endpoint::Client(op.client)) else {
            continue;
        };
        let end = op.complete.unwrap_or(l.to);
        let (x, w) = (l.x(op.invoke), (l.x(end) - l.x(op.invoke)).max(0.0));
        let outcome = match op.outcome {
            OpOutcome::Ok => "ok",
            OpOutcome::Fail => "fail",
            OpOutcome::Unknown => "unknown",
        };
        let ev = if evidence.contains(&op.index) {
            " evidence"
        } else {
            ""
        };
        let title = format!(
            "operation #{}: {} → {}: {} (invoked {}, {})",
            op.index,
            op.client,
            op.node,
            op.text,
            t(op.invoke),
            op.complete
                .map_or("still pending at the end".to_string(), |c| format!(
                    "completed {}",
                    t(c)
                ))
        );
        let _ = write!(
            s,
            r#"<rect class="op {outcome}{ev}" data-op="{}" data-text="{}" x="{x}" y="{}" width="{w}" height="{}"><title>{}</title></rect>"#,
            op.index,
            esc(&op.text),
            l.row_top(row) + 7.0,
            l.lane_height - 14.0,
            esc(&title)
        );
    }
}

fn messages(s: &mut String, tl: &Timeline, l: &Layout) {
    for m in &tl.messages {
        let Some(a) = l.arrow(m) else { continue };
        let mut class = format!("msg h{}", hue(&m.kind));
        if matches!(m.from, Endpoint::Client(_)) || matches!(m.to, Endpoint::Client(_)) {
            class.push_str(" cli");
        }
        if m.copy {
            class.push_str(" dup");
        }
        let end = match &m.end {
            End::Delivered(at) => format!("delivered {}", t(*at)),
            End::Dropped(at, why) => {
                class.push_str(" dropped");
                format!("dropped at {} ({why})", t(*at))
            }
            End::InFlight => "still in flight at the end".to_string(),
        };
        let title = format!(
            "{}{} {} → {}: {} — sent {}, {end}",
            m.kind,
            if m.copy { " (duplicate)" } else { "" },
            m.from,
            m.to,
            m.text,
            t(m.sent)
        );
        let _ = write!(
            s,
            r#"<line class="{class}" data-kind="{}" x1="{}" y1="{}" x2="{}" y2="{}"><title>{}</title></line>"#,
            esc(&m.kind),
            a.x1,
            a.y1,
            a.x2,
            a.y2,
            esc(&title)
        );
        if matches!(m.end, End::Delivered(_)) {
            let _ = write!(
                s,
                r#"<line class="dot" x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
                a.x2, a.y2, a.x2, a.y2
            );
        }
    }
}

/// A point element: placed by the page at `data-x` (scaled) and `data-y`.
fn point(s: &mut String, class: &str, x: f64, y: f64, body: &str, title: &str) {
    let _ = write!(
        s,
        r#"<g class="{class}" data-x="{x}" data-y="{y}" transform="translate({x},{y})">{body}<title>{}</title></g>"#,
        esc(title)
    );
}

fn drops(s: &mut String, tl: &Timeline, l: &Layout) {
    for m in &tl.messages {
        let End::Dropped(at, why) = &m.end else {
            continue;
        };
        let Some(a) = l.arrow(m) else { continue };
        // Dropped on sending: a cross at the sender; on arrival: at the receiver.
        let y = if *at == m.sent { a.y1 } else { a.y2 };
        point(
            s,
            "drop",
            l.x(*at),
            y,
            r#"<path d="M-4,-4L4,4M-4,4L4,-4"/>"#,
            &format!(
                "{} {} → {} dropped at {}: {why}",
                m.kind,
                m.from,
                m.to,
                t(*at)
            ),
        );
    }
}

fn instants(s: &mut String, tl: &Timeline, l: &Layout) {
    for i in &tl.instants {
        let Some(row) = i.lane.and_then(|lane| l.row(lane)) else {
            continue;
        };
        point(
            s,
            "inst",
            l.x(i.at),
            l.y(row),
            &format!(
                r#"<path d="M0,-11L0,11"/><text x="3" y="-4">{}</text>"#,
                esc(&i.what)
            ),
            &format!("{} at {}", i.what, t(i.at)),
        );
    }
}

fn marks(s: &mut String, tl: &Timeline, l: &Layout) {
    for m in &tl.marks {
        let Some(row) = l.row(Endpoint::Node(m.node)) else {
            continue;
        };
        point(
            s,
            "mark",
            l.x(m.at),
            l.y(row),
            &format!(
                r#"<circle r="3.5"/><text x="5" y="-6">{}</text>"#,
                esc(&m.what)
            ),
            &format!("{}: {} at {}", m.node, m.what, t(m.at)),
        );
    }
}

fn evidence(s: &mut String, tl: &Timeline, l: &Layout) {
    for c in tl.failed() {
        for m in &c.moments {
            let Some(row) = l.row(Endpoint::Node(m.node)) else {
                continue;
            };
            point(
                s,
                "moment evidence",
                l.x(m.at),
                l.y(row),
                &format!(
                    r#"<path d="M0,-9L2.6,-2.8L9,-2.8L3.9,1.1L5.8,7.3L0,3.6L-5.8,7.3L-3.9,1.1L-9,-2.8L-2.6,-2.8Z"/><text x="10" y="12">{}</text>"#,
                    esc(&m.what)
                ),
                &format!("{} — evidence: {} at {}", c.name, m.what, t(m.at)),
            );
        }
    }
}

fn timers(s: &mut String, tl: &Timeline, l: &Layout) {
    for h in &tl.timers {
        let Some(row) = l.row(Endpoint::Node(h.node)) else {
            continue;
        };
        point(
            s,
            "timer",
            l.x(h.at),
            l.y(row),
            r#"<path d="M0,-6L0,0"/>"#,
            &format!("{}: {} at {}", h.node, h.what, t(h.at)),
        );
    }
}
