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
        "This is the demo",
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
        "On the chain",
        "chain-confirmed",
        "chain: pocket-dca sandbox",
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

/// A headless Chromium driven over the DevTools protocol: the page is laid
/// out at a phone's size, and the test asks the page itself what overflows.
struct DevTools {
    child: std::process::Child,
    socket: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    next_id: u64,
}

impl DevTools {
    fn start(chromium: &Path, profile: &Path) -> DevTools {
        let child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Chromium writes the port it chose into the profile.
        let port_file = profile.join("DevToolsActivePort");
        let mut port = None;
        for _ in 0..300 {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Some(p) = text
                    .lines()
                    .next()
                    .and_then(|l| l.trim().parse::<u16>().ok())
            {
                port = Some(p);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let port = port.expect("Chromium's DevTools port");
        let (_, list) = http_get(&format!("http://127.0.0.1:{port}/json/list"));
        let targets: serde_json::Value = serde_json::from_str(&list).unwrap();
        let page = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target");
        let url = page["webSocketDebuggerUrl"].as_str().unwrap();
        let (socket, _) = tungstenite::connect(url).unwrap();
        DevTools {
            child,
            socket,
            next_id: 0,
        }
    }

    /// Sends a command and waits for its answer (events are skipped).
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = serde_json::json!({"id": id, "method": method, "params": params});
        self.socket
            .send(tungstenite::Message::text(message.to_string()))
            .unwrap();
        loop {
            let reply = self.socket.read().unwrap();
            let Ok(text) = reply.to_text() else { continue };
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            if value["id"] == id {
                assert!(value.get("error").is_none(), "{method}: {value}");
                return value["result"].clone();
            }
        }
    }

    /// Evaluates JavaScript in the page; its value.
    fn eval(&mut self, expression: &str) -> serde_json::Value {
        let result = self.call(
            "Runtime.evaluate",
            serde_json::json!({"expression": expression, "returnByValue": true}),
        );
        result["result"]["value"].clone()
    }

    /// Loads `url` and waits until it is laid out.
    fn open(&mut self, url: &str) {
        self.call("Page.navigate", serde_json::json!({"url": url}));
        for _ in 0..200 {
            if self.eval("document.readyState") == "complete"
                && self.eval("location.href").as_str() == Some(url)
            {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("{url} did not load");
    }

    /// A screenshot of the whole page.
    fn screenshot(&mut self, name: &str) -> PathBuf {
        use bitcoin::base64::Engine as _;
        let shot = self.call(
            "Page.captureScreenshot",
            serde_json::json!({"format": "png", "captureBeyondViewport": true}),
        );
        let bytes = bitcoin::base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for DevTools {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_dashboard_reads_on_a_390_pixel_phone() {
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
    let demo = RunningDemo::start(&dir.path().join("demo"));
    let mut tools = DevTools::start(&chromium, &dir.path().join("profile"));
    tools.call(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}),
    );
    let (_, html) = http_get(&demo.dashboard);
    let at = html.find("href=\"/orders/").unwrap() + 6;
    let order = format!(
        "{}{}",
        demo.dashboard,
        &html[at..at + html[at..].find('"').unwrap()]
    );
    let base = demo.dashboard.trim_end_matches('/');
    let overview = format!("{base}/");
    let exchanges = format!("{base}/exchanges");
    let webhooks = format!("{base}/webhooks");
    for (url, name) in [
        (overview.as_str(), "phone-overview.png"),
        (order.as_str(), "phone-order.png"),
        (exchanges.as_str(), "phone-exchanges.png"),
        (webhooks.as_str(), "phone-webhooks.png"),
    ] {
        tools.open(url);
        let width = tools.eval("document.documentElement.scrollWidth");
        let viewport = tools.eval("window.innerWidth");
        assert_eq!(viewport, 390, "{url}");
        assert!(
            width.as_u64().unwrap() <= 390,
            "{url}: the page is {width} px wide on a 390 px screen"
        );
        // No table scrolls sideways either.
        let scrolling = tools.eval(
            "[...document.querySelectorAll('.table-wrap')].filter(t => t.scrollWidth > t.clientWidth + 1).length",
        );
        assert_eq!(scrolling, 0, "{url}: a table scrolls sideways");
        // Chart labels at a readable size, whatever the chart's scale.
        let label = tools.eval(
            "Math.min(99, ...[...document.querySelectorAll('.chart svg text')].map(t => t.getBoundingClientRect().height))",
        );
        assert!(
            label.as_f64().unwrap() >= 9.0,
            "{url}: chart labels {label} px"
        );
        let clipped = tools.eval(
            "[...document.querySelectorAll('.chart svg')].flatMap(svg => { const b = svg.getBoundingClientRect(); return [...svg.querySelectorAll('text')].filter(t => { const r = t.getBoundingClientRect(); return r.left < b.left - 0.5 || r.right > b.right + 0.5; }).map(t => t.textContent); })",
        );
        assert_eq!(
            clipped,
            serde_json::json!([]),
            "{url}: chart labels cut off"
        );
        let shot = tools.screenshot(name);
        eprintln!("screenshot: {}", shot.display());
    }
    // On the order page addresses and txids are shortened in the middle,
    // and still whole in the page (to select and copy) and in the title.
    tools.open(&order);
    let clips = tools.eval(
        "[...document.querySelectorAll('.clip')].map(c => [c.textContent === c.title, c.querySelector('.head').scrollWidth > c.querySelector('.head').clientWidth])",
    );
    let clips = clips.as_array().unwrap();
    assert!(!clips.is_empty(), "no clipped identifiers");
    for clip in clips {
        assert_eq!(clip[0], true, "the whole value is in the page: {clip}");
    }
    assert!(
        clips.iter().any(|c| c[1] == true),
        "at least one address is shortened on a phone"
    );
    drop(tools);
    assert!(demo.stop().success());
}
