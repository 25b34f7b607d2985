//! `dsim bench check` on a folder: every readable file is measured and its verdict compared
//! with `VERDICTS`; an unreadable one (Porcupine ships an empty `etcd_095.log`) is reported
//! and the benchmark goes on.

use std::process::Command;

const GOOD: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
                    INFO  jepsen.util - 0\t:ok\t:write\t1\n\
                    INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
                    INFO  jepsen.util - 1\t:ok\t:read\t1\n";
const BAD: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
                   INFO  jepsen.util - 0\t:ok\t:write\t1\n\
                   INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
                   INFO  jepsen.util - 1\t:ok\t:read\t2\n";

#[test]
fn an_unreadable_file_is_reported_and_the_others_are_measured() {
    let dir = std::env::temp_dir().join(format!("dsim-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("a_good.log"), GOOD).expect("write");
    std::fs::write(dir.join("b_empty.log"), "").expect("write");
    std::fs::write(dir.join("c_bad.log"), BAD).expect("write");
    std::fs::write(
        dir.join("VERDICTS"),
        "a_good.log linearizable\nc_bad.log not-linearizable\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_dsim"))
        .args(["bench", "check", "--reps", "1", "--json"])
        .arg(&dir)
        .output()
        .expect("dsim runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    let verdict = |i: usize| lines[i]["verdict"].as_str().unwrap_or_default().to_string();
    assert_eq!(verdict(0), "linearizable");
    assert_eq!(verdict(1), "bad-input");
    assert!(lines[1]["error"]
        .as_str()
        .is_some_and(|e| e.contains("b_empty.log")));
    assert_eq!(verdict(2), "not-linearizable");
    assert!(lines[2]["decide_ms"].as_f64().is_some_and(|t| t >= 0.0));
    assert_eq!(lines[3]["files"], 2);
    assert_eq!(lines[3]["unreadable"], 1);
    assert_eq!(lines[3]["mismatches"], 0);
    assert!(stderr.contains("b_empty.log"), "{stderr}");
    // Bad input is still the exit code, after everything was measured.
    assert_eq!(out.status.code(), Some(2));
}
