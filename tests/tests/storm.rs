//! An event storm — a protocol that answers every message with two — ends the run on a full
//! event queue, as a failed `event-storm` check, instead of a panic or an exhausted memory:
//! in the engine (`hit_queued_max`), through the scenario harness (the check and the verdict),
//! and in the scenario format (`queued_max`, validated).

use scenarios::harness::{run, RunOptions};
use sim_core::check::Verdict;
use sim_core::{Context, NodeId, Process, SimConfig, SimDuration, SimTime, QUEUED_MAX};

/// Node 0 sends one message at start; every node answers each message with two to the next
/// node: the number of messages in flight doubles each millisecond.
struct Storm {
    id: NodeId,
}

impl Process for Storm {
    type Msg = ();
    type Timer = ();
    type StoreKey = u8;
    type StoreValue = u8;
    type Observation = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Self>) {
        if self.id == NodeId(0) {
            ctx.send(NodeId(1), ());
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, _: NodeId, _: ()) {
        let next = NodeId((self.id.0 + 1) % ctx.node_count());
        ctx.send(next, ());
        ctx.send(next, ());
    }

    fn on_timer(&mut self, _: &mut Context<'_, Self>, _: ()) {}
}

impl sim_core::Protocol for Storm {
    const NAME: &'static str = "Storm";
    const CLI_NAME: &'static str = "storm";
    const SUMMARY: &'static str = "every message answered with two (a test's event storm)";
    const SERVICES: &'static [sim_core::Service] = &[];
    type Params = sim_core::NoParams;
    fn new_node(id: NodeId, _: &sim_core::NoParams) -> Storm {
        Storm { id }
    }
    fn checks(_: &mut impl sim_core::CheckList<Self>) {}
}

#[test]
fn the_engine_stops_a_storm_at_queued_max() {
    let mut cfg = SimConfig::basic(3, SimDuration::from_secs(10));
    cfg.queued_max = 1_000;
    let r = sim_core::run(cfg, |id| Storm { id });
    assert!(r.hit_queued_max);
    assert!(!r.hit_events_max);
    // 2^(k-1) messages arrive at k ms and 2^k are in flight after them: the queue fills at
    // 10 ms, while the 512 messages of that millisecond double to 1,024.
    assert_eq!(r.end, SimTime(SimDuration::from_millis(10).0));
    assert_eq!(
        r.stats.in_flight_at_end, 1_000,
        "the queue held exactly its limit"
    );
    assert!(r.stats.events < 1_100, "{} events", r.stats.events);
}

#[test]
fn a_calm_run_never_hits_queued_max() {
    // The same protocol on one node sends nothing (node 0 only sends at start to node 1).
    let r = sim_core::run(SimConfig::basic(1, SimDuration::from_secs(1)), |_| Storm {
        id: NodeId(5),
    });
    assert!(!r.hit_queued_max);
    assert_eq!(r.end, SimTime(SimDuration::from_secs(1).0));
    assert_eq!(
        SimConfig::basic(1, SimDuration::from_secs(1)).queued_max,
        QUEUED_MAX
    );
}

fn registry() -> scenarios::Registry {
    scenarios::Registry::new().with::<Storm>()
}

fn scenario(queued_max: &str) -> String {
    format!(
        "Scenario(name: \"storm\", seed: 1, duration: \"10s\", nodes: 3, {queued_max} protocol: Storm())"
    )
}

#[test]
fn a_storm_fails_the_event_storm_check() {
    let scn = registry()
        .parse(&scenario("queued_max: 500,"), "storm.ron")
        .expect("a valid scenario");
    let report = run(&scn, RunOptions::default());
    assert!(report.hit_queued_max);
    assert_eq!(report.verdict, Verdict::Fail);
    let check = report.check("event-storm").expect("the check is reported");
    assert_eq!(check.verdict, Verdict::Fail);
    assert!(
        check
            .detail
            .contains("the event queue filled at 0.009000000s")
            && check.detail.contains("reproduce with seed 1"),
        "{}",
        check.detail
    );
    assert!(!report.as_expected, "the scenario expected a pass");
}

#[test]
fn queued_max_is_validated_and_written_back() {
    for bad in ["queued_max: 0,", "queued_max: 16777217,"] {
        let e = registry()
            .parse(&scenario(bad), "storm.ron")
            .expect_err(bad)
            .to_string();
        assert!(
            e.contains("storm.ron:1:") && e.contains("`queued_max`") && e.contains("16777216"),
            "{e}"
        );
    }
    let scn = registry()
        .parse(&scenario("queued_max: 4096,"), "storm.ron")
        .unwrap();
    assert_eq!(scn.config.queued_max, 4096);
    let text = scenarios::write::scenario(&scn, &[]);
    assert!(text.contains("queued_max: 4096"), "{text}");
    let default = registry().parse(&scenario(""), "storm.ron").unwrap();
    assert!(!scenarios::write::scenario(&default, &[]).contains("queued_max"));
}
