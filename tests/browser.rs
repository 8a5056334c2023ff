//! The demo's dashboard in headless Chromium (Debian's `chromium`, which
//! `.ci/run` installs): the overview and an order page render with their
//! content, and screenshots are saved to `target/screenshots/`. On a machine
//! without Chromium the test reports itself skipped with the install
//! command — unless POCKET_DCA_REQUIRE_BROWSER is set, as in CI.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{RunningDemo, http_get};

fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CHROMIUM") {
        return Some(path.into());
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

fn headless(chromium: &Path, profile: &Path, args: &[&str]) -> String {
    let out = Command::new(chromium)
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
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn screenshot(chromium: &Path, profile: &Path, url: &str, name: &str, height: u32) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    headless(
        chromium,
        profile,
        &[
            &format!("--window-size=1280,{height}"),
            &format!("--screenshot={}", path.display()),
            url,
        ],
    );
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        bytes.len() > 20_000,
        "a rendered page, not a blank one ({} bytes)",
        bytes.len()
    );
    path
}

#[test]
fn the_dashboard_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        if std::env::var_os("POCKET_DCA_REQUIRE_BROWSER").is_some() {
            panic!("Chromium is required here (POCKET_DCA_REQUIRE_BROWSER) but not installed");
        }
        eprintln!(
            "skipped: no Chromium; install it with `sudo apt-get install chromium` to run this test"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    let demo = RunningDemo::start(&dir.path().join("demo"));

    let overview = headless(&chromium, &profile, &["--dump-dom", &demo.dashboard]);
    for text in [
        "Bitcoin received",
        "EUR stack",
        "CHF stack",
        "Bitcoin accumulated",
        "Next reminder",
    ] {
        assert!(overview.contains(text), "{text} not rendered");
    }
    assert!(overview.contains("<svg"), "the chart is rendered inline");
    let shot = screenshot(&chromium, &profile, &demo.dashboard, "overview.png", 1900);

    let (_, html) = http_get(&demo.dashboard);
    let at = html.find("href=\"/orders/").unwrap() + 6;
    let path = &html[at..at + html[at..].find('"').unwrap()];
    let url = format!("{}{path}", demo.dashboard);
    let order = headless(&chromium, &profile, &["--dump-dom", &url]);
    for text in [
        "Payment instructions",
        "Reference",
        "Address window",
        "Price paid against average cost",
        "matched",
    ] {
        assert!(
            order.contains(text),
            "{text} not rendered on the order page"
        );
    }
    let order_shot = screenshot(&chromium, &profile, &url, "order.png", 2600);
    eprintln!(
        "screenshots: {} and {}",
        shot.display(),
        order_shot.display()
    );
    assert!(demo.stop().success());
}
