//! Reading the files of `src/` as text: comments, strings and test items
//! taken out, so that only code is measured and scanned.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, as a path relative to `src/`.
pub fn files() -> Vec<String> {
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

pub fn read(file: &str) -> String {
    std::fs::read_to_string(src().join(file)).unwrap()
}

/// The text without comments, string literals or `#[cfg(test)]` items, so
/// that only code is measured and scanned.
pub fn code_of(text: &str) -> String {
    let no_comments = strip_comments_and_strings(text);
    strip_test_items(&no_comments)
}

pub fn strip_comments_and_strings(text: &str) -> String {
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
pub fn test_ranges(code: &str) -> Vec<(usize, usize)> {
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
pub fn non_test_lines(text: &str) -> usize {
    let ranges = test_ranges(&strip_comments_and_strings(text));
    let tests: usize = ranges.iter().map(|(a, b)| b - a + 1).sum();
    text.lines().count() - tests
}

/// The last line of the item starting at `start`: where its braces close,
/// or its `;` when it has none.
pub fn item_end(lines: &[&str], start: usize) -> usize {
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
