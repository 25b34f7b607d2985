//! The `dsim check` contract, driven in-process through the library the binary calls: exit
//! codes, error messages, `--json` fields, `--explain` output, and the round trip of dsim's own
//! history exports (`write_jsonl`, `write_edn`) through the checker.

use std::path::PathBuf;

use dsim::check::{check_file, json_line, main, CheckArgs, Model, ReadOptions};
use dsim::exit;
use dsim::histfmt::{self, Format};
use sim_core::check::linearizability::{
    check_ops, ops_from_history, Budget, LinVerdict, Semantics,
};
use sim_core::{ClientId, History, NodeId, Operation, Outcome, Request, Response, SimTime};

/// A fresh temporary file with `content`.
fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsim-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write temp file");
    path
}

fn args(files: Vec<PathBuf>) -> CheckArgs {
    CheckArgs {
        files,
        format: Format::Auto,
        model: Model::Auto,
        initial: None,
        convention: None,
        json: false,
        explain: None,
        time_limit: 60.0,
        memory_limit: 2048,
        steps_max: None,
        jobs: 1,
    }
}

const GOOD_LOG: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
                        INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
                        INFO  jepsen.util - 0\t:ok\t:write\t1\n\
                        INFO  jepsen.util - 1\t:ok\t:read\t1\n\
                        INFO  jepsen.util - 2\t:invoke\t:cas\t[1 2]\n\
                        INFO  jepsen.util - 2\t:ok\t:cas\t[1 2]\n";

/// A stale read: 2 was written and acknowledged, then 1 is read.
const BAD_LOG: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
                       INFO  jepsen.util - 0\t:ok\t:write\t1\n\
                       INFO  jepsen.util - 0\t:invoke\t:write\t2\n\
                       INFO  jepsen.util - 0\t:ok\t:write\t2\n\
                       INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
                       INFO  jepsen.util - 1\t:ok\t:read\t1\n";

/// A history whose search is exponential: many concurrent indeterminate writes, then reads of
/// 1000, 1001 and 1000 again — values someone wrote, in an order no order of the writes gives.
fn expensive_jsonl() -> String {
    let mut s = String::new();
    for i in 0..16 {
        s.push_str(&format!(
            "{{\"process\":{i},\"f\":\"write\",\"key\":0,\"value\":{},\"invoke\":{i},\"complete\":null,\"type\":\"info\"}}\n",
            i + 10
        ));
        s.push_str(&format!(
            "{{\"process\":{},\"f\":\"write\",\"key\":0,\"value\":{},\"invoke\":{i},\"complete\":{},\"type\":\"ok\"}}\n",
            100 + i,
            1000 + i,
            1000 + i
        ));
    }
    for (i, v) in [1000, 1001, 1000].into_iter().enumerate() {
        s.push_str(&format!(
            "{{\"process\":999,\"f\":\"read\",\"key\":0,\"value\":{v},\"invoke\":{},\"complete\":{},\"type\":\"ok\"}}\n",
            2000 + 2 * i,
            2001 + 2 * i
        ));
    }
    s
}

#[test]
fn exit_code_0_for_a_linearizable_history() {
    assert_eq!(
        main(args(vec![temp_file("good.log", GOOD_LOG)])),
        exit::PASS
    );
}

#[test]
fn exit_code_1_for_a_history_that_is_not_linearizable() {
    assert_eq!(main(args(vec![temp_file("bad.log", BAD_LOG)])), exit::FAIL);
}

#[test]
fn exit_code_3_when_the_budget_runs_out() {
    let path = temp_file("expensive.jsonl", &expensive_jsonl());
    let mut a = args(vec![path.clone()]);
    a.steps_max = Some(50_000);
    assert_eq!(main(a), exit::UNKNOWN);
    // The wall-clock limit does the same.
    let mut a = args(vec![path]);
    a.time_limit = 0.001;
    assert_eq!(main(a), exit::UNKNOWN);
}

#[test]
fn exit_code_2_for_bad_input_with_file_line_and_expectation() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t1\nINFO  jepsen.util - 2\t:invoke\t:cas\t7\n";
    let path = temp_file("malformed.log", text);
    assert_eq!(main(args(vec![path.clone()])), exit::BAD_INPUT);
    let outcome = check_file(&path, &ReadOptions::default(), &Budget::default(), None);
    let message = outcome.result.expect_err("an error");
    assert!(
        message.starts_with(&format!("{}:3: ", path.display())),
        "{message}"
    );
    assert!(message.contains("expected `[expected new]`"), "{message}");
    assert!(message.contains("found `7`"), "{message}");

    let path = temp_file(
        "unbalanced.edn",
        "[{:process 0, :type :invoke, :f :read, :value nil}\n {:process 0, :type :ok",
    );
    let message = check_file(&path, &ReadOptions::default(), &Budget::default(), None)
        .result
        .expect_err("an error");
    assert!(message.contains("unbalanced.edn:"), "{message}");
    assert!(message.contains("expected `}`"), "{message}");

    let path = temp_file("prose.txt", "hello world\n");
    let message = check_file(&path, &ReadOptions::default(), &Budget::default(), None)
        .result
        .expect_err("an error");
    assert!(
        message.contains("prose.txt:1: cannot tell the history format"),
        "{message}"
    );
    assert!(message.contains("hint: pass `--format"), "{message}");

    // A missing file is bad input too, and bad input outranks a violation.
    let missing = std::env::temp_dir().join("dsim-check-cli-no-such-file.log");
    assert_eq!(main(args(vec![missing])), exit::BAD_INPUT);
    assert_eq!(
        main(args(vec![
            temp_file("bad2.log", BAD_LOG),
            temp_file("prose2.txt", "hello\n")
        ])),
        exit::BAD_INPUT
    );
    // A violation outranks an undecided file.
    let mut a = args(vec![
        temp_file("expensive2.jsonl", &expensive_jsonl()),
        temp_file("bad3.log", BAD_LOG),
    ]);
    a.steps_max = Some(50_000);
    assert_eq!(main(a), exit::FAIL);
}

#[test]
fn model_register_refuses_a_history_with_several_keys() {
    let text = "{:process 0, :type :invoke, :f :put, :key \"1\", :value \"a\"}\n\
                {:process 0, :type :ok, :f :put, :key \"1\", :value \"a\"}\n\
                {:process 1, :type :invoke, :f :put, :key \"2\", :value \"b\"}\n\
                {:process 1, :type :ok, :f :put, :key \"2\", :value \"b\"}\n";
    let path = temp_file("two-keys.txt", text);
    assert_eq!(main(args(vec![path.clone()])), exit::PASS);
    let mut a = args(vec![path.clone()]);
    a.model = Model::Register;
    assert_eq!(main(a), exit::BAD_INPUT);
    let opts = ReadOptions {
        model: Model::Register,
        ..ReadOptions::default()
    };
    let message = check_file(&path, &opts, &Budget::default(), None)
        .result
        .expect_err("an error");
    assert!(
        message.contains("2 keys") && message.contains("--model kv"),
        "{message}"
    );
}

#[test]
fn initial_and_convention_flags_change_the_model() {
    // A first read of 0: a violation from absent, fine from `--initial 0`.
    let text = "[{:process 0, :type :invoke, :f :read, :value nil}\n {:process 0, :type :ok, :f :read, :value 0}]\n";
    let path = temp_file("reads-zero.edn", text);
    assert_eq!(main(args(vec![path.clone()])), exit::FAIL);
    let mut a = args(vec![path]);
    a.initial = Some("0".into());
    assert_eq!(main(a), exit::PASS);
    // A failed cas from the current value: a violation for etcd, nothing for Knossos.
    let text = "INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t1\n\
                INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\nINFO  jepsen.util - 1\t:fail\t:cas\t[1 2]\n";
    let path = temp_file("failed-cas.log", text);
    assert_eq!(main(args(vec![path.clone()])), exit::FAIL);
    let mut a = args(vec![path]);
    a.convention = Some(dsim::check::Convention::Knossos);
    assert_eq!(main(a), exit::PASS);
}

#[test]
fn json_reports_the_verdict_the_key_and_the_window() {
    let path = temp_file("bad-json.log", BAD_LOG);
    let outcome = check_file(&path, &ReadOptions::default(), &Budget::default(), None);
    let j = json_line(&outcome);
    assert_eq!(j["verdict"], "not-linearizable");
    assert_eq!(j["operations"], 3);
    assert!(j["check_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert_eq!(j["format"], "jepsen-log");
    assert_eq!(j["convention"], "etcd");
    assert!(j["key"].is_null(), "a single register has no key: {j}");
    assert_eq!(j["blocking"]["index"], 2);
    assert_eq!(j["blocking"]["line"], 5);
    let window: Vec<u64> = j["window"]
        .as_array()
        .expect("window")
        .iter()
        .map(|o| o["index"].as_u64().expect("index"))
        .collect();
    assert_eq!(window, vec![1, 2], "write 2, then the stale read of 1");
    assert_eq!(j["prefix_length"], 2);
    assert!(j["explanation"]
        .as_str()
        .is_some_and(|s| s.contains("read → 1")));
    let ok = json_line(&check_file(
        &temp_file("good-json.log", GOOD_LOG),
        &ReadOptions::default(),
        &Budget::default(),
        None,
    ));
    assert_eq!(ok["verdict"], "linearizable");
    assert!(ok.get("window").is_none());
    let bad = json_line(&check_file(
        &temp_file("prose-json.txt", "?\n"),
        &ReadOptions::default(),
        &Budget::default(),
        None,
    ));
    assert_eq!(bad["verdict"], "bad-input");
}

#[test]
fn explain_writes_an_html_timeline() {
    let out = std::env::temp_dir().join(format!(
        "dsim-check-cli-{}-explain.html",
        std::process::id()
    ));
    let mut a = args(vec![
        temp_file("bad-explain.log", BAD_LOG),
        temp_file("good-explain.log", GOOD_LOG),
    ]);
    a.explain = Some(out.clone());
    assert_eq!(main(a), exit::FAIL);
    let html = std::fs::read_to_string(&out).expect("explanation written");
    assert!(html.contains("<svg"), "no timeline");
    assert!(html.contains("#2 p1 read → 1"), "the culprit is labelled");
    assert!(
        html.contains("linearizable</b>"),
        "the good file is reported too"
    );
    assert_eq!(
        html.matches("<svg").count(),
        1,
        "one timeline: one violation"
    );
}

// ---- dsim's own histories ---------------------------------------------------------------------

fn op(client: u32, request: Request, invoke: u64, completion: Option<(u64, Outcome)>) -> Operation {
    Operation {
        client: ClientId(client),
        request_id: 1,
        node: NodeId(client % 3),
        via: Vec::new(),
        request,
        invoke: SimTime(invoke),
        completion: completion.map(|(t, o)| (SimTime(t), o)),
    }
}

fn dsim_history(stale: bool) -> History {
    let ok = Outcome::Ok(Response::Ok);
    let read = |v: Option<u64>| Outcome::Ok(Response::Value(v));
    History {
        ops: vec![
            op(
                0,
                Request::Put { key: 1, value: 10 },
                0,
                Some((100, ok.clone())),
            ),
            op(1, Request::Get { key: 2 }, 50, Some((120, read(None)))),
            op(
                2,
                Request::Cas {
                    key: 1,
                    expected: Some(10),
                    new: 11,
                },
                150,
                Some((200, ok.clone())),
            ),
            op(
                0,
                Request::Cas {
                    key: 2,
                    expected: None,
                    new: 5,
                },
                150,
                Some((190, Outcome::Fail)),
            ),
            // Timed out: may or may not have happened.
            op(
                1,
                Request::Put { key: 2, value: 7 },
                210,
                Some((300, Outcome::Unknown)),
            ),
            op(
                2,
                Request::Get { key: 1 },
                250,
                Some((260, read(Some(if stale { 10 } else { 11 })))),
            ),
            op(0, Request::Get { key: 2 }, 400, Some((410, read(Some(7))))),
            // Still pending when the run ended.
            op(2, Request::Put { key: 1, value: 12 }, 500, None),
            op(
                3,
                Request::Broadcast { value: 3 },
                10,
                Some((20, Outcome::Ok(Response::Ok))),
            ),
        ],
    }
}

#[test]
fn dsim_jsonl_histories_round_trip_through_the_checker() {
    for stale in [false, true] {
        let h = dsim_history(stale);
        let mut bytes = Vec::new();
        histfmt::write_jsonl(&h, &mut bytes).expect("writes");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(text.lines().count(), h.ops.len());
        // The broadcast line is written but refused by the checker: drop it to check the rest.
        let kv: String = text
            .lines()
            .filter(|l| !l.contains("broadcast"))
            .map(|l| format!("{l}\n"))
            .collect();
        let parsed = histfmt::parse(&kv, Format::Auto).expect("parses");
        assert_eq!(parsed.format, Format::Jsonl);
        assert_eq!(
            parsed.ops,
            ops_from_history(&h),
            "the file says what the history says"
        );
        let path = temp_file(&format!("dsim-{stale}.jsonl"), &kv);
        let expected = if stale { exit::FAIL } else { exit::PASS };
        assert_eq!(main(args(vec![path])), expected, "stale: {stale}");
        // And the checker inside runs agrees.
        let direct = check_ops(
            &ops_from_history(&h),
            &Semantics::dsim(),
            &Budget::default(),
            None,
        )
        .verdict;
        assert_eq!(direct == LinVerdict::Linearizable, !stale);
    }
}

#[test]
fn dsim_edn_histories_round_trip_through_the_checker() {
    for stale in [false, true] {
        let h = dsim_history(stale);
        let mut bytes = Vec::new();
        histfmt::write_edn(&h, &mut bytes).expect("writes");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(text.starts_with(histfmt::EDN_DSIM_HEADER));
        let kv: String = text
            .lines()
            .filter(|l| !l.contains(":broadcast"))
            .map(|l| format!("{l}\n"))
            .collect();
        let kv = if kv.trim_end().ends_with(']') {
            kv
        } else {
            format!("{}]\n", kv.trim_end())
        };
        let parsed = histfmt::parse(&kv, Format::Auto).expect("parses");
        assert_eq!(parsed.format, Format::Edn);
        assert!(parsed.written_by_dsim);
        // Event order replaces times, but outcomes, inputs and outputs survive.
        let mut from_file: Vec<_> = parsed
            .ops
            .iter()
            .map(|o| {
                (
                    o.key.clone(),
                    o.input.clone(),
                    o.output.clone(),
                    o.completion,
                )
            })
            .collect();
        let mut original: Vec<_> = ops_from_history(&h)
            .into_iter()
            .map(|o| (o.key, o.input, o.output, o.completion))
            .collect();
        from_file.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        original.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        assert_eq!(from_file, original);
        let path = temp_file(&format!("dsim-{stale}.edn"), &kv);
        let expected = if stale { exit::FAIL } else { exit::PASS };
        assert_eq!(main(args(vec![path])), expected, "stale: {stale}");
    }
}

#[test]
fn a_client_that_timed_out_continues_as_a_new_process_in_edn() {
    // Jepsen's rule: a process with an indeterminate operation never invokes again.
    let h = History {
        ops: vec![
            op(
                0,
                Request::Put { key: 1, value: 1 },
                0,
                Some((10, Outcome::Unknown)),
            ),
            op(
                0,
                Request::Get { key: 1 },
                20,
                Some((30, Outcome::Ok(Response::Value(Some(1))))),
            ),
            op(
                1,
                Request::Get { key: 1 },
                25,
                Some((35, Outcome::Ok(Response::Value(Some(1))))),
            ),
        ],
    };
    let mut bytes = Vec::new();
    histfmt::write_edn(&h, &mut bytes).expect("writes");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(text.contains(":process 0, :type :info"), "{text}");
    assert!(
        text.contains(":process 2, :type :invoke, :f :read"),
        "{text}"
    );
    let parsed = histfmt::parse(&text, Format::Auto).expect("parses");
    assert_eq!(parsed.ops.len(), 3);
}

/// Issue 13: a history whose only entries are the nemesis's (Knossos's test suite holds one and
/// calls it valid) has no client operation: trivially linearizable, said in a note. A file
/// with nothing at all is still bad input, and so is one that is not UTF-8.
#[test]
fn a_nemesis_only_history_is_trivially_linearizable() {
    let nemesis = "[{:process :nemesis, :type :info, :f :start, :value nil}\n \
                   {:process :nemesis, :type :info, :f :stop, :value nil}]\n";
    let path = temp_file("nemesis-only.edn", nemesis);
    assert_eq!(main(args(vec![path.clone()])), exit::PASS);
    let o = check_file(&path, &ReadOptions::default(), &Budget::default(), None);
    let j = json_line(&o);
    assert_eq!(j["verdict"], "linearizable");
    assert_eq!(j["operations"], 0);
    assert!(
        j["note"]
            .as_str()
            .is_some_and(|n| n.contains("only 2 events of other processes")),
        "{j}"
    );
    assert!(dsim::check::text_report(&o).contains("trivially linearizable"));
    assert_eq!(
        main(args(vec![temp_file("empty.edn", "\n")])),
        exit::BAD_INPUT
    );
    let dir = std::env::temp_dir().join(format!("dsim-check-cli-{}", std::process::id()));
    let bad = dir.join("latin1.log");
    std::fs::write(&bad, b"INFO  jepsen.util - 0\t:invoke\t:write\t1\n\xe9\n").unwrap();
    let o = check_file(&bad, &ReadOptions::default(), &Budget::default(), None);
    let Err(e) = o.result else {
        panic!("bad input expected")
    };
    assert!(e.ends_with("latin1.log:2: the file is not valid UTF-8: byte `0xe9` here\n  hint: the file must be UTF-8 text; re-save it as UTF-8 (or remove the stray byte)"), "{e}");
}

/// Issue 13: the explanation says in one sentence why the operation cannot be placed, and
/// counts in the singular where there is one.
#[test]
fn an_explanation_says_why_in_one_sentence() {
    let path = temp_file("stale.log", BAD_LOG);
    let o = check_file(&path, &ReadOptions::default(), &Budget::default(), None);
    let text = dsim::check::text_report(&o);
    assert!(
        text.contains("  why: #2 (read → 1) cannot be placed: it read `1`, but no order of the operations that completed before it"),
        "{text}"
    );
    let html = temp_file("stale.html", "");
    let mut a = args(vec![path]);
    a.explain = Some(html.clone());
    assert_eq!(main(a), exit::FAIL);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("3 operations, 1 key,"), "{page}");
    assert!(
        page.contains("<b>Why:</b> #2 (read → 1) cannot be placed"),
        "{page}"
    );
}
