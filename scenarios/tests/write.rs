//! Writing a scenario back (`scenarios::write::scenario`) gives a file that parses to the same
//! scenario: checked on every shipped scenario, by configuration and by the run's trace hash.

use scenarios::harness::run_seed;

#[test]
fn every_shipped_scenario_round_trips_through_its_written_form() {
    let registry = protocols::builtin();
    let shipped = scenarios::shipped();
    assert!(shipped.len() > 40, "found {} scenarios", shipped.len());
    for path in shipped {
        let s = registry.load(&path).unwrap_or_else(|e| panic!("{e}"));
        let text = scenarios::write::scenario(&s, &["written back by the round-trip test"]);
        let back = registry
            .parse(&text, "written.ron")
            .unwrap_or_else(|e| panic!("{}: {e}\n--- written ---\n{text}", path.display()));
        let what = path.display();
        assert_eq!(back.name, s.name, "{what}");
        assert_eq!(back.description, s.description, "{what}");
        assert_eq!(
            format!("{:?}", back.config),
            format!("{:?}", s.config),
            "{what}\n{text}"
        );
        assert_eq!(back.protocol, s.protocol, "{what}");
        assert_eq!(back.checks, s.checks, "{what}");
        assert_eq!(back.expect, s.expect, "{what}");
        // Cheap scenarios only: the same run.
        if s.config.node_count <= 16 && !path.starts_with(scenarios::shipped_dir().join("bench")) {
            let seed = s.config.seed;
            assert_eq!(
                run_seed(&back, seed).trace_hash,
                run_seed(&s, seed).trace_hash,
                "{what}"
            );
        }
    }
}

#[test]
fn parts_are_written_in_the_scenario_vocabulary() {
    use scenarios::write;
    use sim_core::config::{Fault, Group, Partition};
    use sim_core::{ClientId, NodeId, SimDuration};
    let ms = SimDuration::from_millis;
    assert_eq!(write::fault(&Fault::Crash(NodeId(2))), "Crash(2)");
    assert_eq!(
        write::fault(&Fault::ClockJump(NodeId(1), -50_000_000)),
        "ClockJump(node: 1, by: \"-50ms\")"
    );
    // A drawn jump is not whole milliseconds: written as a decimal, as a person would.
    assert_eq!(
        write::fault(&Fault::ClockJump(NodeId(1), -61_623_103)),
        "ClockJump(node: 1, by: \"-61.623103ms\")"
    );
    assert_eq!(
        write::fault(&Fault::Pause(NodeId(0), ms(200))),
        "Pause(node: 0, duration: \"200ms\")"
    );
    let g = |n: &[u32], c: &[u32]| Group {
        nodes: n.iter().map(|&i| NodeId(i)).collect(),
        clients: c.iter().map(|&i| ClientId(i)).collect(),
    };
    assert_eq!(
        write::fault(&Fault::Partition(Partition::Split(vec![
            g(&[0, 1], &[]),
            g(&[2], &[0])
        ]))),
        "Split([[0, 1], (nodes: [2], clients: [0])])"
    );
    assert_eq!(write::string("a \"b\"\n"), "\"a \\\"b\\\"\\n\"");
}
