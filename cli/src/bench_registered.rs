//! `dsim bench <name>` for the benchmarks registered protocols bring (`scenarios::bench`):
//! each declaration becomes a subcommand with its options, defaults and `--help`.

use std::ffi::OsString;

use clap::{Arg, ArgAction, Command};
use scenarios::bench::{Bench, BenchArgs};
use scenarios::Registry;

use crate::{exit, Env};

/// The `dsim bench --help` lines naming the registered benchmarks.
pub fn listing(registry: &Registry) -> String {
    let mut out = String::from("Benchmarks the registered protocols bring:\n");
    if registry.benches().is_empty() {
        out.push_str("  (none)\n");
    }
    for b in registry.benches() {
        out.push_str(&format!("  {:<16} {}\n", b.name, b.about));
    }
    out
}

fn command(program: &str, b: &Bench) -> Command {
    let mut c = Command::new(b.name)
        .bin_name(format!("{program} bench {}", b.name))
        .about(b.about);
    for o in b.options {
        c = c.arg(
            Arg::new(o.name)
                .long(o.name)
                .value_name("VALUE")
                .help(o.help)
                .default_value(o.default)
                .action(ArgAction::Set),
        );
    }
    c
}

/// Runs the registered benchmark `args[0]` with the rest of `args`; returns the exit code.
pub fn main(env: &Env, args: &[OsString]) -> i32 {
    let name = args.first().map(|a| a.to_string_lossy().into_owned());
    let Some(bench) = env
        .registry
        .benches()
        .iter()
        .find(|b| Some(b.name) == name.as_deref())
    else {
        let known: Vec<&str> = ["engine", "check"]
            .into_iter()
            .chain(env.registry.benches().iter().map(|b| b.name))
            .collect();
        eprintln!(
            "error: unknown benchmark `{}`\n  hint: benchmarks: {}",
            name.unwrap_or_default(),
            known.join(", ")
        );
        return exit::BAD_INPUT;
    };
    let matches = match command(&env.program, bench).try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::PASS
            };
            let _ = e.print();
            return code;
        }
    };
    let given = bench.options.iter().filter_map(|o| {
        matches
            .get_one::<String>(o.name)
            .map(|v| (o.name, v.clone()))
    });
    let values = BenchArgs::new(bench, given);
    (bench.run)(&values)
}
