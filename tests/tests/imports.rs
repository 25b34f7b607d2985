//! No two source files import each other. A file "imports" another when its code (not its
//! comments) names a path into it — `crate::a::b`, `super::x`, `self::y`, in a `use` or inline —
//! and the path resolves to that file's module. ARCHITECTURE.md states the invariant; this
//! test keeps it true in every crate of the workspace. It also keeps the workspace free of
//! `unsafe` code except in the one file allowed it, the `dsim` binary's allocator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The source roots of the workspace's crates (`lib.rs`/`main.rs` at their top).
const ROOTS: &[&str] = &[
    "sim-core/src",
    "scenarios/src",
    "protocols/src",
    "cli/src",
    "examples/chain-replication/src",
];

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path below its crate root: `a/b.rs` and `a/b/mod.rs` are `[a, b]`.
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without its comments (line comments and `//!`/`///` docs) and without
/// its unit tests (from the first `#[cfg(test)]` on: inside an inline `mod tests`, `super::`
/// is the file itself).
fn code(text: &str) -> String {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path that starts at `start` (just after `crate::`, `super::` or `self::`), with
/// brace groups expanded one level: `{a, b::c}` gives `[a]` and `[b, c]`.
fn paths_from(s: &str) -> Vec<Vec<String>> {
    let ident = |s: &str| -> usize {
        s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let mut prefix = Vec::new();
    let mut rest = s;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            return group[..end]
                .split(',')
                .map(|item| {
                    let mut p = prefix.clone();
                    p.extend(
                        item.trim()
                            .split("::")
                            .map(|seg| seg[..ident(seg)].to_string())
                            .filter(|seg| !seg.is_empty()),
                    );
                    p
                })
                .collect();
        }
        let n = ident(rest);
        if n == 0 {
            return vec![prefix];
        }
        prefix.push(rest[..n].to_string());
        match rest[n..].strip_prefix("::") {
            Some(r) => rest = r,
            None => return vec![prefix],
        }
    }
}

/// The files `file` imports, among `modules` (module path → file).
fn imports(
    file: &Path,
    me: &[String],
    is_mod: bool,
    modules: &BTreeMap<Vec<String>, PathBuf>,
) -> BTreeSet<PathBuf> {
    let text = code(&std::fs::read_to_string(file).unwrap());
    let mut out = BTreeSet::new();
    for (anchor, base) in [
        ("crate::", Vec::new()),
        ("super::", me[..me.len().saturating_sub(1)].to_vec()),
        (
            "self::",
            if is_mod {
                me.to_vec()
            } else {
                me[..me.len().saturating_sub(1)].to_vec()
            },
        ),
    ] {
        for (i, _) in text.match_indices(anchor) {
            let before = text[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            for path in paths_from(&text[i + anchor.len()..]) {
                let full: Vec<String> = base.iter().cloned().chain(path).collect();
                if let Some(target) = (0..=full.len()).rev().find_map(|k| modules.get(&full[..k])) {
                    if target != file {
                        out.insert(target.clone());
                    }
                }
            }
        }
    }
    out
}

#[test]
fn no_two_files_import_each_other() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut mutual = Vec::new();
    let mut edges_seen = 0;
    for root in ROOTS {
        let root = workspace.join(root);
        let mut files = Vec::new();
        rs_files(&root, &mut files);
        let modules: BTreeMap<Vec<String>, PathBuf> = files
            .iter()
            .map(|f| (module_of(&root, f), f.clone()))
            .collect();
        let deps: BTreeMap<&PathBuf, BTreeSet<PathBuf>> = files
            .iter()
            .map(|f| {
                let is_mod = matches!(
                    f.file_name().and_then(|n| n.to_str()),
                    Some("mod.rs" | "lib.rs" | "main.rs")
                );
                (f, imports(f, &module_of(&root, f), is_mod, &modules))
            })
            .collect();
        for (a, ds) in &deps {
            edges_seen += ds.len();
            for b in ds {
                if *a < b && deps.get(b).is_some_and(|back| back.contains(*a)) {
                    mutual.push(format!(
                        "{} <-> {}",
                        a.strip_prefix(workspace).unwrap().display(),
                        b.strip_prefix(workspace).unwrap().display()
                    ));
                }
            }
        }
    }
    // The scan must see the imports it judges: the crates have hundreds of them.
    assert!(edges_seen > 100, "only {edges_seen} imports found");
    assert!(
        mutual.is_empty(),
        "files importing each other:\n{}",
        mutual.join("\n")
    );
}

#[test]
fn the_scan_finds_a_cycle_when_there_is_one() {
    let dir = std::env::temp_dir().join(format!("dsim-imports-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod a;\n").unwrap();
    std::fs::write(
        dir.join("a/mod.rs"),
        "//! uses b\nmod b;\nuse self::b::Thing;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("a/b.rs"),
        "// crate::a is named in a comment only\nfn f() { super::g(); }\n",
    )
    .unwrap();
    let mut files = Vec::new();
    rs_files(&dir, &mut files);
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .map(|f| (module_of(&dir, f), f.clone()))
        .collect();
    let a = dir.join("a/mod.rs");
    let b = dir.join("a/b.rs");
    assert!(imports(&a, &module_of(&dir, &a), true, &modules).contains(&b));
    assert!(imports(&b, &module_of(&dir, &b), false, &modules).contains(&a));
    std::fs::remove_dir_all(&dir).ok();
}

/// `unsafe_code` is forbidden workspace-wide; the `cli` crate only denies it, so that its
/// allocator (`cli/src/alloc.rs`) can allow it. No other file may.
#[test]
fn only_the_allocator_allows_unsafe_code() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for root in ROOTS.iter().chain(&[
        "cli/tests",
        "tests/tests",
        "scenarios/tests",
        "protocols/tests",
    ]) {
        if base.join(root).is_dir() {
            rs_files(&base.join(root), &mut files);
        }
    }
    let allowing: BTreeSet<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.contains(concat!("allow(", "unsafe_code)"))
        })
        .map(|f| f.strip_prefix(base).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(allowing, BTreeSet::from(["cli/src/alloc.rs".to_string()]));
}
