//! Where else a payout's address may come from: before an address is called
//! foreign, it is looked up at Pocket's `derivation_path`, on the key's
//! change chain and under the key's other script types, up to the search
//! limit. A hit says in words where it was found.

use super::error::Error;
use crate::orders::model::StoredOrder;
use crate::wallet::{KeyPath, PayoutKey, ScriptType};

/// Where an address derived from the order's key lies, when it is not on
/// the order's own chain and script type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Found {
    /// On the order's chain and script type (Pocket's `derivation_path`
    /// pointed beyond the search limit).
    OnChain { index: u32 },
    /// Elsewhere on the key, in words.
    Elsewhere(String),
}

/// The other chain of a receive/change pair: `0` ↔ `1` in the last step.
fn change_chain(chain: &[u32]) -> Option<Vec<u32>> {
    let (last, rest) = chain.split_last()?;
    let other = match last {
        0 => 1,
        1 => 0,
        _ => return None,
    };
    Some(rest.iter().copied().chain([other]).collect())
}

fn describe(order: &StoredOrder, script_type: ScriptType, path: &KeyPath) -> String {
    let change = path.chain().last() == Some(&1) && order.chain.last() == Some(&0);
    match (Some(script_type) == order.script_type, change) {
        (true, true) => format!("your change address {path}"),
        (true, false) => format!("your address at {path}"),
        (false, _) => format!(
            "the {} address of your key at {path}",
            script_type.as_str().to_ascii_uppercase()
        ),
    }
}

/// Looks `address` up on the order's key beyond its own receive chain.
pub(super) fn find_elsewhere(
    order: &StoredOrder,
    reported_path: Option<&str>,
    address: &str,
    limit: u32,
) -> Result<Option<Found>, Error> {
    let key = order.payout_key()?;
    let own = key.script_type();
    let types: Vec<ScriptType> = std::iter::once(own)
        .chain(ScriptType::ALL.into_iter().filter(|t| *t != own))
        .collect();
    if let Some(path) = reported_path.and_then(|p| p.trim().parse::<KeyPath>().ok()) {
        for t in &types {
            let typed = key.with_script_type(*t);
            let derived = typed.chain(path.chain())?.address(path.index())?;
            if derived.address.to_string() != address {
                continue;
            }
            if *t == own && path.chain() == order.chain.as_slice() {
                return Ok(Some(Found::OnChain {
                    index: path.index(),
                }));
            }
            return Ok(Some(Found::Elsewhere(describe(order, *t, &path))));
        }
    }
    let chains: Vec<Vec<u32>> = std::iter::once(order.chain.clone())
        .chain(change_chain(&order.chain))
        .collect();
    for t in &types {
        for chain in &chains {
            if *t == own && *chain == order.chain {
                continue; // searched by the window already
            }
            if let Some(index) = scan(&key.with_script_type(*t), chain, address, limit)? {
                let path = KeyPath::on_chain(chain, index);
                return Ok(Some(Found::Elsewhere(describe(order, *t, &path))));
            }
        }
    }
    Ok(None)
}

fn scan(key: &PayoutKey, chain: &[u32], address: &str, limit: u32) -> Result<Option<u32>, Error> {
    let chain = key.chain(chain)?;
    for index in 0..=limit {
        if chain.address(index)?.address.to_string() == *address {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_chain_flips_the_last_step() {
        assert_eq!(change_chain(&[0]), Some(vec![1]));
        assert_eq!(change_chain(&[7, 1]), Some(vec![7, 0]));
        assert_eq!(change_chain(&[2]), None);
        assert_eq!(change_chain(&[]), None);
    }
}
