//! TOML errors in words: the key and its table, what the value must be, and
//! the line — never "data did not match any variant".

/// One line saying what is wrong in `text`, from the TOML parser's error.
pub(super) fn explain(text: &str, err: &toml::de::Error) -> String {
    let message = reword(err.message());
    let Some(span) = err.span() else {
        return message;
    };
    let start = span.start.min(text.len());
    let line_number = text[..start].matches('\n').count() + 1;
    let line = text.lines().nth(line_number - 1).unwrap_or_default().trim();
    let table = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|t| format!("{t} "))
        .unwrap_or_default();
    match line.split_once('=') {
        Some((key, _)) if message.starts_with("must be") => {
            format!(
                "{table}{} {message} (line {line_number}: `{line}`)",
                key.trim()
            )
        }
        _ => format!("{message} (line {line_number}: `{line}`)"),
    }
}

/// "invalid type: integer `42`, expected a string" → "must be a string, not
/// the integer 42".
fn reword(message: &str) -> String {
    let message = message.trim();
    let Some(rest) = message.strip_prefix("invalid type: ") else {
        return message.replace("unknown field", "unknown key");
    };
    let (found, expected) = rest
        .split_once(", expected ")
        .unwrap_or((rest, "another type"));
    format!(
        "must be {}, not {}",
        expected_in_words(expected),
        found_in_words(found)
    )
}

fn expected_in_words(expected: &str) -> String {
    match expected.trim() {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "an integer" => {
            "a whole number".into()
        }
        "a boolean" => "true or false".into(),
        "a sequence" => "a list".into(),
        other => other.to_string(),
    }
}

fn found_in_words(found: &str) -> String {
    let found = found.replace('`', "");
    match found.split_once(' ') {
        Some(("integer" | "float" | "boolean", value)) => {
            format!(
                "the {} {value}",
                found.split(' ').next().unwrap_or_default()
            )
        }
        Some(("string", value)) => format!("the text {value}"),
        _ => format!("a {found}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Raw {
        email: Option<Email>,
        reminders: Option<Reminders>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Email {
        to: Option<super::super::raw::OneOrMany>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Reminders {
        hour: Option<u32>,
        enabled: Option<bool>,
    }

    #[test]
    fn type_errors_name_the_key_its_table_and_the_type_expected() {
        let cases = [
            (
                "[email]\nto = 42\n",
                "[email] to must be a string or a list of strings (line 2: `to = 42`)",
            ),
            (
                "[reminders]\nhour = \"x\"\n",
                "[reminders] hour must be a whole number, not the text \"x\" (line 2: `hour = \"x\"`)",
            ),
            (
                "[reminders]\nenabled = 1\n",
                "[reminders] enabled must be true or false, not the integer 1 (line 2: `enabled = 1`)",
            ),
        ];
        for (text, expected) in cases {
            let err = toml::from_str::<Raw>(text).unwrap_err();
            assert_eq!(explain(text, &err), expected);
        }
        let broken = "[email\nto = 1\n";
        let err = toml::from_str::<Raw>(broken).unwrap_err();
        let said = explain(broken, &err);
        assert!(said.contains("line 1") && !said.contains('\n'), "{said}");
    }
}
