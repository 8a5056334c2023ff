//! The binary itself: `init`, `config check`, `db status`, `derive`,
//! `verify-message` — output, exit codes and one-line errors.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;

const BIP84_ZPUB: &str = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const BIP84_DESCRIPTOR: &str = "wpkh([73c5da0a/84'/0'/0']xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V/0/*)";
const BIP84_TPUB: &str = "tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M";

/// The binary, run in `dir` with no config variables from the outer environment.
fn cmd(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("pocket-dca").unwrap();
    cmd.current_dir(dir)
        .env_remove("POCKET_DCA_CONFIG")
        .env_remove("POCKET_CLIENT_ID")
        .env_remove("POCKET_WEBHOOK_SECRET")
        .env_remove("SMTP_PASSWORD");
    cmd
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn derive_with_the_bip84_zpub_prints_the_published_first_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path())
        .args(["derive", BIP84_ZPUB])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[0], "0/0 bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    // The same account as a descriptor prints the same addresses.
    let out = cmd(dir.path())
        .args(["derive", BIP84_DESCRIPTOR])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), text);
}

#[test]
fn derive_json_reports_index_path_and_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path())
        .args([
            "derive", BIP84_ZPUB, "--path", "0/5", "--count", "2", "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["index"], 5);
    assert_eq!(rows[0]["path"], "0/5");
    assert_eq!(rows[1]["path"], "0/6");
    assert!(rows[0]["address"].as_str().unwrap().starts_with("bc1q"));
}

#[test]
fn derive_reads_the_key_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path())
        .args(["derive", "-", "--count", "1"])
        .write_stdin(format!("{BIP84_ZPUB}\n"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "0/0 bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu\n"
    );
}

#[test]
fn bad_keys_exit_non_zero_with_one_line_that_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi",
            "watch-only",
        ),
        (
            "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYt",
            "checksum",
        ),
        (
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
            "not an extended public key",
        ),
    ];
    for (key, expected) in cases {
        let out = cmd(dir.path()).args(["derive", key]).output().unwrap();
        assert!(!out.status.success());
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{err}"
        );
        assert!(stdout(&out).is_empty());
    }
    let out = cmd(dir.path())
        .args(["derive", BIP84_ZPUB, "--path", "0/1'"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("hardened"), "{}", stderr(&out));
}

#[test]
fn a_testnet_key_is_refused_on_a_mainnet_config_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let init = cmd(dir.path()).args(["init"]).output().unwrap();
    assert!(init.status.success(), "{}", stderr(&init));
    let out = cmd(dir.path())
        .args(["derive", BIP84_TPUB])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("test network") && err.contains("bitcoin"),
        "{err}"
    );
    // Without a config the key's own network is used.
    let other = tempfile::tempdir().unwrap();
    let out = cmd(other.path())
        .args([
            "derive",
            BIP84_TPUB,
            "--script-type",
            "p2wpkh",
            "--count",
            "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "0/0 tb1q6rz28mcfaxtmd6v789l9rrlrusdprr9pqcpvkl\n"
    );
}

#[test]
fn verify_message_exits_0_with_the_format_and_1_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "verify-message",
        "--address",
        "17wvJajWQjoVJuJe31tuiDs4MmVeBfSvGY",
        "--message",
        "I confirm my bitcoin wallet. [7v7t4Fmb]",
        "--signature",
        "IKiJsfsAta7Id7Seq+j8EEfpFUj2LCVDRjQ+ZC3/akv+VfUznwmq9mkxQtvqz8NTr0t6VnmTBcsEhHLMQYixHZM=",
    ];
    let out = cmd(dir.path()).args(args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("legacy"), "{}", stdout(&out));
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = cmd(dir.path()).args(&json_args).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["format"], "legacy");

    let mut wrong = args.to_vec();
    wrong[4] = "I confirm my bitcoin wallet. [7v7t4Fmc]";
    let out = cmd(dir.path()).args(&wrong).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Another token: the message comes first, and no stranger is named as
    // the signer (a wrong message recovers a random key).
    let said = stderr(&out);
    assert!(said.contains("exactly the one shown"), "{said}");
    assert!(
        said.contains("17wvJajWQjoVJuJe31tuiDs4MmVeBfSvGY"),
        "{said}"
    );
    assert!(!said.contains("signed by"), "{said}");
    // A trailing space is named as what differs.
    let mut spaced = args.to_vec();
    let with_space = format!("{} ", args[4]);
    spaced[4] = &with_space;
    let out = cmd(dir.path()).args(&spaced).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the message without the space at the end"),
        "{}",
        stderr(&out)
    );
    wrong.push("--json");
    let out = cmd(dir.path()).args(&wrong).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("exactly the one shown")
    );
}

#[test]
fn init_writes_a_config_that_checks_and_a_database_that_reports() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("etc/pocket.toml");
    let out = cmd(dir.path())
        .args([
            "--config",
            conf.to_str().unwrap(),
            "init",
            "--network",
            "signet",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(conf.exists());
    // The database lies next to the config, not in the working directory.
    assert!(dir.path().join("etc/pocket-dca.sqlite3").exists());
    // --config is valid after the subcommand as well.
    let out = cmd(dir.path())
        .args([
            "config",
            "check",
            "--json",
            "--config",
            conf.to_str().unwrap(),
        ])
        .env("POCKET_CLIENT_ID", "client-id-value")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("client-id-value"), "a secret was printed");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["settings"]["bitcoin.network"], "signet");
    assert_eq!(v["settings"]["pocket.client_id"], "*** ($POCKET_CLIENT_ID)");
    // $POCKET_DCA_CONFIG names the file too.
    let out = cmd(dir.path())
        .args(["db", "status", "--json"])
        .env("POCKET_DCA_CONFIG", &conf)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], v["latest_version"]);
    assert!(
        v["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["table"] == "orders")
    );
    // init again keeps the file.
    std::fs::write(&conf, "[bitcoin]\nnetwork = \"regtest\"\n").unwrap();
    let out = cmd(dir.path())
        .args(["--config", conf.to_str().unwrap(), "init"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "[bitcoin]\nnetwork = \"regtest\"\n"
    );
}

#[test]
fn config_check_names_unknown_and_invalid_keys() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("pocket-dca.toml");
    std::fs::write(&conf, "[bitcoin]\nnetwrok = \"bitcoin\"\n").unwrap();
    let out = cmd(dir.path()).args(["config", "check"]).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("netwrok"), "{}", stderr(&out));
    std::fs::write(
        &conf,
        "[reminders]\nhour = 25\ntimezone = \"Europe/Zurch\"\n",
    )
    .unwrap();
    let out = cmd(dir.path()).args(["config", "check"]).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("reminders.hour") && err.contains("reminders.timezone"),
        "{err}"
    );
    // A named config that does not exist is an error that says what to do.
    let out = cmd(dir.path())
        .args(["--config", "missing.toml", "db", "status"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pocket-dca init"), "{}", stderr(&out));
}

#[test]
fn every_command_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["init", "--help"],
        vec!["config", "check", "--help"],
        vec!["db", "status", "--help"],
        vec!["db", "backup", "--help"],
        vec!["derive", "--help"],
        vec!["verify-message", "--help"],
        vec!["order", "challenge", "--help"],
        vec!["order", "create", "--help"],
        vec!["order", "list", "--help"],
        vec!["order", "show", "--help"],
        vec!["order", "pause", "--help"],
        vec!["order", "set", "--help"],
        vec!["order", "import", "--help"],
        vec!["addresses", "--help"],
        vec!["serve", "--help"],
        vec!["sync", "--help"],
        vec!["exchange", "fetch", "--help"],
        vec!["exchanges", "--help"],
        vec!["alerts", "--help"],
        vec!["webhooks", "--help"],
        vec!["remind", "preview", "--help"],
        vec!["remind", "send", "--help"],
        vec!["remind", "list", "--help"],
        vec!["mail", "test", "--help"],
        vec!["export", "csv", "--help"],
        vec!["export", "labels", "--help"],
        vec!["hash-password", "--help"],
        vec!["completions", "--help"],
        vec!["demo", "--help"],
        vec!["sandbox", "--help"],
    ] {
        let out = cmd(dir.path()).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = stdout(&out);
        assert!(text.contains("Example"), "{args:?} has no example:\n{text}");
    }
}

#[test]
fn version_completions_and_hash_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path()).arg("--version").output().unwrap();
    assert_eq!(
        stdout(&out).trim(),
        format!("pocket-dca {}", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish"] {
        let out = cmd(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(
            stdout(&out).contains("pocket-dca") && stdout(&out).contains("order"),
            "{shell}"
        );
    }
    let out = cmd(dir.path())
        .arg("hash-password")
        .write_stdin("a long enough password\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let hash = stdout(&out).trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("a long enough password"));
    // The hash is what the config takes.
    let config = format!("[server]\ndashboard_password_hash = \"{hash}\"\n");
    pocket_dca::config::Config::parse(&config, dir.path(), &|_: &str| None).unwrap();
    let out = cmd(dir.path())
        .arg("hash-password")
        .write_stdin("short\n")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("shorter than 8"));
}

#[test]
fn db_backup_writes_a_consistent_copy() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path()).args(["init"]).output().unwrap();
    assert!(out.status.success());
    let copy = dir.path().join("backup.sqlite3");
    let out = cmd(dir.path())
        .args(["db", "backup", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let original = pocket_dca::store::Store::open(&dir.path().join("pocket-dca.sqlite3")).unwrap();
    let restored = pocket_dca::store::Store::open(&copy).unwrap();
    assert_eq!(
        restored.schema_version().unwrap(),
        original.schema_version().unwrap()
    );
    assert_eq!(
        restored.status().unwrap().tables.len(),
        original.status().unwrap().tables.len()
    );
    // An existing file is not overwritten.
    let out = cmd(dir.path())
        .args(["db", "backup", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("exists already"));
}

#[test]
fn usage_and_config_type_errors_are_one_line_naming_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path()).args(["init"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let create = |amount: &str| {
        cmd(dir.path())
            .args(["order", "create", "--key", BIP84_TPUB, "--currency", "eur"])
            .args(["--iban", "DE75512108001245126199", "--fee-rate", "0.015"])
            .args(["--amount", amount, "--day", "1", "--challenge", "c"])
            .args(["--signature", "s"])
            .output()
            .unwrap()
    };
    // A negative number is read as a value and refused as one.
    let out = create("-100");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("amount -100") && err.contains("must be positive"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let cases: [(&[&str], &str); 4] = [
        (&["derive", BIP84_ZPUB, "--count", "-3"], "'-3'"),
        (&["derive", BIP84_ZPUB, "--cont", "3"], "--count"),
        (&["order", "sett"], "'set'"),
        (&["exchange", "payout", "x"], "--invoice"),
    ];
    for (args, named) in cases {
        let out = cmd(dir.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(named), "{err}");
        assert!(err.contains("--help`"), "{err}");
    }

    // A value of the wrong type in the config names the key and the type.
    std::fs::write(
        dir.path().join("wrong.toml"),
        "[email]\nto = 42\n[reminders]\nhour = 8\n",
    )
    .unwrap();
    let out = cmd(dir.path())
        .args(["--config", "wrong.toml", "config", "check"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("[email] to must be a string or a list of strings") && err.contains("42"),
        "{err}"
    );
    assert!(!err.contains("variant"), "{err}");
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    for json in [false, true] {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("pocket-dca"));
        command
            .current_dir(dir.path())
            .env_remove("POCKET_DCA_CONFIG")
            .args(["derive", BIP84_TPUB, "--count", "5000"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if json {
            command.arg("--json");
        }
        let mut child = command.spawn().unwrap();
        let mut first = [0u8; 64];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reader is gone (like `| head -1`).
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.is_empty(), "json={json}: {err}");
        assert_eq!(out.status.code(), Some(141), "json={json}");
    }
}
