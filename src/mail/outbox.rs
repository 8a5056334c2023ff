//! The outbox: each e-mail as an `.eml` file, named by time and subject,
//! written atomically and readable by its owner only.

use lettre::Message;

use super::error::Error;

/// A subject as a file name: its words (letters, digits, `.` and `-`)
/// joined by `-`, whole words only, at most `max` characters.
fn file_name_words(subject: &str, max: usize) -> String {
    let mut name = String::new();
    for word in subject.split_whitespace() {
        let word: String = word
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
            .collect();
        let word = word.trim_matches(['.', '-']);
        if word.is_empty() {
            continue;
        }
        let needed = word.chars().count() + usize::from(!name.is_empty());
        if name.chars().count() + needed > max {
            break;
        }
        if !name.is_empty() {
            name.push('-');
        }
        name.push_str(word);
    }
    name
}

/// Writes `message` as an `.eml` file, atomically (temporary file, then rename).
pub(super) fn write(dir: &std::path::Path, message: &Message) -> Result<String, Error> {
    let fail = |path: &std::path::Path, cause: std::io::Error| Error::Outbox {
        path: path.display().to_string(),
        cause: cause.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let subject = file_name_words(
        &message
            .headers()
            .get::<lettre::message::header::Subject>()
            .map(|s| s.as_ref().to_string())
            .unwrap_or_default(),
        60,
    );
    let name = format!(
        "{}-{}-{}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"),
        subject,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let path = dir.join(name);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(dir, e))?;
    std::io::Write::write_all(&mut tmp, &message.formatted()).map_err(|e| fail(&path, e))?;
    tmp.persist(&path).map_err(|e| fail(&path, e.error))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_names_end_at_a_word() {
        let cases = [
            (
                "Bitcoin purchase December 2026: transfer EUR 100.00, reference RF38 WPXF 5HWR EB",
                "Bitcoin-purchase-December-2026-transfer-EUR-100.00-reference",
            ),
            (
                "[pocket-dca] Critical: Bitcoin was paid to an address that is not yours",
                "pocket-dca-Critical-Bitcoin-was-paid-to-an-address-that-is",
            ),
            ("Über · café", "Über-café"),
            ("", ""),
        ];
        for (subject, expected) in cases {
            let name = file_name_words(subject, 60);
            assert_eq!(name, expected);
            assert!(name.chars().count() <= 60);
        }
    }
}
