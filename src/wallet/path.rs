//! Relative, non-hardened derivation paths below an extended public key, as
//! Pocket's `derivation_path` spells them (`0/1`: chain 0, index 1).

use std::fmt;
use std::str::FromStr;

use bitcoin::bip32::ChildNumber;

use super::error::Error;

/// The first hardened child number; every step of a [`KeyPath`] is below it.
pub const HARDENED: u32 = 1 << 31;

/// A non-empty, non-hardened path from an extended key to one address:
/// the chain steps followed by the address index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyPath {
    chain: Vec<u32>,
    index: u32,
}

impl KeyPath {
    /// A path from chain steps and an index; each must be below 2^31.
    pub fn new(chain: Vec<u32>, index: u32) -> Result<KeyPath, Error> {
        let path = KeyPath { chain, index };
        if let Some(step) = path.steps().find(|s| *s >= HARDENED) {
            return Err(Error::HardenedStep {
                path: path.to_string(),
                step: format!("{}'", step - HARDENED),
            });
        }
        Ok(path)
    }

    /// A path on a chain already checked to be non-hardened (a parsed key's
    /// chain, or one read back from the database); an index of 2^31 or more
    /// is clamped below it.
    pub fn on_chain(chain: &[u32], index: u32) -> KeyPath {
        KeyPath {
            chain: chain.to_vec(),
            index: index.min(HARDENED - 1),
        }
    }

    /// The steps before the index (`[0]` for `0/5`, empty for `5`).
    pub fn chain(&self) -> &[u32] {
        &self.chain
    }

    /// The last step: the address index on its chain.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The same chain at another index.
    pub fn with_index(&self, index: u32) -> KeyPath {
        KeyPath {
            chain: self.chain.clone(),
            index,
        }
    }

    fn steps(&self) -> impl Iterator<Item = u32> + '_ {
        self.chain
            .iter()
            .copied()
            .chain(std::iter::once(self.index))
    }

    /// Formats a chain prefix the way paths are written (`0`, `1/2`, or empty).
    pub fn format_chain(chain: &[u32]) -> String {
        chain
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.chain {
            write!(f, "{step}/")?;
        }
        write!(f, "{}", self.index)
    }
}

impl serde::Serialize for KeyPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for KeyPath {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let invalid = |reason: &str| Error::InvalidPath {
            path: s.to_string(),
            reason: reason.to_string(),
        };
        if text.is_empty() {
            return Err(invalid("it is empty; write the chain and index, like 0/0"));
        }
        if text.starts_with('m') || text.starts_with('M') {
            return Err(invalid(
                "it starts at the master key; give the path below the extended key instead, like 0/5",
            ));
        }
        let mut steps = Vec::new();
        for part in text.split('/') {
            if part.is_empty() {
                return Err(invalid("it has an empty step; write steps like 0/5"));
            }
            if let Some(digits) = part
                .strip_suffix('\'')
                .or_else(|| part.strip_suffix('h'))
                .or_else(|| part.strip_suffix('H'))
                && !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(Error::HardenedStep {
                    path: s.to_string(),
                    step: part.to_string(),
                });
            }
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(&format!(
                    "step `{part}` is not a number; write steps like 0/5"
                )));
            }
            let value: u64 = part
                .parse()
                .map_err(|_| invalid(&format!("step `{part}` is too large")))?;
            if value >= u64::from(HARDENED) {
                return Err(invalid(&format!(
                    "step {part} is 2^31 or more, which is a hardened index"
                )));
            }
            // Checked just above: the value is below 2^31.
            steps.push(value as u32);
        }
        let index = steps.pop().ok_or_else(|| invalid("it has no steps"))?;
        Ok(KeyPath {
            chain: steps,
            index,
        })
    }
}

/// The child numbers of non-hardened chain steps.
pub(super) fn child_numbers(path: &[u32]) -> Result<Vec<ChildNumber>, Error> {
    path.iter()
        .map(|&i| {
            ChildNumber::from_normal_idx(i).map_err(|e| Error::Derivation {
                path: KeyPath::format_chain(path),
                reason: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chain_and_index() {
        let p: KeyPath = "0/5".parse().unwrap();
        assert_eq!(p.chain(), &[0]);
        assert_eq!(p.index(), 5);
        assert_eq!(p.to_string(), "0/5");
        let p: KeyPath = "7".parse().unwrap();
        assert!(p.chain().is_empty());
        assert_eq!(p.to_string(), "7");
        let p: KeyPath = "1/2/2147483647".parse().unwrap();
        assert_eq!(p.chain(), &[1, 2]);
        assert_eq!(p.index(), 2147483647);
    }

    #[test]
    fn refuses_hardened_and_malformed_paths() {
        for bad in ["0/5'", "0h/1", "44H/0"] {
            assert!(
                matches!(bad.parse::<KeyPath>(), Err(Error::HardenedStep { .. })),
                "{bad}"
            );
        }
        for bad in ["", "m/0/1", "0//1", "0/x", "0/2147483648", "/0", "0/", "-1"] {
            assert!(
                matches!(bad.parse::<KeyPath>(), Err(Error::InvalidPath { .. })),
                "{bad}"
            );
        }
    }
}
