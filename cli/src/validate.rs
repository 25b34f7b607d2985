//! `dsim validate` and `dsim list`: both read the registry (the protocols, their checks, and
//! what each scenario file names).

use std::path::{Path, PathBuf};

use crate::{exit, Env};

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files to validate.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn validate(env: &Env, args: ValidateArgs) -> i32 {
    let mut code = exit::PASS;
    for f in &args.files {
        match env.registry.load(f) {
            Ok(s) => println!("ok: {} ({})", f.display(), s.name),
            Err(e) => {
                eprintln!("error: {e}");
                code = exit::BAD_INPUT;
            }
        }
    }
    code
}

pub fn list(env: &Env) -> i32 {
    println!("protocols:");
    let name_width = env
        .registry
        .protocols()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for p in env.registry.protocols() {
        let services: Vec<&str> = p.services.iter().map(|s| s.name()).collect();
        let checks = p.check_names();
        let (lo, hi) = (*p.node_count.start(), *p.node_count.end());
        let nodes = match (lo, hi >= scenarios::NODE_COUNT_MAX) {
            (1, true) => String::new(),
            (lo, true) => format!("nodes: {lo} or more; "),
            (lo, false) => format!("nodes: {lo} to {hi}; "),
        };
        println!(
            "  {:<name_width$} {} ({nodes}serves: {}; checks: {})",
            p.name,
            p.summary,
            if services.is_empty() {
                "-".to_string()
            } else {
                services.join(", ")
            },
            if checks.is_empty() {
                "-".to_string()
            } else {
                checks.join(", ")
            }
        );
    }
    println!("fault kinds (schedule): Partition(Split|Isolate|OneWay|Bridge), Heal, Crash, Restart, Pause, ClockJump, SetLink, ResetLinks");
    let kinds: Vec<&str> = sim_core::config::FaultKind::ALL
        .iter()
        .map(|k| k.name())
        .collect();
    println!("fault kinds (nemesis): {}", kinds.join(", "));
    println!("checks: {}", env.registry.check_names().join(", "));
    let dir = scenarios::shipped_dir();
    let base = dir.parent().unwrap_or(&dir).to_path_buf();
    let shown = |path: &Path| match path.strip_prefix(&base) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    };
    let mut groups = vec![("shipped scenarios".to_string(), scenarios::shipped())];
    for extra in env.registry.scenario_dirs() {
        let files = scenarios::ron_files_in(extra);
        groups.push((format!("scenarios in {}", shown(extra)), files));
    }
    let width = groups
        .iter()
        .flat_map(|(_, files)| files.iter().map(|f| shown(f).len()))
        .max()
        .unwrap_or(0);
    for (title, files) in &groups {
        println!("{title}:");
        if files.is_empty() {
            println!("  (none)");
        }
        for path in files {
            let name = shown(path);
            match env.registry.load(path) {
                Ok(s) => println!("  {name:<width$} {}", s.description),
                Err(e) => println!("  {name:<width$} INVALID: {}", e.message),
            }
        }
    }
    exit::PASS
}
