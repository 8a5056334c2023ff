//! Pocket's payouts on the sandbox's chain: the end-of-day batch (one
//! output per order, payout protection) as a real transaction, blocks that
//! confirm it, and corrections of a reported payout. The chain itself is in
//! `ledger`.

use serde::{Deserialize, Serialize};

use super::engine::Engine;
use super::error::{ApiError, Result};
use super::ledger;
use super::market::{self, Pending};
use super::state::StoredOrder;
use crate::pocket::{Btc, Exchange, ExchangeId, OrderId, Payout};
use crate::wallet::{PayoutKey, ScriptType};

/// What one payout batch did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchResult {
    pub txid: Option<String>,
    pub outputs: Vec<BatchOutput>,
    pub held: Vec<HeldPayout>,
    /// Lightning payouts completed (the node was paid).
    pub lightning: Vec<ExchangeId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchOutput {
    pub order_id: OrderId,
    pub vout: u32,
    pub address: String,
    pub derivation_path: Option<String>,
    pub value_sat: u64,
    pub exchange_ids: Vec<ExchangeId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeldPayout {
    pub order_id: OrderId,
    pub amount_sat: u64,
    pub exchange_ids: Vec<ExchangeId>,
}

/// One order's share of a batch, planned before the transaction exists.
struct Planned {
    order: StoredOrder,
    address: String,
    path: Option<String>,
    value: u64,
    exchanges: Vec<Exchange>,
    shares: Vec<(ExchangeId, Btc, Btc)>,
}

impl Engine {
    /// The end-of-day batch: one signed transaction in the mempool, one
    /// output per order; and the lightning payouts under way complete.
    pub fn run_payouts(&self) -> Result<BatchResult> {
        let state = self.state();
        let mut planned = Vec::new();
        let mut held = Vec::new();
        let mut lightning = Vec::new();
        for (order_id, exchanges) in state.pending_payouts()? {
            let order = state
                .order(&order_id)?
                .ok_or_else(|| ApiError::internal(format!("order {order_id} vanished")))?;
            if order.pays_over_lightning() {
                lightning.extend(super::lightning::complete(exchanges));
                continue;
            }
            match self.plan(&state, order, exchanges)? {
                Ok(plan) => planned.push(plan),
                Err(h) => held.push(h),
            }
        }
        let now = state.now()?;
        let (txid, outputs) = self.commit(state, |s| -> Result<_> {
            ledger::bootstrap(s, &self.treasury, now)?;
            let txid = self.pay_batch(s, &planned)?;
            let faults = self.faults_in(s)?;
            if let (true, Some(txid)) = (faults.hold_payouts, &txid) {
                // Signed and reported, never broadcast.
                s.remove_transaction(txid)?;
            }
            let event = self.payout_event(s)?;
            let mut outputs = Vec::new();
            for (vout, p) in planned.iter().enumerate() {
                let reported = vout as u32 + u32::from(faults.misreport_payouts);
                let output = Output {
                    txid: txid.as_deref().unwrap_or_default(),
                    vout: reported,
                    address: &p.address,
                    path: p.path.as_deref(),
                };
                s.update_order(&p.order)?;
                for exchange in output.pay(p.exchanges.clone(), p.shares.clone()) {
                    s.update_exchange(&exchange, false)?;
                    self.enqueue(s, &event, &exchange)?;
                }
                outputs.push(BatchOutput {
                    order_id: p.order.order.id.clone(),
                    vout: vout as u32,
                    address: p.address.clone(),
                    derivation_path: p.path.clone(),
                    value_sat: p.value,
                    exchange_ids: p.exchanges.iter().map(|e| e.id.clone()).collect(),
                });
            }
            for exchange in &lightning {
                s.update_exchange(exchange, false)?;
                self.enqueue(s, &event, exchange)?;
            }
            Ok((txid, outputs))
        })?;
        Ok(BatchResult {
            txid,
            outputs,
            held,
            lightning: lightning.into_iter().map(|e| e.id).collect(),
        })
    }

    /// An order's output in the batch, or why it is held (payout
    /// protection: the network fee would be too large a share).
    fn plan(
        &self,
        state: &super::state::State,
        mut order: StoredOrder,
        exchanges: Vec<Exchange>,
    ) -> Result<std::result::Result<Planned, HeldPayout>> {
        let pending: Vec<Pending> = exchanges
            .iter()
            .map(|e| Pending {
                exchange_id: e.id.clone(),
                amount: e.amount.unwrap_or_default(),
            })
            .collect();
        let Some(plan) = market::plan_output(
            &pending,
            self.options.payout_fee,
            self.options.payout_protection,
        ) else {
            return Ok(Err(HeldPayout {
                order_id: order.order.id.clone(),
                amount_sat: pending.iter().map(|p| p.amount.to_sat()).sum(),
                exchange_ids: exchanges.iter().map(|e| e.id.clone()).collect(),
            }));
        };
        let skip = self.faults_in(state)?.skip_addresses;
        order.next_index += skip.min(gap_limit(&order).saturating_sub(1));
        let (address, path) = self.next_address(&order)?;
        order.next_index += 1;
        Ok(Ok(Planned {
            order,
            address,
            path,
            value: plan.value.to_sat(),
            exchanges,
            shares: plan.shares,
        }))
    }

    /// The batch's transaction: the planned outputs in order, the network
    /// fee their shares paid. `None` when nothing is paid.
    fn pay_batch(
        &self,
        state: &super::state::State,
        planned: &[Planned],
    ) -> Result<Option<String>> {
        if planned.is_empty() {
            return Ok(None);
        }
        let outputs = planned
            .iter()
            .map(|p| {
                let address =
                    crate::wallet::parse_address(&p.address).map_err(ApiError::internal)?;
                Ok((address.script_pubkey(), p.value))
            })
            .collect::<Result<Vec<_>>>()?;
        let fee: u64 = planned
            .iter()
            .flat_map(|p| p.shares.iter().map(|(_, fee, _)| fee.to_sat()))
            .sum();
        Ok(Some(
            ledger::pay(state, &self.treasury, &outputs, fee)?.to_string(),
        ))
    }

    /// The address the order's next payout goes to, and its path (none for
    /// an order paid to one address).
    fn next_address(&self, order: &StoredOrder) -> Result<(String, Option<String>)> {
        let payout = &order.order.payout_method;
        if payout.extended_public_key.is_none() {
            let address = payout.bitcoin_address.clone().unwrap_or_default();
            return Ok((address, None));
        }
        let script_type: ScriptType = order.script_type.parse().map_err(ApiError::internal)?;
        let key = PayoutKey::parse(
            payout.extended_public_key.as_deref().unwrap_or_default(),
            Some(script_type),
            Some(self.options.network),
        )
        .map_err(ApiError::internal)?;
        let chain: Vec<u32> = if order.chain.is_empty() {
            Vec::new()
        } else {
            order
                .chain
                .split('/')
                .map(|s| s.parse().map_err(ApiError::internal))
                .collect::<Result<_>>()?
        };
        let derived = key
            .chain(&chain)
            .and_then(|c| c.address(order.next_index))
            .map_err(ApiError::internal)?;
        Ok((derived.address.to_string(), Some(derived.path.to_string())))
    }

    /// Mines `count` blocks on the sandbox's chain: the first takes every
    /// transaction of the mempool, and the payouts in it are reported
    /// confirmed at its height. The new tip's height, and those payouts.
    pub fn mine(&self, count: u64) -> Result<(u64, Vec<ExchangeId>)> {
        let state = self.state();
        let now = state.now()?;
        self.commit(state, |s| -> Result<_> {
            ledger::bootstrap(s, &self.treasury, now)?;
            let mut tip = 0;
            for _ in 0..count.max(1) {
                tip = ledger::mine_block(s, &self.treasury, now)?.height;
            }
            let event = self.payout_event(s)?;
            let mut confirmed = Vec::new();
            for mut exchange in s.unconfirmed_payouts()? {
                let Some(payout) = exchange.payout.as_mut() else {
                    continue;
                };
                let txid = payout.txid.clone().unwrap_or_default();
                let Some(Some(height)) = s.transaction_height(&txid)? else {
                    continue;
                };
                payout.confirmed = Some(true);
                payout.block_height = Some(u64::from(height));
                s.update_exchange(&exchange, false)?;
                self.enqueue(s, &event, &exchange)?;
                confirmed.push(exchange.id.clone());
            }
            Ok((u64::from(tip), confirmed))
        })
    }

    /// A payout transaction still in the mempool replaced by another paying
    /// the same outputs with a higher fee (RBF). Pocket's exchanges name the
    /// new txid (a GET shows it); with `report` it also sends them again,
    /// without it stays silent. The new txid.
    pub fn replace_payout(&self, txid: &str, report: bool) -> Result<String> {
        let state = self.state();
        self.commit(state, |s| -> Result<_> {
            let new = ledger::replace(s, &self.treasury, txid)?.to_string();
            let event = self.payout_event(s)?;
            for mut exchange in s.unconfirmed_payouts()? {
                let Some(payout) = exchange.payout.as_mut() else {
                    continue;
                };
                if payout.txid.as_deref() == Some(txid) {
                    payout.txid = Some(new.clone());
                    s.update_exchange(&exchange, false)?;
                    if report {
                        self.enqueue(s, &event, &exchange)?;
                    }
                }
            }
            Ok(new)
        })
    }

    /// A reorganisation of the last `depth` blocks: a longer chain without
    /// their transactions, which wait in the mempool again. The new tip.
    pub fn reorganise(&self, depth: u32) -> Result<u32> {
        let state = self.state();
        let now = state.now()?;
        self.commit(state, |s| -> Result<_> {
            ledger::bootstrap(s, &self.treasury, now)?;
            ledger::reorganise(s, &self.treasury, depth.max(1), now)
        })
    }

    /// Someone else pays `value` sat to `address` (in the mempool until the
    /// next block): coins the tool must find without any webhook.
    pub fn pay_outside(&self, address: &str, value: u64) -> Result<String> {
        let script = crate::wallet::parse_address(address)
            .ok()
            .filter(|a| a.as_unchecked().is_valid_for_network(self.options.network))
            .ok_or_else(|| ApiError::bad("invalid_address", format!("{address} (sandbox code)")))?
            .script_pubkey();
        let state = self.state();
        let now = state.now()?;
        self.commit(state, |s| -> Result<_> {
            ledger::bootstrap(s, &self.treasury, now)?;
            Ok(ledger::pay(s, &self.treasury, &[(script, value)], 500)?.to_string())
        })
    }

    /// The owner spends the payout output `txid:vout` (in the mempool until
    /// the next block): coins that left cold storage. The spending txid.
    pub fn spend_payout(&self, txid: &str, vout: u32) -> Result<String> {
        let txid: bitcoin::Txid = txid
            .parse()
            .map_err(|_| ApiError::bad("invalid_txid", format!("{txid} (sandbox code)")))?;
        let state = self.state();
        self.commit(state, |s| -> Result<_> {
            let outpoint = bitcoin::OutPoint::new(txid, vout);
            Ok(ledger::sweep(s, &self.treasury, outpoint, 500)?.to_string())
        })
    }

    /// Pocket corrects a payout (a replaced transaction, a block height):
    /// the settled exchange is sent again with the changed fields.
    pub fn correct_payout(&self, id: &str, correction: &Correction) -> Result<Exchange> {
        let state = self.state();
        let mut exchange = state
            .exchange(id)?
            .ok_or_else(|| ApiError::not_found(format!("exchange {id}")))?;
        let Some(payout) = exchange.payout.as_mut() else {
            return Err(ApiError::bad(
                "not_settled",
                "only a settled exchange has a payout to correct (sandbox code)",
            ));
        };
        if let Some(txid) = &correction.txid {
            payout.txid = Some(txid.clone());
        }
        if let Some(vout) = correction.outpoint {
            payout.outpoint = Some(vout);
        }
        if let Some(address) = &correction.bitcoin_address {
            payout.bitcoin_address = Some(address.clone());
        }
        if let Some(height) = correction.block_height {
            payout.block_height = Some(height);
        }
        if let Some(confirmed) = correction.confirmed {
            payout.confirmed = Some(confirmed);
        }
        self.commit(state, |s| {
            s.update_exchange(&exchange, false)?;
            let event = self.payout_event(s)?;
            self.enqueue(s, &event, &exchange)
        })?;
        Ok(exchange)
    }
}

/// One output of the batch, shared by an order's exchanges.
struct Output<'a> {
    txid: &'a str,
    vout: u32,
    address: &'a str,
    path: Option<&'a str>,
}

impl Output<'_> {
    /// The exchanges with their payouts: each its share of the output.
    fn pay(&self, exchanges: Vec<Exchange>, shares: Vec<(ExchangeId, Btc, Btc)>) -> Vec<Exchange> {
        exchanges
            .into_iter()
            .zip(shares)
            .map(|(mut exchange, (_, fee, amount))| {
                exchange.payout = Some(Payout {
                    kind: None,
                    status: None,
                    txid: Some(self.txid.to_string()),
                    outpoint: Some(self.vout),
                    bitcoin_address: Some(self.address.to_string()),
                    derivation_path: self.path.map(str::to_string),
                    block_height: None,
                    confirmed: Some(false),
                    fee: Some(fee),
                    amount: Some(amount),
                });
                exchange
            })
            .collect()
    }
}

/// What `POST /sandbox/exchanges/{id}/payout` changes in a settled payout.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    pub txid: Option<String>,
    pub outpoint: Option<u32>,
    pub bitcoin_address: Option<String>,
    pub block_height: Option<u64>,
    pub confirmed: Option<bool>,
}

/// The gap limit the order allows Pocket (its default when null).
fn gap_limit(order: &StoredOrder) -> u32 {
    order
        .order
        .payout_method
        .gap_limit
        .unwrap_or(crate::pocket::DEFAULT_GAP_LIMIT)
}
