//! The chain servers, through BDK's client crates: the user's Electrum
//! server (`electrum-client`) or an Esplora API (`esplora-client`). They
//! answer what a payout's transaction pays and which block holds it; the
//! block's inclusion proof and proof of work are checked here (`proof`)
//! before anything is believed. Blocking calls: run them off the async
//! runtime.

use std::collections::HashMap;
use std::time::Duration;

use bitcoin::block::Header;
use bitcoin::consensus::encode::deserialize;
use bitcoin::hashes::Hash;
use bitcoin::{ScriptBuf, Transaction, Txid};
use electrum_client::{ConfigBuilder, ElectrumApi, Socks5Config};

use super::error::Error;
use super::proof;
use crate::config::{ChainBackend, ChainConfig};

/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What the chain shows of one transaction, its proofs checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxFacts {
    /// (script hex, value) per output.
    pub outputs: Vec<(String, u64)>,
    /// The outpoints it spends.
    pub inputs: Vec<bitcoin::OutPoint>,
    /// The block holding it: height and header.
    pub block: Option<(u32, Header)>,
}

/// A connected chain server.
pub enum Backend {
    Electrum(Box<electrum_client::Client>),
    Esplora(Box<esplora_client::BlockingClient>),
}

impl Backend {
    /// Connects to the configured server.
    pub fn connect(config: &ChainConfig) -> Result<Backend, Error> {
        let url = config.url.as_ref().ok_or(Error::NotConfigured)?;
        crate::pocket::install_crypto_provider();
        match config.backend {
            ChainBackend::None => Err(Error::NotConfigured),
            ChainBackend::Electrum => {
                let address = format!(
                    "{}://{}:{}",
                    url.scheme(),
                    url.host_str().unwrap_or_default(),
                    url.port().unwrap_or(50001)
                );
                let settings = ConfigBuilder::new()
                    .timeout(Some(TIMEOUT))
                    .retry(1)
                    .socks5(config.proxy.as_ref().map(|p| Socks5Config::new(p.clone())))
                    .build();
                let client = electrum_client::Client::from_config(&address, settings)
                    .map_err(|e| Error::Connect(url.to_string(), e.to_string()))?;
                Ok(Backend::Electrum(Box::new(client)))
            }
            ChainBackend::Esplora => {
                let mut builder = esplora_client::Builder::new(url.as_str().trim_end_matches('/'))
                    .timeout(TIMEOUT);
                if let Some(proxy) = &config.proxy {
                    builder = builder.proxy(&format!("socks5h://{proxy}"));
                }
                Ok(Backend::Esplora(Box::new(builder.build_blocking())))
            }
        }
    }

    /// What the server says it is.
    pub fn server(&self) -> Result<String, Error> {
        match self {
            Backend::Electrum(client) => {
                let features = client.server_features().map_err(electrum)?;
                Ok(format!(
                    "{} (protocol {})",
                    features.server_version, features.protocol_max
                ))
            }
            Backend::Esplora(_) => Ok("esplora".into()),
        }
    }

    /// The tip's height and header (its work checked).
    pub fn tip(&self) -> Result<(u32, Header), Error> {
        let (height, header) = match self {
            Backend::Electrum(client) => {
                let tip = client.block_headers_subscribe().map_err(electrum)?;
                (tip.height as u32, tip.header)
            }
            Backend::Esplora(client) => {
                let height = client.get_height().map_err(esplora)?;
                let hash = client.get_tip_hash().map_err(esplora)?;
                (height, client.get_header_by_hash(&hash).map_err(esplora)?)
            }
        };
        proof::check_work(&header)?;
        Ok((height, header))
    }

    /// The facts of each transaction (`None`: the server does not know
    /// it), looked up with the script each is expected to pay.
    pub fn transactions(
        &self,
        wanted: &[(Txid, ScriptBuf)],
    ) -> Result<Vec<Option<TxFacts>>, Error> {
        match self {
            Backend::Electrum(client) => electrum_facts(client, wanted),
            Backend::Esplora(client) => wanted
                .iter()
                .map(|(txid, _)| esplora_facts(client, txid))
                .collect(),
        }
    }
}

impl Backend {
    /// Each script's history (paying it or spending from it), as txid and
    /// height (0 in the mempool): one batch for Electrum, a request per
    /// script (and page) for Esplora.
    pub fn histories(&self, scripts: &[ScriptBuf]) -> Result<Vec<Vec<(Txid, i64)>>, Error> {
        match self {
            Backend::Electrum(client) => {
                let mut out = Vec::with_capacity(scripts.len());
                for chunk in scripts.chunks(HISTORY_BATCH) {
                    let refs: Vec<&bitcoin::Script> = chunk.iter().map(|s| s.as_script()).collect();
                    let histories = client.batch_script_get_history(refs).map_err(electrum)?;
                    out.extend(histories.into_iter().map(|h| {
                        h.into_iter()
                            .map(|item| (item.tx_hash, i64::from(item.height)))
                            .collect()
                    }));
                }
                Ok(out)
            }
            Backend::Esplora(client) => scripts
                .iter()
                .map(|script| esplora_history(client, script))
                .collect(),
        }
    }

    /// The transactions themselves (those the server knows).
    pub fn raw_transactions(&self, txids: &[Txid]) -> Result<HashMap<Txid, Transaction>, Error> {
        let mut out = HashMap::new();
        match self {
            Backend::Electrum(client) => {
                for chunk in txids.chunks(HISTORY_BATCH) {
                    let txs = client.batch_transaction_get(chunk).map_err(electrum)?;
                    out.extend(txs.into_iter().map(|tx| (tx.compute_txid(), tx)));
                }
            }
            Backend::Esplora(client) => {
                for txid in txids {
                    if let Some(tx) = client.get_tx(txid).map_err(esplora)? {
                        out.insert(*txid, tx);
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Backend {
    /// The transaction that spends `outpoint`, if the server knows one.
    /// Esplora answers directly; over Electrum the spent output's script
    /// history is searched.
    pub fn spender(
        &self,
        outpoint: bitcoin::OutPoint,
    ) -> Result<Option<(Txid, Transaction)>, Error> {
        match self {
            Backend::Electrum(client) => {
                let Ok(prev) = client.transaction_get(&outpoint.txid) else {
                    return Ok(None);
                };
                let Some(spent) = prev.output.get(outpoint.vout as usize) else {
                    return Ok(None);
                };
                let output = [(outpoint, spent.script_pubkey.clone())];
                Ok(self.spenders(&output)?.pop().flatten())
            }
            Backend::Esplora(client) => {
                let status = client
                    .get_output_status(&outpoint.txid, u64::from(outpoint.vout))
                    .map_err(esplora)?;
                let Some(txid) = status.and_then(|s| s.txid) else {
                    return Ok(None);
                };
                Ok(client.get_tx(&txid).map_err(esplora)?.map(|tx| (txid, tx)))
            }
        }
    }
}

impl Backend {
    /// For each output (with the script it pays), the transaction that
    /// spends it, if the server knows one. Electrum: one batch of histories
    /// for all, and the transactions of only those whose history holds more
    /// than the output's own; Esplora: a request per output.
    pub fn spenders(
        &self,
        outputs: &[(bitcoin::OutPoint, ScriptBuf)],
    ) -> Result<Vec<Option<(Txid, Transaction)>>, Error> {
        if let Backend::Esplora(_) = self {
            return outputs
                .iter()
                .map(|(outpoint, _)| self.spender(*outpoint))
                .collect();
        }
        let scripts: Vec<ScriptBuf> = outputs.iter().map(|(_, s)| s.clone()).collect();
        let histories = self.histories(&scripts)?;
        let others: Vec<Txid> = outputs
            .iter()
            .zip(&histories)
            .flat_map(|((outpoint, _), h)| {
                h.iter()
                    .map(|(t, _)| *t)
                    .filter(move |t| *t != outpoint.txid)
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let txs = self.raw_transactions(&others)?;
        Ok(outputs
            .iter()
            .zip(&histories)
            .map(|((outpoint, _), history)| {
                history.iter().find_map(|(t, _)| {
                    let tx = txs.get(t)?;
                    let spends = tx.input.iter().any(|i| i.previous_output == *outpoint);
                    spends.then(|| (*t, tx.clone()))
                })
            })
            .collect())
    }
}

/// Scripts (or transactions) per Electrum batch.
const HISTORY_BATCH: usize = 500;

/// An address's history from Esplora: the mempool's transactions and every
/// page of the confirmed ones (25 a page, the next asked from the last).
fn esplora_history(
    client: &esplora_client::BlockingClient,
    script: &ScriptBuf,
) -> Result<Vec<(Txid, i64)>, Error> {
    let mut txids: Vec<(Txid, i64)> = Vec::new();
    let mut after = None;
    loop {
        let page = client.get_scripthash_txs(script, after).map_err(esplora)?;
        let confirmed: Vec<Txid> = page
            .iter()
            .filter(|tx| tx.status.confirmed)
            .map(|tx| tx.txid)
            .collect();
        let new: Vec<(Txid, i64)> = page
            .iter()
            .filter(|tx| !txids.iter().any(|(t, _)| *t == tx.txid))
            .map(|tx| (tx.txid, tx.status.block_height.map_or(0, i64::from)))
            .collect();
        txids.extend(new);
        match confirmed.last() {
            Some(last) if confirmed.len() >= 25 => after = Some(*last),
            _ => return Ok(txids),
        }
    }
}

fn electrum(e: electrum_client::Error) -> Error {
    Error::Server(e.to_string())
}

fn esplora(e: esplora_client::Error) -> Error {
    Error::Server(e.to_string())
}

fn outputs_of(tx: &Transaction) -> Vec<(String, u64)> {
    tx.output
        .iter()
        .map(|o| (o.script_pubkey.to_hex_string(), o.value.to_sat()))
        .collect()
}

/// Electrum: the heights from the scripts' histories (one batch), the
/// transactions (one batch, else one by one: a batch fails as a whole on
/// an unknown txid), then the merkle proofs and headers of the confirmed.
fn electrum_facts(
    client: &electrum_client::Client,
    wanted: &[(Txid, ScriptBuf)],
) -> Result<Vec<Option<TxFacts>>, Error> {
    let scripts: Vec<&bitcoin::Script> = wanted.iter().map(|(_, s)| s.as_script()).collect();
    let histories = client.batch_script_get_history(scripts).map_err(electrum)?;
    let mut heights: HashMap<Txid, i32> = HashMap::new();
    for item in histories.into_iter().flatten() {
        heights.insert(item.tx_hash, item.height);
    }
    let txids: Vec<Txid> = wanted.iter().map(|(t, _)| *t).collect();
    let transactions: Vec<Option<Transaction>> = match client.batch_transaction_get(&txids) {
        Ok(all) => all.into_iter().map(Some).collect(),
        Err(_) => txids
            .iter()
            .map(|t| client.transaction_get(t).ok())
            .collect(),
    };
    let mut facts = Vec::with_capacity(wanted.len());
    for (txid, tx) in txids.iter().zip(transactions) {
        let Some(tx) = tx.filter(|tx| tx.compute_txid() == *txid) else {
            facts.push(None);
            continue;
        };
        let block = match heights.get(txid).copied().filter(|h| *h > 0) {
            Some(height) => Some(electrum_block(client, *txid, height as u32)?),
            None => None,
        };
        facts.push(Some(TxFacts {
            outputs: outputs_of(&tx),
            inputs: tx.input.iter().map(|i| i.previous_output).collect(),
            block,
        }));
    }
    Ok(facts)
}

/// The block of a confirmed transaction, its inclusion and work checked.
fn electrum_block(
    client: &electrum_client::Client,
    txid: Txid,
    height: u32,
) -> Result<(u32, Header), Error> {
    let merkle = client
        .transaction_get_merkle(&txid, height as usize)
        .map_err(electrum)?;
    let height = merkle.block_height as u32;
    let raw = client.block_header_raw(height as usize).map_err(electrum)?;
    let header: Header = deserialize(&raw).map_err(|_| proof::ProofError::Header { height })?;
    proof::check_work(&header)?;
    proof::check_inclusion(&header, txid, &merkle.merkle, merkle.pos)?;
    Ok((height, header))
}

/// Esplora: the transaction, its status, and for a confirmed one the
/// merkle proof and the header.
fn esplora_facts(
    client: &esplora_client::BlockingClient,
    txid: &Txid,
) -> Result<Option<TxFacts>, Error> {
    let Some(tx) = client.get_tx(txid).map_err(esplora)? else {
        return Ok(None);
    };
    let status = client.get_tx_status(txid).map_err(esplora)?;
    let block = match (status.confirmed, status.block_hash) {
        (true, Some(hash)) => {
            let header = client.get_header_by_hash(&hash).map_err(esplora)?;
            let merkle = client
                .get_merkle_proof(txid)
                .map_err(esplora)?
                .ok_or_else(|| Error::Server(format!("no merkle proof for {txid}")))?;
            let branch: Vec<[u8; 32]> = merkle
                .merkle
                .iter()
                .map(|h| {
                    let mut bytes = h.to_byte_array();
                    bytes.reverse();
                    bytes
                })
                .collect();
            proof::check_work(&header)?;
            proof::check_inclusion(&header, *txid, &branch, merkle.pos)?;
            Some((merkle.block_height, header))
        }
        _ => None,
    };
    Ok(Some(TxFacts {
        outputs: outputs_of(&tx),
        inputs: tx.input.iter().map(|i| i.previous_output).collect(),
        block,
    }))
}
