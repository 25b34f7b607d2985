//! The deployment files are parsed and checked against the CLI they drive: the Kubernetes
//! Indexed Job (deploy/kubernetes/sweep-job.yaml), the GitHub Actions matrix
//! (deploy/github-actions/sweep.yml) and the Dockerfile. No container engine runs here, so the
//! image itself is not built by the tests; what can be checked without one is.

mod common;

use common::{dsim_with, repo, stderr};
use yaml_rust2::{Yaml, YamlLoader};

fn load(path: &str) -> Yaml {
    let text = std::fs::read_to_string(repo().join(path)).expect(path);
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(docs.len(), 1, "{path}: one YAML document");
    docs.remove(0)
}

/// The value after `flag` in a shell command line.
fn flag<'a>(command: &'a str, flag: &str) -> &'a str {
    let mut words = command.split_whitespace();
    words.find(|w| *w == flag);
    words
        .next()
        .unwrap_or_else(|| panic!("no `{flag}` in {command}"))
}

/// `dsim validate FILE` passes: the scenario a deployment names exists and loads.
fn validates(file: &str) {
    let out = dsim_with(&["validate", file], &[]);
    assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
}

#[test]
fn the_kubernetes_job_is_indexed_and_its_shards_match_its_completions() {
    let job = load("deploy/kubernetes/sweep-job.yaml");
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_i64().expect("completions");
    assert_eq!(spec["parallelism"].as_i64(), Some(completions));
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let container = &pod["containers"][0];
    let script = container["args"][0].as_str().expect("a shell script");
    let command = script.replace("\\\n", " ");
    assert!(command.contains("dsim sweep "), "{command}");
    assert_eq!(
        flag(&command, "--shard"),
        format!("env:JOB_COMPLETION_INDEX/{completions}"),
        "one shard per completion index"
    );
    assert!(flag(&command, "--seeds").contains(".."));
    assert!(command.contains("--json"));
    let file = command
        .split_whitespace()
        .skip_while(|w| *w != "sweep")
        .nth(1)
        .unwrap();
    validates(file);
    // A shard that found failing seeds (exit 1) still completes its pod.
    assert!(script.contains("0|1|3) exit 0"), "{script}");
}

#[test]
fn the_github_matrix_has_one_job_per_shard_and_a_merge() {
    let wf = load("deploy/github-actions/sweep.yml");
    let jobs = &wf["jobs"];
    let shards = jobs["shard"]["strategy"]["matrix"]["shard"]
        .as_vec()
        .expect("a shard matrix");
    let n = shards.len() as i64;
    let indices: Vec<i64> = shards.iter().map(|s| s.as_i64().unwrap()).collect();
    assert_eq!(indices, (0..n).collect::<Vec<_>>());
    let run: String = jobs["shard"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    let run = run.replace("\\\n", " ");
    assert_eq!(flag(&run, "--shard"), format!("env:SHARD/{n}"), "{run}");
    let scenario = wf["on"]["workflow_dispatch"]["inputs"]["scenario"]["default"]
        .as_str()
        .unwrap();
    validates(scenario);
    let merge: String = jobs["merge"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(merge.contains("dsim sweep merge part-*.json"), "{merge}");
    assert_eq!(jobs["merge"]["if"].as_str(), Some("always()"));
}

#[test]
fn the_dockerfile_builds_dsim_and_ships_the_scenarios() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    assert!(text.contains("cargo build --release --locked -p cli"));
    assert!(text.contains("COPY --from=build /src/target/release/dsim /usr/local/bin/dsim"));
    assert!(text.contains("COPY --from=build /src/scenarios /dsim/scenarios"));
    assert!(text.contains("WORKDIR /dsim"));
    assert!(text.contains(r#"ENTRYPOINT ["dsim"]"#));
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).unwrap();
    assert!(
        ignore.lines().any(|l| l.trim() == "target/"),
        "the build context leaves out target/"
    );
}
