//! What the sandbox's chain servers (Electrum, Esplora) read of its chain:
//! the tip, headers, transactions, merkle proofs and address histories.
//! Lookups only; the chain is made in `ledger` and `chain`.

use bitcoin::hashes::{Hash, sha256};

use super::engine::Engine;
use super::error::Result;
use super::ledger;
use super::state::State;

/// The chain's tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    pub height: u32,
    pub hash: String,
    /// The 80-byte header, hex.
    pub header: String,
}

/// One transaction of an address's history, as Electrum lists it: the
/// height, 0 in the mempool, −1 in the mempool with an unconfirmed parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    pub txid: String,
    pub height: i64,
}

/// An unspent output of an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unspent {
    pub txid: String,
    pub vout: u32,
    pub height: u32,
    pub value: u64,
}

impl Engine {
    /// The state, with the chain's first blocks mined if there are none.
    fn chain_state(&self) -> Result<std::sync::MutexGuard<'_, State>> {
        let state = self.state();
        if state.tip()?.is_none() {
            let now = state.now()?;
            self.commit(state, |s| ledger::bootstrap(s, &self.treasury, now))?;
            return Ok(self.state());
        }
        Ok(state)
    }

    pub fn chain_tip(&self) -> Result<Tip> {
        let state = self.chain_state()?;
        let tip = state
            .tip()?
            .ok_or_else(|| super::error::ApiError::internal("no blocks"))?;
        Ok(Tip {
            height: tip.height,
            hash: tip.hash,
            header: tip.header,
        })
    }

    /// The header at `height`, hex.
    pub fn block_header(&self, height: u32) -> Result<Option<String>> {
        Ok(self.chain_state()?.block_at(height)?.map(|b| b.header))
    }

    /// The height and header (hex) of the block with this hash.
    pub fn block_by_hash(&self, hash: &str) -> Result<Option<(u32, String)>> {
        Ok(self
            .chain_state()?
            .block_by_hash(hash)?
            .map(|b| (b.height, b.header)))
    }

    /// The hash of the block at `height`.
    pub fn block_hash_at(&self, height: u32) -> Result<Option<String>> {
        Ok(self.chain_state()?.block_at(height)?.map(|b| b.hash))
    }

    /// A transaction's raw hex and the height of its block (`None` in the
    /// mempool); `None` when the chain does not know it.
    pub fn raw_transaction(&self, txid: &str) -> Result<Option<(String, Option<u32>)>> {
        Ok(self.chain_state()?.transaction_raw(txid)?)
    }

    /// The merkle branch of a confirmed transaction: its block's height,
    /// the branch (each hash written as a txid is) and its position.
    pub fn merkle_proof(&self, txid: &str) -> Result<Option<(u32, Vec<String>, usize)>> {
        let state = self.chain_state()?;
        let Some((_, Some(height))) = state.transaction_raw(txid)? else {
            return Ok(None);
        };
        let Some(block) = state.block_at(height)? else {
            return Ok(None);
        };
        Ok(ledger::merkle_branch(&block, txid).map(|(branch, pos)| (height, branch, pos)))
    }

    /// The transactions that pay or spend the script of `scripthash`:
    /// confirmed ones by height and position, then the mempool's.
    pub fn history(&self, scripthash: &str) -> Result<Vec<HistoryItem>> {
        let state = self.chain_state()?;
        let mut txids: Vec<String> = Vec::new();
        for output in state.outputs_to(scripthash)? {
            txids.push(output.txid);
            txids.extend(output.spent_by);
        }
        txids.sort();
        txids.dedup();
        let mut items = Vec::new();
        for txid in txids {
            let Some(height) = state.transaction_height(&txid)? else {
                continue;
            };
            let (key, height) = match height {
                Some(h) => {
                    let pos = state
                        .block_at(h)?
                        .and_then(|b| b.txids.iter().position(|t| *t == txid))
                        .unwrap_or(0);
                    ((0, i64::from(h), pos as i64), i64::from(h))
                }
                None => {
                    let seq = state.transaction_seq(&txid)?.unwrap_or(0);
                    let parent_unconfirmed = mempool_parent(&state, &txid)?;
                    ((1, 0, seq), if parent_unconfirmed { -1 } else { 0 })
                }
            };
            items.push((key, HistoryItem { txid, height }));
        }
        items.sort_by_key(|(key, _)| *key);
        Ok(items.into_iter().map(|(_, item)| item).collect())
    }

    /// Whether an output exists and, if spent, by which transaction (and
    /// input index).
    pub fn spent_by(&self, txid: &str, vout: u32) -> Result<Option<Option<(String, u32)>>> {
        let state = self.chain_state()?;
        let Some((raw, _)) = state.transaction_raw(txid)? else {
            return Ok(None);
        };
        let tx: bitcoin::Transaction = bitcoin::consensus::encode::deserialize_hex(&raw)
            .map_err(super::error::ApiError::internal)?;
        let Some(output) = tx.output.get(vout as usize) else {
            return Ok(None);
        };
        let scripthash = ledger::scripthash(&output.script_pubkey);
        let spender = state
            .outputs_to(&scripthash)?
            .into_iter()
            .find(|o| o.txid == txid && o.vout == vout)
            .and_then(|o| o.spent_by);
        let Some(spender) = spender else {
            return Ok(Some(None));
        };
        let vin = state
            .transaction_raw(&spender)?
            .and_then(|(raw, _)| {
                bitcoin::consensus::encode::deserialize_hex::<bitcoin::Transaction>(&raw).ok()
            })
            .and_then(|t| {
                t.input.iter().position(|i| {
                    i.previous_output.txid.to_string() == txid && i.previous_output.vout == vout
                })
            })
            .unwrap_or(0);
        Ok(Some(Some((spender, vin as u32))))
    }

    /// The unspent confirmed and mempool outputs of `scripthash`.
    pub fn unspent(&self, scripthash: &str) -> Result<Vec<Unspent>> {
        let state = self.chain_state()?;
        Ok(state
            .outputs_to(scripthash)?
            .into_iter()
            .filter(|o| o.spent_by.is_none())
            .map(|o| Unspent {
                txid: o.txid,
                vout: o.vout,
                height: o.height.unwrap_or(0),
                value: o.value,
            })
            .collect())
    }
}

/// Whether a mempool transaction spends an output of another one.
fn mempool_parent(state: &State, txid: &str) -> Result<bool> {
    let Some((raw, _)) = state.transaction_raw(txid)? else {
        return Ok(false);
    };
    let tx: bitcoin::Transaction = bitcoin::consensus::encode::deserialize_hex(&raw)
        .map_err(super::error::ApiError::internal)?;
    for input in &tx.input {
        if let Some(None) = state.transaction_height(&input.previous_output.txid.to_string())? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Electrum's status of an address: the SHA-256 of `txid:height:` for
/// each history item, hex; `None` for an address without history.
pub fn status_hash(history: &[HistoryItem]) -> Option<String> {
    if history.is_empty() {
        return None;
    }
    let joined: String = history
        .iter()
        .map(|item| format!("{}:{}:", item.txid, item.height))
        .collect();
    Some(hex::encode(
        sha256::Hash::hash(joined.as_bytes()).to_byte_array(),
    ))
}
