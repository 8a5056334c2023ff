//! Which file of `src/` names which: `use` declarations and module paths
//! resolved to the file of the module they name, and the cycles among them.

use std::collections::{BTreeMap, BTreeSet};

use super::text::{code_of, files, read};

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
pub fn expand(tree: &str) -> Vec<String> {
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
pub fn edges() -> BTreeMap<String, BTreeSet<String>> {
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
pub fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
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
