//! What an attack on the running tool found, each as a test against the
//! real thing: a DNS-rebinding `Host`, a Referer that a browser reads as
//! another site, a txid written as a spreadsheet formula, files readable by
//! everyone, a damaged database, a backup that fails, and an SMTP URL that
//! would send the password in clear text.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{ServiceRig, run, tool};
use pocket_dca::alerts::{AlertKind, NewAlert};
use pocket_dca::sandbox::webhook_body;
use pocket_dca::wallet::ScriptType;

const CLIENT: &str = "hardening-test";
const SECRET: &str = "whsec-hardening";

/// One raw HTTP/1.1 exchange: (status, head, body).
fn http(addr: std::net::SocketAddr, request: &str) -> (u16, String, String) {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn a_foreign_host_gets_421_and_neither_a_cookie_nor_the_key() {
    let r = ServiceRig::start(CLIENT, SECRET, 41, "", |_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let id = order["id"].as_str().unwrap();
    let addr = r.running().dashboard_addr;
    let key_start = &r.wallet.account_descriptor(ScriptType::P2wpkh).unwrap()[..20];
    for host in ["attacker.test", &format!("attacker.test:{}", addr.port())] {
        let (status, head, body) = http(
            addr,
            &format!("GET /orders/{id} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(status, 421, "{host}: {head}");
        assert!(!head.contains("set-cookie"), "{head}");
        assert!(!body.contains(key_start), "{body}");
    }
    // Its own name is served.
    let (status, head, _) = http(
        addr,
        &format!(
            "GET /orders/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            addr.port()
        ),
    );
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("set-cookie"));
}

#[test]
fn the_acknowledge_redirect_never_leaves_the_dashboard() {
    let r = ServiceRig::start(CLIENT, SECRET, 42, "", |_| {});
    let alert = r
        .store()
        .raise_alert(
            &NewAlert {
                kind: AlertKind::MissedOrder,
                order_id: None,
                exchange_id: None,
                message: "test".into(),
                subject: "redirect".into(),
            },
            chrono::Utc::now(),
        )
        .unwrap()
        .unwrap();
    let addr = r.running().dashboard_addr;
    let host = format!("127.0.0.1:{}", addr.port());
    let (_, head, body) = http(
        addr,
        &format!("GET /alerts HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    );
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &body[at..at + 64];
    let form = format!("csrf={csrf}");
    let (status, head, _) = http(
        addr,
        &format!(
            "POST /alerts/{alert}/ack HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nReferer: http://{host}/\\evil.example/x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("\r\nlocation: /alerts\r\n"), "{head}");
    assert!(!head.contains("evil"), "{head}");
}

#[test]
fn a_txid_written_as_a_formula_reaches_the_csv_quoted() {
    let r = ServiceRig::start(CLIENT, SECRET, 43, "", |_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let address = r.address_at(ScriptType::P2wpkh, 0);
    let e = r.settled_exchange(&order, &address, "=1+2", 0);
    assert_eq!(
        r.post_signed(&webhook_body("exchange.settled", &e, false).unwrap()),
        200
    );
    r.settle();
    let (code, csv, err) = run(tool(r.dir.path()).args(["export", "csv"]));
    assert_eq!(code, 0, "{err}");
    assert!(csv.contains(",'=1+2,"), "{csv}");
    assert!(!csv.contains(",=1+2,"), "{csv}");
    // The dashboard's download too.
    let addr = r.running().dashboard_addr;
    let (status, _, body) = http(
        addr,
        &format!(
            "GET /export/exchanges.csv HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            addr.port()
        ),
    );
    assert_eq!(status, 200);
    assert!(body.contains(",'=1+2,"), "{body}");
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The binary under `umask 022`.
fn under_umask(dir: &Path, args: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "umask 022; exec \"{}\" {args}",
            assert_cmd::cargo::cargo_bin("pocket-dca").display()
        ))
        .current_dir(dir)
        .env("POCKET_DCA_CONFIG", dir.join("pocket-dca.toml"));
    cmd
}

#[test]
fn every_file_with_the_users_data_is_0600_under_umask_022() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("pocket-dca.toml"),
        "[database]\npath = \"dca.sqlite3\"\n[server]\nwebhook_listen = \"127.0.0.1:0\"\ndashboard_listen = \"127.0.0.1:0\"\n[email]\nfrom = \"dca@example.com\"\noutbox_dir = \"outbox\"\n[sync]\ninterval_minutes = 0\n",
    )
    .unwrap();
    // A file made under this umask is 0644: the tool must do better.
    assert_eq!(
        Command::new("sh")
            .args(["-c", "umask 022; touch probe"])
            .current_dir(d)
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    assert_eq!(mode(&d.join("probe")), 0o644);
    for args in [
        "db status",
        "db backup backup.sqlite3",
        "export csv --out exchanges.csv",
        "export labels --out labels.jsonl",
        "mail test me@example.com",
    ] {
        let out = under_umask(d, args).output().unwrap();
        assert!(
            out.status.success(),
            "{args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let outbox: Vec<_> = std::fs::read_dir(d.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(outbox.len(), 1);
    for file in [
        "dca.sqlite3",
        "backup.sqlite3",
        "exchanges.csv",
        "labels.jsonl",
    ]
    .iter()
    .map(|f| d.join(f))
    .chain(outbox)
    {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    // While `serve` runs, its WAL, shared-memory and intake journal files too.
    let mut child = under_umask(d, "serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    while !lines.next().unwrap().unwrap().starts_with("webhooks: ") {}
    for file in [
        "dca.sqlite3",
        "dca.sqlite3-wal",
        "dca.sqlite3-shm",
        "dca.sqlite3-intake",
    ] {
        assert_eq!(mode(&d.join(file)), 0o600, "{file}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A database with rows on several pages, then one page overwritten.
fn damaged_database(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("dca.sqlite3");
    let store = pocket_dca::store::Store::open(&path).unwrap();
    for i in 0..400 {
        store
            .raise_alert(
                &NewAlert {
                    kind: AlertKind::MissedOrder,
                    order_id: None,
                    exchange_id: None,
                    message: format!("alert number {i} with some text to fill the pages"),
                    subject: i.to_string(),
                },
                chrono::Utc::now(),
            )
            .unwrap();
    }
    store.checkpoint().unwrap();
    drop(store);
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 8 * page, "{} bytes", bytes.len());
    // The middle of the file: a b-tree page of the alerts table.
    let at = (bytes.len() / page / 2) * page;
    bytes[at..at + 64].fill(0xa5);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_damaged_database_is_reported_refused_and_never_half_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    damaged_database(d);
    std::fs::write(
        d.join("pocket-dca.toml"),
        "[database]\npath = \"dca.sqlite3\"\n[server]\nwebhook_listen = \"127.0.0.1:0\"\ndashboard_listen = \"127.0.0.1:0\"\n[sync]\ninterval_minutes = 0\n",
    )
    .unwrap();
    let (code, _, err) = run(tool(d).args(["db", "status"]));
    assert_ne!(code, 0);
    assert!(
        err.contains("is damaged") && err.contains("backup"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, _, err) = run(tool(d)
        .args(["serve"])
        .timeout(std::time::Duration::from_secs(30)));
    assert_ne!(code, 0);
    assert!(err.contains("is damaged"), "{err}");
    let before: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let (code, _, err) = run(tool(d).args(["db", "backup", "copy.sqlite3"]));
    assert_ne!(code, 0);
    assert!(err.contains("is damaged"), "{err}");
    assert!(!d.join("copy.sqlite3").exists(), "no broken copy is left");
    let after: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "nor a temporary file");
}

#[test]
fn a_backup_that_cannot_be_written_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("pocket-dca.toml"),
        "[database]\npath = \"dca.sqlite3\"\n",
    )
    .unwrap();
    assert_eq!(run(tool(d).args(["db", "status"])).0, 0);
    // A folder the copy cannot be written into.
    std::fs::create_dir(d.join("locked")).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(d.join("locked"), std::fs::Permissions::from_mode(0o500)).unwrap();
    let (code, _, err) = run(tool(d).args(["db", "backup", "locked/copy.sqlite3"]));
    std::fs::set_permissions(d.join("locked"), std::fs::Permissions::from_mode(0o700)).unwrap();
    if code == 0 {
        // Running as root: permissions do not stop it; nothing to show.
        return;
    }
    assert!(err.contains("locked/copy.sqlite3"), "{err}");
    assert_eq!(std::fs::read_dir(d.join("locked")).unwrap().count(), 0);
}

#[test]
fn a_password_over_plain_smtp_is_refused_unless_tls_none_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |url: &str| {
        std::fs::write(
            d.join("pocket-dca.toml"),
            format!("[database]\npath = \"dca.sqlite3\"\n[email]\nfrom = \"dca@example.com\"\nsmtp_url = \"{url}\"\n"),
        )
        .unwrap()
    };
    write("smtp://alice@mail.example.com:587");
    for args in [&["config", "check"][..], &["serve"][..]] {
        let (code, _, err) = run(tool(d).args(args).env("SMTP_PASSWORD", "hunter2"));
        assert_ne!(code, 0, "{args:?}");
        assert!(
            err.contains("clear text") && err.contains("tls=required"),
            "{err}"
        );
        assert!(!err.contains("hunter2"));
    }
    for allowed in [
        "smtp://alice@mail.example.com:587?tls=required",
        "smtps://alice@mail.example.com:465",
        "smtp://alice@127.0.0.1:25?tls=none",
        "smtp://127.0.0.1:25",
    ] {
        write(allowed);
        let (code, out, err) = run(tool(d)
            .args(["config", "check"])
            .env("SMTP_PASSWORD", "hunter2"));
        assert_eq!(code, 0, "{allowed}: {out}{err}");
    }
}
