//! The README's sample outputs are real (issue 13: its sample once showed a trace hash its
//! command did not print). Every fenced block that starts with `$ dsim ...` is run on the
//! binary, and its lines must appear in the output in order. A line with `...` stands for any
//! line starting with the text before it (the rest elided); the `simulated:` line is compared
//! up to its wall-clock part. Regenerate a block by running its command.

use std::process::Command;

mod common;
use common::repo;

/// The README's `$ dsim` blocks: the command's arguments and the lines shown after it.
fn samples(text: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if !l.starts_with("```") {
            continue;
        }
        let block: Vec<&str> = lines
            .by_ref()
            .take_while(|b| !b.starts_with("```"))
            .collect();
        if let Some(cmd) = block.first().and_then(|f| f.strip_prefix("$ dsim ")) {
            let args = cmd.split_whitespace().map(String::from).collect();
            let shown = block[1..].iter().map(|s| s.to_string()).collect();
            out.push((args, shown));
        }
    }
    out
}

/// Whether output line `got` is what the README shows as `want`.
fn matches(want: &str, got: &str) -> bool {
    if let Some((head, _)) = want.split_once("...") {
        return got.starts_with(head.trim_end()) || head.trim().is_empty();
    }
    if want.starts_with("simulated:") {
        let cut = |s: &str| s.split("wall:").next().unwrap_or("").trim_end().to_string();
        return cut(want) == cut(got);
    }
    want == got
}

#[test]
fn readme_sample_outputs_are_what_their_commands_print() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let samples = samples(&readme);
    assert!(samples.len() >= 3, "found {} samples", samples.len());
    for (args, shown) in samples {
        let out = Command::new(env!("CARGO_BIN_EXE_dsim"))
            .args(&args)
            .current_dir(repo())
            .output()
            .expect("dsim runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let got: Vec<&str> = stdout.lines().collect();
        let mut at = 0;
        for want in &shown {
            match got[at..].iter().position(|g| matches(want, g)) {
                Some(k) => at += k + 1,
                None => panic!(
                    "README sample of `dsim {}`: no line like\n  {want}\nin order in its output:\n{stdout}",
                    args.join(" ")
                ),
            }
        }
    }
}
