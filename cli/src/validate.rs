//! `dsim validate` and `dsim list`: both read the registry (the protocols, their checks, and
//! what each scenario file names).

use std::path::PathBuf;

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
        println!(
            "  {:<name_width$} {} (serves: {}; checks: {})",
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
    println!("shipped scenarios:");
    let dir = scenarios::shipped_dir();
    let shown: Vec<(PathBuf, String)> = scenarios::shipped()
        .into_iter()
        .map(|path| {
            let shown = path
                .strip_prefix(dir.parent().unwrap_or(&dir))
                .unwrap_or(&path)
                .display()
                .to_string();
            (path, shown)
        })
        .collect();
    let width = shown.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    for (path, shown) in &shown {
        match env.registry.load(path) {
            Ok(s) => println!("  {shown:<width$} {}", s.description),
            Err(e) => println!("  {shown:<width$} INVALID: {}", e.message),
        }
    }
    exit::PASS
}
