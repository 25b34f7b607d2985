//! `dsim validate` and `dsim list`.

use std::path::PathBuf;

use crate::exit;

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files to validate.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn validate(args: ValidateArgs) -> i32 {
    let mut code = exit::PASS;
    for f in &args.files {
        match scenarios::load(f) {
            Ok(s) => println!("ok: {} ({})", f.display(), s.name),
            Err(e) => {
                eprintln!("error: {e}");
                code = exit::BAD_INPUT;
            }
        }
    }
    code
}

pub fn list() -> i32 {
    println!("protocols:");
    for p in protocols::REGISTRY {
        let services: Vec<&str> = p.services.iter().map(|s| s.name()).collect();
        println!(
            "  {:<13} {} (serves: {}; checks: {})",
            p.name,
            p.summary,
            if services.is_empty() {
                "-".to_string()
            } else {
                services.join(", ")
            },
            if p.checks.is_empty() {
                "-".to_string()
            } else {
                p.checks.join(", ")
            }
        );
    }
    println!("fault kinds (schedule): Partition(Split|Isolate|OneWay|Bridge), Heal, Crash, Restart, Pause, ClockJump, SetLink, ResetLinks");
    let kinds: Vec<&str> = sim_core::config::FaultKind::ALL
        .iter()
        .map(|k| k.name())
        .collect();
    println!("fault kinds (nemesis): {}", kinds.join(", "));
    println!("checks: {}", scenarios::check_names().join(", "));
    println!("shipped scenarios:");
    let dir = scenarios::shipped_dir();
    for path in scenarios::shipped() {
        let shown = path
            .strip_prefix(dir.parent().unwrap_or(&dir))
            .unwrap_or(&path)
            .display()
            .to_string();
        match scenarios::load(&path) {
            Ok(s) => println!("  {shown:<44} {}", s.description),
            Err(e) => println!("  {shown:<44} INVALID: {}", e.message),
        }
    }
    exit::PASS
}
