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
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, as a path relative to `src/`.
fn files() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(base).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&src(), &src(), &mut out);
    out.sort();
    out
}

fn read(file: &str) -> String {
    std::fs::read_to_string(src().join(file)).unwrap()
}

/// The text without comments, string literals or `#[cfg(test)]` items, so
/// that only code is measured and scanned.
fn code_of(text: &str) -> String {
    let no_comments = strip_comments_and_strings(text);
    strip_test_items(&no_comments)
}

fn strip_comments_and_strings(text: &str) -> String {
    let bytes: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < bytes.len() && bytes[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == '*' && bytes[i + 1] == '/') {
                if bytes[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('#') || next == Some('"')) && is_raw_start(&bytes, i) {
            // r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while bytes.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            j += 1; // the quote
            out.push_str("\"\"");
            loop {
                if j >= bytes.len() {
                    break;
                }
                if bytes[j] == '"' && (0..hashes).all(|k| bytes.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                if bytes[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            i = j;
        } else if c == '"' {
            out.push_str("\"\"");
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    i += 1;
                }
                if bytes.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' && is_char_literal(&bytes, i) {
            let mut j = i + 1;
            if bytes[j] == '\\' {
                j += 1;
            }
            j += 1;
            while j < bytes.len() && bytes[j] != '\'' {
                j += 1;
            }
            out.push_str("' '");
            i = j + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_raw_start(bytes: &[char], i: usize) -> bool {
    let before = if i == 0 { ' ' } else { bytes[i - 1] };
    if before.is_alphanumeric() || before == '_' {
        return false;
    }
    let mut j = i + 1;
    while bytes.get(j) == Some(&'#') {
        j += 1;
    }
    bytes.get(j) == Some(&'"')
}

fn is_char_literal(bytes: &[char], i: usize) -> bool {
    // 'x' or '\n' or '\u{..}'; a lifetime ('a) has no closing quote nearby.
    match bytes.get(i + 1) {
        Some('\\') => true,
        Some(_) => bytes.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// The line ranges of `#[cfg(test)]` items in comment-free text.
fn test_ranges(code: &str) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_start().starts_with("#[cfg(test)]") {
            let end = item_end(&lines, i + 1);
            out.push((i, end));
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn strip_test_items(text: &str) -> String {
    let ranges = test_ranges(text);
    text.lines()
        .enumerate()
        .filter(|(i, _)| !ranges.iter().any(|(a, b)| a <= i && i <= b))
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Lines of a file outside its test items, comments and blank lines included.
fn non_test_lines(text: &str) -> usize {
    let ranges = test_ranges(&strip_comments_and_strings(text));
    let tests: usize = ranges.iter().map(|(a, b)| b - a + 1).sum();
    text.lines().count() - tests
}

/// The last line of the item starting at `start`: where its braces close,
/// or its `;` when it has none.
fn item_end(lines: &[&str], start: usize) -> usize {
    let mut depth = 0i64;
    let mut opened = false;
    for (j, line) in lines.iter().enumerate().skip(start) {
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        if opened && depth <= 0 {
            return j;
        }
        if !opened && line.trim_end().ends_with(';') {
            return j;
        }
    }
    lines.len().saturating_sub(1)
}

/// The module path of a file: `wallet/key.rs` → [wallet, key].
fn module_of(file: &str) -> Vec<String> {
    let trimmed = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = trimmed.split('/').map(str::to_string).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file that holds the deepest module named by a path.
fn resolve(path: &[String], modules: &BTreeMap<Vec<String>, String>) -> Option<String> {
    (0..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]).cloned())
}

/// Expands `a::{b, c::{d, e}}` into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or(tree).trim().to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in inner.chars() {
        match c {
            '{' => {
                depth += 1;
                current.push(c);
            }
            '}' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(&p))
        .map(|p| {
            if p == "self" {
                prefix.trim_end_matches("::").to_string()
            } else {
                format!("{prefix}{p}")
            }
        })
        .collect()
}

/// Turns a path as written in `file` into an absolute module path.
fn absolute(path: &str, scope: &[String]) -> Option<Vec<String>> {
    let segments: Vec<&str> = path.split("::").map(str::trim).collect();
    // The module whose scope the file's code is in.
    let mut base: Vec<String> = scope.to_vec();
    let mut rest = segments.as_slice();
    match rest.first().copied() {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first() == Some(&"super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    let mut out = base;
    out.extend(rest.iter().map(|s| s.to_string()));
    Some(out)
}

/// The files each file refers to.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let files = files();
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .filter(|f| *f != "main.rs")
        .map(|f| (module_of(f), f.clone()))
        .collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let code = code_of(&read(file));
        let me = module_of(file);
        let inline = inline_modules(&code);
        // (where, path) of every module path the code names.
        let mut paths: Vec<(usize, String)> = Vec::new();
        let mut from = 0;
        while let Some(at) = find_use(&code[from..]).map(|at| from + at) {
            let end = code[at..].find(';').map_or(code.len(), |e| at + e);
            let decl = code[at..end].trim_start_matches("use").trim();
            paths.extend(expand(decl).into_iter().map(|p| (at, p)));
            from = end;
        }
        // Declared children (`mod x;`), reached as `x::item`.
        let children: BTreeSet<String> = code
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let l = l.strip_prefix("pub ").unwrap_or(l);
                let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
                l.strip_prefix("mod ")
                    .filter(|m| m.ends_with(';'))
                    .map(|m| m.trim_end_matches(';').trim().to_string())
            })
            .collect();
        let starts: Vec<String> = ["crate", "super", "self"]
            .into_iter()
            .map(str::to_string)
            .chain(children.iter().cloned())
            .collect();
        for start in &starts {
            let needle = format!("{start}::");
            let mut from = 0;
            while let Some(at) = code[from..].find(&needle).map(|p| from + p) {
                let before = code[..at].chars().last().unwrap_or(' ');
                if !(before.is_alphanumeric() || before == '_' || before == ':') {
                    let path: String = code[at..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    paths.push((at, path.trim_end_matches(':').to_string()));
                }
                from = at + needle.len();
            }
        }
        let mut targets = BTreeSet::new();
        for (at, path) in paths {
            // The module the code at `at` is in: the file's, plus inline `mod x { … }`.
            let mut scope = me.clone();
            scope.extend(
                inline
                    .iter()
                    .filter(|(start, end, _)| *start <= at && at < *end)
                    .map(|(_, _, name)| name.clone()),
            );
            let first = path.split("::").next().unwrap_or("");
            let module = if children.contains(first) {
                let mut m = me.clone();
                m.extend(path.split("::").map(|s| s.trim().to_string()));
                Some(m)
            } else {
                absolute(&path, &scope)
            };
            let Some(module) = module else { continue };
            let Some(target) = resolve(&module, &modules) else {
                continue;
            };
            if target != *file {
                targets.insert(target);
            }
        }
        graph.insert(file.clone(), targets);
    }
    graph
}

/// Inline modules (`mod x { … }`): their extent and name, outermost first.
fn inline_modules(code: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("mod ").map(|p| from + p) {
        from = at + 4;
        let before = code[..at].chars().last().unwrap_or(' ');
        if before.is_alphanumeric() || before == '_' {
            continue;
        }
        let rest = &code[at + 4..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after = rest[name.len()..].trim_start();
        if name.is_empty() || !after.starts_with('{') {
            continue;
        }
        let open = at + 4 + rest.find('{').unwrap_or(0);
        let mut depth = 0;
        let mut end = code.len();
        for (i, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((open, end, name));
    }
    out
}

fn find_use(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = text[from..].find("use ") {
        let at = from + pos;
        let before = text[..at].chars().last().unwrap_or('\n');
        if before == '\n' || before == ' ' || before == '{' || before == ';' {
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let lead = text[line_start..at].trim();
            if lead.is_empty() || lead == "pub" || lead.starts_with("pub(") {
                return Some(at);
            }
        }
        from = at + 4;
    }
    None
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

#[test]
fn no_import_cycle_between_the_files_of_src() {
    let graph = edges();
    // The scanner sees the known edges (a broken scanner would find no cycle).
    assert!(
        std::env::var("X").is_ok()
            || graph["web/webhook.rs"]
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
