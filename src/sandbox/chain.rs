//! The blockchain as the sandbox plays it: the end-of-day payout batch (one
//! output per order, payout protection), and blocks that confirm payouts.

use serde::{Deserialize, Serialize};

use super::engine::Engine;
use super::error::{ApiError, Result};
use super::market::{self, Pending};
use super::state::StoredOrder;
use crate::pocket::{Btc, Exchange, ExchangeId, OrderId, Payout};
use crate::wallet::{PayoutKey, ScriptType};

const HEIGHT: &str = "block_height";
const FIRST_HEIGHT: u64 = 900_000;

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

impl Engine {
    /// The end-of-day batch: one transaction, one output per order; and
    /// the lightning payouts under way complete.
    pub fn run_payouts(&self) -> Result<BatchResult> {
        let state = self.state();
        let txid = crate::random::hex::<32>();
        let mut outputs = Vec::new();
        let mut held = Vec::new();
        let mut updates: Vec<(StoredOrder, Vec<Exchange>)> = Vec::new();
        let mut lightning = Vec::new();
        for (order_id, exchanges) in state.pending_payouts()? {
            let mut order = state
                .order(&order_id)?
                .ok_or_else(|| ApiError::internal(format!("order {order_id} vanished")))?;
            if order.pays_over_lightning() {
                lightning.extend(super::lightning::complete(exchanges));
                continue;
            }
            let pending: Vec<Pending> = exchanges
                .iter()
                .map(|e| Pending {
                    exchange_id: e.id.clone(),
                    amount: e.amount.unwrap_or_default(),
                })
                .collect();
            let total: u64 = pending.iter().map(|p| p.amount.to_sat()).sum();
            let ids: Vec<ExchangeId> = exchanges.iter().map(|e| e.id.clone()).collect();
            let Some(plan) = market::plan_output(
                &pending,
                self.options.payout_fee,
                self.options.payout_protection,
            ) else {
                held.push(HeldPayout {
                    order_id,
                    amount_sat: total,
                    exchange_ids: ids,
                });
                continue;
            };
            let skip = self.faults_in(&state)?.skip_addresses;
            order.next_index += skip.min(gap_limit(&order).saturating_sub(1));
            let (address, path) = self.next_address(&order)?;
            let vout = outputs.len() as u32;
            let output = Output {
                txid: &txid,
                vout,
                address: &address,
                path: path.as_deref(),
            };
            let paid = output.pay(exchanges, plan.shares);
            order.next_index += 1;
            outputs.push(BatchOutput {
                order_id,
                vout,
                address,
                derivation_path: path,
                value_sat: plan.value.to_sat(),
                exchange_ids: ids,
            });
            updates.push((order, paid));
        }
        self.commit(state, |s| {
            let event = self.payout_event(s)?;
            for (order, exchanges) in &updates {
                s.update_order(order)?;
                for exchange in exchanges {
                    s.update_exchange(exchange, false)?;
                    self.enqueue(s, &event, exchange)?;
                }
            }
            for exchange in &lightning {
                s.update_exchange(exchange, false)?;
                self.enqueue(s, &event, exchange)?;
            }
            Ok(())
        })?;
        Ok(BatchResult {
            txid: (!outputs.is_empty()).then_some(txid),
            outputs,
            held,
            lightning: lightning.into_iter().map(|e| e.id).collect(),
        })
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

    /// Mines `count` blocks: every unconfirmed payout confirms in the first.
    pub fn mine(&self, count: u64) -> Result<(u64, Vec<ExchangeId>)> {
        let state = self.state();
        let height: u64 = state.setting(HEIGHT)?.unwrap_or(FIRST_HEIGHT);
        let mut confirmed = Vec::new();
        let mut updated = Vec::new();
        for mut exchange in state.unconfirmed_payouts()? {
            if let Some(payout) = exchange.payout.as_mut() {
                payout.confirmed = Some(true);
                payout.block_height = Some(height + 1);
            }
            confirmed.push(exchange.id.clone());
            updated.push(exchange);
        }
        let new_height = height + count.max(1);
        self.commit(state, |s| {
            s.set_setting(HEIGHT, &new_height)?;
            let event = self.payout_event(s)?;
            for exchange in &updated {
                s.update_exchange(exchange, false)?;
                self.enqueue(s, &event, exchange)?;
            }
            Ok(())
        })?;
        Ok((new_height, confirmed))
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
