//! The web application in a real browser: runs the Playwright tests under `tests/e2e` (headless
//! Debian Chromium driven by playwright-core, with Node's own test runner) against this build's
//! binary.
//!
//! They need `/usr/bin/chromium` (Debian's `chromium` package) and `npm ci --prefix tests/e2e`;
//! `.ci/run` installs both. Without them this test says what is missing and passes, so that
//! `cargo test` stays green on a machine without a browser, except in CI (`CI` set), where a
//! missing browser is a failure rather than a silent skip.

use std::path::Path;
use std::process::Command;

#[test]
fn the_web_application_works_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let e2e = root.join("tests/e2e");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut missing = Vec::new();
    if !Path::new(&chromium).exists() {
        missing.push(format!("{chromium} (apt-get install chromium)"));
    }
    if !e2e.join("node_modules/playwright-core").exists() {
        missing.push("tests/e2e/node_modules (npm ci --prefix tests/e2e)".to_string());
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_string());
    }
    if !missing.is_empty() {
        let message = format!(
            "the browser tests need {}; `bash .ci/run` installs them",
            missing.join(", ")
        );
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("SKIPPED: {message}");
        return;
    }
    let out = Command::new("node")
        .args(["--test", "--test-concurrency=1"])
        .current_dir(&e2e)
        .env("TRIAGE_BIN", env!("CARGO_BIN_EXE_triage"))
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the browser tests failed:\n{report}");
    let passed = report
        .lines()
        .find_map(|l| l.strip_prefix("# pass "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    assert!(
        passed >= 15,
        "fewer browser tests ran than expected:\n{report}"
    );
    eprintln!("{passed} browser tests passed");
}
