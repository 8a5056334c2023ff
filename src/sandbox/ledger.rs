//! The blockchain as the sandbox plays it, for real: a treasury key that
//! mines regtest-difficulty blocks (BIP-34 height, witness commitment,
//! correct merkle roots, proof of work against the header's own target) and
//! pays Pocket's payout batches in signed P2WPKH transactions whose txids
//! are the hash of what they serialize to. The Electrum and Esplora servers
//! read it; `chain` decides what goes in it.

use bitcoin::blockdata::block::{Header, Version as BlockVersion};
use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::hashes::{Hash, sha256};
use bitcoin::opcodes::all::OP_RETURN;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::secp256k1::{Message, PublicKey, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, Block, BlockHash, CompactTarget, CompressedPublicKey, OutPoint, ScriptBuf, Sequence,
    Transaction, TxIn, TxMerkleNode, TxOut, Txid, Witness, absolute::LockTime,
};
use chrono::{DateTime, Utc};

use super::error::{ApiError, Result};
use super::state::State;
use super::state::ledger::StoredBlock;

/// A coinbase output can be spent this many blocks after its own.
pub const COINBASE_MATURITY: u32 = 100;
/// The block reward, the same at every height here.
const SUBSIDY: u64 = 50 * 100_000_000;
/// Regtest's target: a handful of hashes finds a block.
const BITS: u32 = 0x207f_ffff;

/// The key the sandbox mines to and pays out from.
pub(super) struct Treasury {
    secret: SecretKey,
    public: PublicKey,
}

impl Treasury {
    pub(super) fn new() -> Treasury {
        let seed = sha256::Hash::hash(b"pocket-dca sandbox treasury");
        // A constant: this hash is a valid key (checked by the tests).
        let secret = SecretKey::from_slice(seed.as_byte_array())
            .expect("the treasury seed is a valid secret key");
        let public = secret.public_key(&Secp256k1::signing_only());
        Treasury { secret, public }
    }

    pub(super) fn script(&self) -> ScriptBuf {
        ScriptBuf::new_p2wpkh(&CompressedPublicKey(self.public).wpubkey_hash())
    }

    /// Signs every input (each spends one of the treasury's P2WPKH outputs
    /// of the given values).
    fn sign(&self, tx: &mut Transaction, spent: &[u64]) -> Result<()> {
        let secp = Secp256k1::signing_only();
        let script = self.script();
        let mut cache = SighashCache::new(tx);
        for (i, value) in spent.iter().enumerate() {
            let sighash = cache
                .p2wpkh_signature_hash(i, &script, Amount::from_sat(*value), EcdsaSighashType::All)
                .map_err(ApiError::internal)?;
            let signature = bitcoin::ecdsa::Signature {
                signature: secp.sign_ecdsa(&Message::from(sighash), &self.secret),
                sighash_type: EcdsaSighashType::All,
            };
            *cache
                .witness_mut(i)
                .ok_or_else(|| ApiError::internal("no such input"))? =
                Witness::p2wpkh(&signature, &self.public);
        }
        Ok(())
    }
}

/// Mines the first blocks when the chain is empty: enough for one coinbase
/// to mature, so the first batch can be paid.
pub(super) fn bootstrap(state: &State, treasury: &Treasury, now: DateTime<Utc>) -> Result<()> {
    if state.tip()?.is_some() {
        return Ok(());
    }
    for _ in 0..=COINBASE_MATURITY {
        mine_block(state, treasury, now)?;
    }
    Ok(())
}

/// Mines one block on the tip: a coinbase to the treasury and every
/// transaction of the mempool.
pub(super) fn mine_block(
    state: &State,
    treasury: &Treasury,
    now: DateTime<Utc>,
) -> Result<StoredBlock> {
    mine(state, treasury, now, true)
}

/// Replaces the last `depth` blocks with `depth + 1` new ones (a longer
/// chain wins), empty but for their coinbases: what they held goes back to
/// the mempool. The new tip's height.
pub(super) fn reorganise(
    state: &State,
    treasury: &Treasury,
    depth: u32,
    now: DateTime<Utc>,
) -> Result<u32> {
    let tip = state
        .tip()?
        .ok_or_else(|| ApiError::internal("no blocks"))?;
    let fork = tip.height.saturating_sub(depth);
    state.remove_blocks_above(fork)?;
    let mut height = fork;
    for _ in 0..=depth {
        height = mine(state, treasury, now, false)?.height;
    }
    Ok(height)
}

fn mine(
    state: &State,
    treasury: &Treasury,
    now: DateTime<Utc>,
    with_mempool: bool,
) -> Result<StoredBlock> {
    let tip = state.tip()?;
    let height = tip.as_ref().map_or(0, |t| t.height + 1);
    let (prev, prev_time) = match &tip {
        Some(t) => {
            let header: Header = deserialize_hex(&t.header).map_err(ApiError::internal)?;
            (header.block_hash(), header.time)
        }
        None => (BlockHash::all_zeros(), 0),
    };
    let mut txdata = vec![coinbase(height, treasury)];
    let mempool = if with_mempool {
        state.mempool()?
    } else {
        Vec::new()
    };
    for (_, raw) in mempool {
        txdata.push(deserialize_hex::<Transaction>(&raw).map_err(ApiError::internal)?);
    }
    let fees = 0; // the treasury pays the network fee to itself
    txdata[0].output[0].value = Amount::from_sat(SUBSIDY + fees);
    let mut block = Block {
        header: Header {
            version: BlockVersion::from_consensus(0x2000_0000),
            prev_blockhash: prev,
            merkle_root: TxMerkleNode::all_zeros(),
            time: u32::try_from(now.timestamp())
                .unwrap_or(u32::MAX)
                .max(prev_time + 1),
            bits: CompactTarget::from_consensus(BITS),
            nonce: 0,
        },
        txdata,
    };
    commit_witnesses(&mut block)?;
    block.header.merkle_root = block
        .compute_merkle_root()
        .ok_or_else(|| ApiError::internal("a block without transactions"))?;
    while block.header.validate_pow(block.header.target()).is_err() {
        block.header.nonce += 1;
    }
    let stored = StoredBlock {
        height,
        hash: block.block_hash().to_string(),
        header: serialize_hex(&block.header),
        txids: block
            .txdata
            .iter()
            .map(|t| t.compute_txid().to_string())
            .collect(),
    };
    let coinbase = &block.txdata[0];
    insert(state, coinbase, Some(height))?;
    state.insert_block(&stored)?;
    Ok(stored)
}

/// The coinbase of `height`: BIP-34 height, one output to the treasury,
/// the witness reserved value (its commitment is added when the block's
/// transactions are known).
fn coinbase(height: u32, treasury: &Treasury) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: Builder::new()
                .push_int(i64::from(height))
                .push_slice(b"pocket-dca sandbox")
                .into_script(),
            sequence: Sequence::MAX,
            witness: Witness::from_slice(&[[0u8; 32]]),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(SUBSIDY),
            script_pubkey: treasury.script(),
        }],
    }
}

/// Adds the BIP-141 witness commitment to the coinbase.
fn commit_witnesses(block: &mut Block) -> Result<()> {
    let root = block
        .witness_root()
        .ok_or_else(|| ApiError::internal("a block without transactions"))?;
    let commitment = Block::compute_witness_commitment(&root, &[0u8; 32]);
    let mut data = PushBytesBuf::from([0xaa, 0x21, 0xa9, 0xed]);
    data.extend_from_slice(commitment.as_byte_array())
        .map_err(ApiError::internal)?;
    block.txdata[0].output.push(TxOut {
        value: Amount::ZERO,
        script_pubkey: Builder::new()
            .push_opcode(OP_RETURN)
            .push_slice(data)
            .into_script(),
    });
    Ok(())
}

/// A script's Electrum scripthash: its SHA-256, bytes reversed, hex.
pub fn scripthash(script: &bitcoin::Script) -> String {
    let mut hash = sha256::Hash::hash(script.as_bytes()).to_byte_array();
    hash.reverse();
    hex::encode(hash)
}

/// Stores a transaction with its outputs and the outputs it spends.
fn insert(state: &State, tx: &Transaction, height: Option<u32>) -> Result<()> {
    let outputs: Vec<(String, String, u64)> = tx
        .output
        .iter()
        .map(|o| {
            (
                o.script_pubkey.to_hex_string(),
                scripthash(&o.script_pubkey),
                o.value.to_sat(),
            )
        })
        .collect();
    let spends: Vec<(String, u32)> = tx
        .input
        .iter()
        .filter(|i| !i.previous_output.is_null())
        .map(|i| (i.previous_output.txid.to_string(), i.previous_output.vout))
        .collect();
    Ok(state.insert_transaction(
        &tx.compute_txid().to_string(),
        &serialize_hex(tx),
        height,
        &outputs,
        &spends,
    )?)
}

/// The treasury's outputs it may spend now: unspent, and a coinbase only
/// once mature. (value, outpoint)
fn spendable(state: &State, treasury: &Treasury) -> Result<Vec<(u64, OutPoint)>> {
    let tip = state.tip()?.map_or(0, |t| t.height);
    let mut out = Vec::new();
    for o in state.outputs_to(&scripthash(&treasury.script()))? {
        if o.spent_by.is_some() {
            continue;
        }
        let is_coinbase = match o.height {
            Some(h) => state
                .block_at(h)?
                .is_some_and(|b| b.txids.first() == Some(&o.txid)),
            None => false,
        };
        if is_coinbase && o.height.is_none_or(|h| tip < h + COINBASE_MATURITY) {
            continue;
        }
        let txid: Txid = o.txid.parse().map_err(ApiError::internal)?;
        out.push((o.value, OutPoint::new(txid, o.vout)));
    }
    Ok(out)
}

/// Pays `outputs` (in this order, so their indexes are the vouts Pocket
/// reports) with `fee` to the network, the change back to the treasury, in
/// a signed transaction put in the mempool. Its txid.
pub(super) fn pay(
    state: &State,
    treasury: &Treasury,
    outputs: &[(ScriptBuf, u64)],
    fee: u64,
) -> Result<Txid> {
    let needed: u64 = outputs.iter().map(|(_, v)| v).sum::<u64>() + fee;
    let mut coins = spendable(state, treasury)?;
    coins.sort_by_key(|(value, _)| std::cmp::Reverse(*value));
    let mut inputs = Vec::new();
    let mut total = 0;
    for (value, outpoint) in coins {
        if total >= needed {
            break;
        }
        total += value;
        inputs.push((value, outpoint));
    }
    if total < needed {
        return Err(ApiError::internal(format!(
            "the sandbox treasury has {total} sat to spend, {needed} needed; mine blocks first"
        )));
    }
    let mut tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: inputs
            .iter()
            .map(|(_, outpoint)| TxIn {
                previous_output: *outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs
            .iter()
            .map(|(script, value)| TxOut {
                value: Amount::from_sat(*value),
                script_pubkey: script.clone(),
            })
            .collect(),
    };
    tx.output.push(TxOut {
        value: Amount::from_sat(total - needed),
        script_pubkey: treasury.script(),
    });
    let spent: Vec<u64> = inputs.iter().map(|(v, _)| *v).collect();
    treasury.sign(&mut tx, &spent)?;
    insert(state, &tx, None)?;
    Ok(tx.compute_txid())
}

/// The owner of `outpoint` moves its whole value, less `fee`, to the
/// treasury (in the mempool): a wallet spending a payout. The sandbox holds
/// none of the owner's keys, so the input carries no signature; the chain
/// servers pass transactions on as they are. Its txid.
pub(super) fn sweep(
    state: &State,
    treasury: &Treasury,
    outpoint: OutPoint,
    fee: u64,
) -> Result<Txid> {
    let txid = outpoint.txid.to_string();
    let unknown = || ApiError::bad("unknown_output", format!("{outpoint} (sandbox code)"));
    let (raw, _) = state.transaction_raw(&txid)?.ok_or_else(unknown)?;
    let prev: Transaction = deserialize_hex(&raw).map_err(ApiError::internal)?;
    let output = prev
        .output
        .get(outpoint.vout as usize)
        .ok_or_else(unknown)?;
    let spent = state
        .outputs_to(&scripthash(&output.script_pubkey))?
        .into_iter()
        .any(|o| o.txid == txid && o.vout == outpoint.vout && o.spent_by.is_some());
    if spent {
        return Err(ApiError::bad(
            "already_spent",
            format!("{outpoint} is spent already (sandbox code)"),
        ));
    }
    let value = output
        .value
        .checked_sub(Amount::from_sat(fee))
        .ok_or_else(|| {
            ApiError::bad(
                "too_small",
                format!("{outpoint} cannot pay the fee of {fee} sat (sandbox code)"),
            )
        })?;
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: outpoint,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value,
            script_pubkey: treasury.script(),
        }],
    };
    insert(state, &tx, None)?;
    Ok(tx.compute_txid())
}

/// Replaces a mempool transaction of the treasury by one spending the same
/// inputs to the same outputs, its change 1,000 sat smaller (a higher fee):
/// what a wallet's fee bump does. The new txid.
pub(super) fn replace(state: &State, treasury: &Treasury, txid: &str) -> Result<Txid> {
    let (raw, height) = state
        .transaction_raw(txid)?
        .ok_or_else(|| ApiError::bad("unknown_transaction", format!("{txid} (sandbox code)")))?;
    if height.is_some() {
        return Err(ApiError::bad(
            "already_confirmed",
            format!("{txid} is in a block; only the mempool's can be replaced (sandbox code)"),
        ));
    }
    let mut tx: Transaction = deserialize_hex(&raw).map_err(ApiError::internal)?;
    let mut spent = Vec::new();
    for input in &tx.input {
        let (prev, _) = state
            .transaction_raw(&input.previous_output.txid.to_string())?
            .ok_or_else(|| ApiError::internal("an input's transaction vanished"))?;
        let prev: Transaction = deserialize_hex(&prev).map_err(ApiError::internal)?;
        let output = prev
            .output
            .get(input.previous_output.vout as usize)
            .ok_or_else(|| ApiError::internal("an input's output vanished"))?;
        spent.push(output.value.to_sat());
    }
    let change = tx
        .output
        .last_mut()
        .ok_or_else(|| ApiError::internal("a payout without outputs"))?;
    change.value = change
        .value
        .checked_sub(Amount::from_sat(1_000))
        .ok_or_else(|| ApiError::internal("no change to pay a higher fee"))?;
    for input in &mut tx.input {
        input.witness = Witness::new();
    }
    treasury.sign(&mut tx, &spent)?;
    state.remove_transaction(txid)?;
    insert(state, &tx, None)?;
    Ok(tx.compute_txid())
}

/// The merkle branch of `txid` in `block` (each hash as a txid is written)
/// and its position.
pub(super) fn merkle_branch(block: &StoredBlock, txid: &str) -> Option<(Vec<String>, usize)> {
    let pos = block.txids.iter().position(|t| t == txid)?;
    let mut level: Vec<[u8; 32]> = block
        .txids
        .iter()
        .map(|t| t.parse::<Txid>().map(|t| t.to_byte_array()))
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let mut branch = Vec::new();
    let mut index = pos;
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            let last = *level.last()?;
            level.push(last);
        }
        let sibling = level[index ^ 1];
        let mut shown = sibling;
        shown.reverse();
        branch.push(hex::encode(shown));
        level = level
            .chunks(2)
            .map(|pair| {
                let mut joined = [0u8; 64];
                joined[..32].copy_from_slice(&pair[0]);
                joined[32..].copy_from_slice(&pair[1]);
                bitcoin::hashes::sha256d::Hash::hash(&joined).to_byte_array()
            })
            .collect();
        index /= 2;
    }
    Some((branch, pos))
}
