//! `dsim run --diagram OUT.html` (and the end of `dsim shrink`): the run as a space-time
//! diagram in one self-contained HTML file — inline SVG, CSS and script, nothing fetched —
//! that opens from disk. One lane per node and per client; messages as lines from send to
//! delivery, labelled with their kind when zoomed in; drops marked where they happened with
//! their reason; duplicates dotted; crashes, pauses, restarts and clock jumps on the node's
//! lane; partitions as shaded bands per side, named; client operations as bars coloured by
//! outcome; the protocol's markers; the failing checks' evidence highlighted. The page pans
//! and zooms in time; `--from`, `--to` and `--nodes` limit what is drawn.
//!
//! The data comes from `scenarios::timeline` (built from the run's trace and report); the
//! geometry from `layout`, the SVG from `svg`, and the page's style and script are
//! `page.css` and `page.js`, inlined.

pub mod layout;
pub mod svg;

use std::fmt::Write as _;
use std::path::Path;

use scenarios::timeline::Timeline;
use scenarios::Scenario;
use sim_core::check::Verdict;
use sim_core::NodeId;

use layout::Layout;
use svg::esc;

/// What part of the run to draw.
#[derive(Clone, Debug, Default)]
pub struct Window {
    /// From this true time (ns); the start of the run if `None`.
    pub from: Option<u64>,
    /// To this true time (ns); the end of the run if `None`.
    pub to: Option<u64>,
    /// Only these nodes' lanes (every client's lane stays); all if `None`.
    pub nodes: Option<Vec<NodeId>>,
}

impl Window {
    /// `tl` limited to this window.
    pub fn apply(&self, tl: Timeline) -> Timeline {
        let (from, to) = (self.from.unwrap_or(0), self.to.unwrap_or(u64::MAX));
        tl.window(from, to, self.nodes.as_deref())
    }
}

/// Timers drawn at most (they are hidden until asked for; a huge run leaves them out).
const TIMERS_MAX: usize = 20_000;

/// The page for `tl`.
pub fn html(tl: &Timeline) -> String {
    let l = Layout::new(tl);
    let drawing = svg::svg(tl, &l, TIMERS_MAX);
    let mut names = String::new();
    for (i, lane) in l.lanes().iter().enumerate() {
        let class = match lane {
            sim_core::Endpoint::Node(_) => "lane node",
            sim_core::Endpoint::Client(_) => "lane client",
        };
        let _ = write!(
            names,
            r#"<div class="{class}" style="top:{}px">{}</div>"#,
            l.y(i),
            svg::lane_name(*lane)
        );
    }
    let mut checks = String::new();
    for c in &tl.checks {
        let class = c.verdict.name();
        let detail = if c.detail.contains('\n') || c.detail.len() > 160 {
            format!(
                "<details{}><summary>{}</summary><pre>{}</pre></details>",
                if c.verdict == Verdict::Fail {
                    " open"
                } else {
                    ""
                },
                esc(c.detail.lines().next().unwrap_or("")),
                esc(&c.detail)
            )
        } else {
            esc(&c.detail)
        };
        let _ = write!(
            checks,
            r#"<li class="{class}"><span class="v">{}</span> <b>{}</b> — {detail}</li>"#,
            c.verdict.name(),
            esc(&c.name)
        );
    }
    let range = format!(
        "{} – {}",
        sim_core::SimDuration(tl.from),
        sim_core::SimDuration(tl.to)
    );
    let legend = r#"<span class="legend">operations:<i style="background:#8fd19e"></i>ok<i style="background:#f3a3a3"></i>fail<i style="background:#cfd3dc"></i>unknown<i style="background:#fff;border:2px solid #d4a000"></i>evidence · <i style="background:#c0262d;opacity:.35"></i>crashed<i style="background:#7b4fc4;opacity:.3"></i>paused<i style="background:#d6336c;opacity:.25"></i>partition sides · ✕ drop · ★ evidence · ● marker · dashed: client traffic, dotted: duplicate</span>"#;
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>dsim: {scenario} at seed {seed}</title>
<script>
// Errors are written into the page, so a headless browser's DOM shows them.
(function () {{
  var errors = [];
  function record(t) {{
    errors.push(String(t));
    document.documentElement.setAttribute("data-errors", errors.length);
    var el = document.getElementById("errors");
    if (el) {{ el.hidden = false; el.textContent = errors.join("\n"); }}
  }}
  window.addEventListener("error", function (e) {{ record("error: " + e.message + " (line " + e.lineno + ")"); }});
  window.addEventListener("unhandledrejection", function (e) {{ record("unhandled rejection: " + e.reason); }});
  var ce = console.error, cw = console.warn;
  console.error = function () {{ record("console.error: " + Array.prototype.join.call(arguments, " ")); ce.apply(console, arguments); }};
  console.warn = function () {{ record("console.warn: " + Array.prototype.join.call(arguments, " ")); cw.apply(console, arguments); }};
}})();
</script>
<style>{css}</style></head>
<body>
<header>
<h1>{scenario} <span class="meta">seed {seed} · trace {hash:016x} · {nodes} nodes, {clients} clients · {range}</span></h1>
<ul class="checks">{checks}</ul>
<div class="controls"><button id="fit">fit</button><button id="zin">zoom in</button><button id="zout">zoom out</button><button id="to-evidence">zoom to evidence</button><label><input type="checkbox" id="timers"> timers</label>{legend}</div>
</header>
<div id="errors" hidden></div>
<div id="diagram"><div id="names" style="height:{height}px">{names}</div><div id="view">{drawing}</div></div>
<script>{js}</script>
</body></html>
"#,
        scenario = esc(&tl.scenario),
        seed = tl.seed,
        hash = tl.trace_hash,
        nodes = tl.nodes,
        clients = tl.clients,
        height = l.height(),
        css = include_str!("page.css"),
        js = include_str!("page.js"),
    )
}

/// Runs `scn` (at `seed`, or its own) and writes its diagram to `path`.
pub fn write_for(
    scn: &Scenario,
    seed: Option<u64>,
    path: &Path,
    window: &Window,
) -> std::io::Result<()> {
    let (_, tl) = scenarios::timeline::record(scn, seed);
    std::fs::write(path, html(&window.apply(tl)))
}
