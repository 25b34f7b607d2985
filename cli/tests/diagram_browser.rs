//! The diagram in a real browser: `dsim run --diagram` on a shipped bug scenario, opened by
//! headless Chromium from disk. After the page's script has run, the DOM must hold a lane per
//! node and per client, the message lines, the failing check's evidence highlighted, the time
//! axis the script draws, and no error (the page records `error` events and `console.error`
//! into the DOM itself — shown to work on a page with a planted error). A screenshot is saved
//! under `target/` and its path printed.
//!
//! Needs Chromium: `.ci/run` installs Debian's `chromium` when it is missing; elsewhere
//! install it (`apt-get install chromium`) or point `DSIM_CHROMIUM` at a Chrome binary.
//! Without one the test fails and says so — it never passes without a browser.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::repo;

/// Where the test's files go: `target/diagram-test/`.
fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let dir = target.join("diagram-test");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("DSIM_CHROMIUM") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "the diagram test needs a real browser and found none: install Debian's `chromium` \
         (`apt-get install chromium`; `.ci/run` does it when it is missing), or set \
         DSIM_CHROMIUM to a Chrome or Chromium binary"
    );
}

/// Runs headless Chromium on `page` with `args` (after the page's script had time to run).
fn browse(page: &Path, args: &[&str]) -> String {
    let profile = out_dir().join(format!(
        "profile-{}-{}",
        std::process::id(),
        page.file_stem().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&profile);
    let url = format!("file://{}", page.display());
    let o = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(&url)
        .output()
        .expect("chromium starts");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        o.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn count(dom: &str, needle: &str) -> usize {
    dom.matches(needle).count()
}

/// The diagram of `file` (shipped) at its seed.
fn diagram(file: &str, name: &str) -> PathBuf {
    let page = out_dir().join(format!("{name}.html"));
    let o = common::dsim_with(&["run", file, "--diagram", page.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
    page
}

#[test]
fn the_diagram_of_a_bug_renders_in_a_browser_with_its_evidence() {
    let page = diagram(
        "scenarios/raft/bug-no-consistency-check.ron",
        "raft-bug-no-consistency-check",
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "nothing fetched"
    );
    assert!(
        !html.contains("<script src") && !html.contains("<link "),
        "self-contained"
    );
    let dom = browse(&page, &["--dump-dom"]);
    assert!(
        dom.contains(r#"data-ready="1""#),
        "the page's script did not finish"
    );
    assert!(
        !dom.contains("data-errors=\""),
        "the page recorded errors:\n{dom}"
    );
    assert_eq!(
        count(&dom, r#"<div class="lane node""#),
        3,
        "a lane per node"
    );
    assert_eq!(
        count(&dom, r#"<div class="lane client""#),
        3,
        "a lane per client"
    );
    let arrows = count(&dom, r#"<line class="msg "#);
    assert!(arrows > 1000, "{arrows} message lines");
    assert_eq!(
        count(&dom, r#"class="moment evidence""#),
        6,
        "the two conflicting entries (or logs) of each of the three failing checks"
    );
    assert!(dom.contains("applied index"), "the evidence is named");
    let axis = dom.split(r#"<g id="axis">"#).nth(1).unwrap_or("");
    assert!(axis.starts_with("<line"), "the script drew the time axis");
    assert!(count(&dom, r#"class="band g"#) > 0, "partitions are shaded");
    assert!(
        count(&dom, r#"class="down crashed""#) > 0,
        "crashes are drawn"
    );
    // A picture of it, kept under target/.
    let shot = out_dir().join("raft-bug-no-consistency-check.png");
    let _ = std::fs::remove_file(&shot);
    browse(
        &page,
        &[
            "--window-size=1400,600",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 20_000, "the screenshot is {size} bytes");
    println!("screenshot: {}", shot.display());
}

#[test]
fn an_error_on_the_page_shows_in_the_dom() {
    // The same page with a planted script error: the catcher must record it, so that the
    // test above would see one.
    let page = diagram(
        "scenarios/primary-backup/bug-stale-backup-reads.ron",
        "planted-error",
    );
    let html = std::fs::read_to_string(&page).unwrap();
    let broken = html.replacen("</body>", "<script>noSuchFunction();</script></body>", 1);
    let bad = out_dir().join("planted-error-broken.html");
    std::fs::write(&bad, broken).unwrap();
    let dom = browse(&bad, &["--dump-dom"]);
    assert!(
        dom.contains(r#"data-errors="1""#),
        "the planted error was not recorded"
    );
    assert!(
        dom.contains("noSuchFunction"),
        "the error's text is in the page"
    );
    // And the unbroken page has the stale read's operations highlighted, without errors.
    let dom = browse(&page, &["--dump-dom"]);
    assert!(!dom.contains("data-errors=\""));
    assert!(
        count(&dom, r#"class="op ok evidence""#) + count(&dom, r#"class="op fail evidence""#) >= 2
    );
}
