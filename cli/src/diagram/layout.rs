//! Where everything goes: one row per lane (nodes, then clients), time along x. The geometry
//! is computed here, in page coordinates for the whole time range at the base width, and the
//! page's script only scales and shifts it in x (pan and zoom) — so what the tests check here
//! is what the browser draws.

use scenarios::timeline::{End, Lane, Message, Timeline};

/// Page coordinates of the drawing at its base zoom.
#[derive(Clone, Debug)]
pub struct Layout {
    lanes: Vec<Lane>,
    /// Time range drawn, in ns.
    pub from: u64,
    pub to: u64,
    /// Width of the time range at zoom 1, in px.
    pub width: f64,
    pub lane_height: f64,
    /// y of the first lane's top (room for the time axis above it).
    pub top: f64,
}

/// A message's line: from its sender's lane at its send to its receiver's lane at its
/// delivery (or drop).
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub from: usize,
    pub to: usize,
}

pub const WIDTH: f64 = 1200.0;
pub const LANE_HEIGHT: f64 = 40.0;
pub const TOP: f64 = 28.0;

impl Layout {
    pub fn new(tl: &Timeline) -> Layout {
        Layout {
            lanes: tl.lanes(),
            from: tl.from,
            to: tl.to.max(tl.from + 1),
            width: WIDTH,
            lane_height: LANE_HEIGHT,
            top: TOP,
        }
    }

    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// The row of `lane`, if it is drawn.
    pub fn row(&self, lane: Lane) -> Option<usize> {
        self.lanes.iter().position(|&l| l == lane)
    }

    /// The y of a row's middle line.
    pub fn y(&self, row: usize) -> f64 {
        self.top + (row as f64 + 0.5) * self.lane_height
    }

    /// The y of a row's top edge.
    pub fn row_top(&self, row: usize) -> f64 {
        self.top + row as f64 * self.lane_height
    }

    /// The x of true time `t` (ns).
    pub fn x(&self, t: u64) -> f64 {
        let span = (self.to - self.from) as f64;
        (t.saturating_sub(self.from) as f64 / span * self.width * 1000.0).round() / 1000.0
    }

    /// The page's height.
    pub fn height(&self) -> f64 {
        self.top + self.lanes.len() as f64 * self.lane_height + 8.0
    }

    /// The end time of a message's line: its delivery or drop, or the end of the range.
    pub fn end_of(&self, m: &Message) -> u64 {
        match m.end {
            End::Delivered(t) | End::Dropped(t, _) => t,
            End::InFlight => self.to,
        }
    }

    /// The line of message `m`, or `None` when a lane is not drawn.
    pub fn arrow(&self, m: &Message) -> Option<Arrow> {
        let (from, to) = (self.row(m.from)?, self.row(m.to)?);
        Some(Arrow {
            x1: self.x(m.sent),
            y1: self.y(from),
            x2: self.x(self.end_of(m)),
            y2: self.y(to),
            from,
            to,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenarios::timeline::Timeline;

    /// A real run's timeline: the shipped Raft bug at its seed.
    fn timeline() -> Timeline {
        let registry = protocols::builtin();
        let path = scenarios::shipped_dir().join("raft/bug-no-consistency-check.ron");
        let scn = registry.load(&path).expect("a shipped scenario");
        let (_, tl) = scenarios::timeline::record(&scn, None);
        tl.window(0, 800_000_000, None)
    }

    #[test]
    fn every_arrow_ends_on_its_receivers_lane_later_than_it_starts() {
        let tl = timeline();
        let l = Layout::new(&tl);
        assert!(tl.messages.len() > 100, "{} messages", tl.messages.len());
        let mut later = 0;
        for m in &tl.messages {
            let a = l.arrow(m).expect("both lanes drawn");
            assert_eq!(a.y1, l.y(l.row(m.from).unwrap()), "{m:?}");
            assert_eq!(a.y2, l.y(l.row(m.to).unwrap()), "{m:?}");
            assert_ne!(a.y1, a.y2, "a message goes to another lane: {m:?}");
            assert!(a.x2 >= a.x1, "ends before it starts: {m:?} {a:?}");
            if let End::Delivered(t) = m.end {
                assert!(t > m.sent, "a delivery takes time: {m:?}");
                later += usize::from(a.x2 > a.x1);
            }
        }
        assert!(later > 100, "delivered arrows go forward in x: {later}");
    }

    #[test]
    fn lanes_are_nodes_then_clients_one_row_each() {
        let tl = timeline();
        let l = Layout::new(&tl);
        assert_eq!(l.lanes().len() as u32, tl.nodes + tl.clients);
        for (i, lane) in l.lanes().iter().enumerate() {
            assert_eq!(l.row(*lane), Some(i));
            assert!(l.y(i) > l.row_top(i) && l.y(i) < l.row_top(i + 1));
        }
        assert_eq!(l.x(l.from), 0.0);
        assert_eq!(l.x(l.to), WIDTH);
    }
}
