//! The layout rules of `../shared/ARCHITECTURE.md`, checked on the source
//! itself so that they hold after every change: no import cycle between the
//! files of `src/`, no private-key type in `wallet/`, SQL only in `store/`
//! and the sandbox's own state, rooms of at most 500 lines of non-test code,
//! functions of at most 80 lines and a thin `main.rs`.
//!
//! The files are read as text: a small scanner finds `use` declarations and
//! module paths (`crate::`, `super::`, `self::`, a declared child's
//! `child::`) and resolves each to the file of the module it names. Every
//! edge counts, a `mod.rs` re-exporting its child's item included: so the
//! files of a room never import through their own `mod.rs` (the room's front
//! door, for the other rooms); they name the sibling file.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

#[path = "layout/imports.rs"]
mod imports;
#[path = "layout/text.rs"]
mod text;

use imports::{cycles, edges, expand};
use text::{
    code_of, files, item_end, non_test_lines, read, strip_comments_and_strings, test_ranges,
};

#[test]
fn no_import_cycle_between_the_files_of_src() {
    let graph = edges();
    // The scanner sees the known edges (a broken scanner would find no cycle).
    assert!(
        graph["web/webhook.rs"]
            .iter()
            .any(|t| t.starts_with("deliveries/")),
        "the scanner lost the webhook handler's imports: {:?}",
        graph["web/webhook.rs"]
    );
    let found = cycles(&graph);
    assert!(found.is_empty(), "import cycles between files: {found:#?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph = BTreeMap::new();
    graph.insert("a.rs".to_string(), BTreeSet::from(["b.rs".to_string()]));
    graph.insert("b.rs".to_string(), BTreeSet::from(["c.rs".to_string()]));
    graph.insert("c.rs".to_string(), BTreeSet::from(["a.rs".to_string()]));
    graph.insert("d.rs".to_string(), BTreeSet::from(["a.rs".to_string()]));
    assert_eq!(cycles(&graph), vec![vec!["a.rs", "b.rs", "c.rs"]]);
    assert_eq!(
        expand("crate::a::{b, c::{d, e as f}, self}"),
        [
            "crate::a::b",
            "crate::a::c::d",
            "crate::a::c::e",
            "crate::a"
        ]
    );
}

#[test]
fn wallet_holds_no_private_key_type() {
    for file in files().iter().filter(|f| f.starts_with("wallet/")) {
        // `Error::PrivateKey` is the refusal of a private key, not one.
        let code = code_of(&read(file)).replace("Error::PrivateKey", "Error::");
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("PrivateKey {"))
            .collect::<Vec<_>>()
            .join("\n");
        for name in ["Xpriv", "PrivateKey", "SecretKey", "Keypair"] {
            let found = code
                .match_indices(name)
                .any(|(at, _)| !code[at + name.len()..].starts_with(|c: char| c.is_alphanumeric()));
            assert!(!found, "{file} uses {name}: wallet/ is watch-only");
        }
    }
}

#[test]
fn sql_lives_only_in_the_store_and_the_sandbox_state() {
    let keywords = [
        "SELECT ",
        "INSERT INTO",
        "UPDATE ",
        "DELETE FROM",
        "CREATE TABLE",
        "PRAGMA ",
    ];
    for file in files() {
        if file.starts_with("store/") || file.starts_with("sandbox/state/") {
            continue;
        }
        let raw = read(&file);
        let ranges = test_ranges(&strip_comments_and_strings(&raw));
        let text: String = raw
            .lines()
            .enumerate()
            .filter(|(i, _)| !ranges.iter().any(|(a, b)| a <= i && i <= b))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        for keyword in keywords {
            for line in text.lines().filter(|l| l.contains(keyword)) {
                let in_string = line.contains('"');
                assert!(!in_string, "{file} has SQL outside store/: {}", line.trim());
            }
        }
    }
}

#[test]
fn rooms_are_small_and_functions_short() {
    let mut problems = Vec::new();
    for file in files() {
        let code = code_of(&read(&file));
        let lines: Vec<&str> = code.lines().collect();
        let count = non_test_lines(&read(&file));
        if count > 500 {
            problems.push(format!(
                "{file}: {count} lines of non-test code (at most 500)"
            ));
        }
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let t = t.strip_prefix("pub ").unwrap_or(t);
            let t = t.strip_prefix("pub(crate) ").unwrap_or(t);
            let t = t.strip_prefix("pub(super) ").unwrap_or(t);
            let t = t.strip_prefix("async ").unwrap_or(t);
            let t = t.strip_prefix("const ").unwrap_or(t);
            if let Some(rest) = t.strip_prefix("fn ") {
                let end = item_end(&lines, i);
                let length = end - i + 1;
                if length > 80 {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    problems.push(format!("{file}: fn {name} has {length} lines (at most 80)"));
                }
            }
        }
    }
    let main = read("main.rs").lines().count();
    if main >= 40 {
        problems.push(format!("main.rs has {main} lines (under 40)"));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
