//! Scanning address windows on the chain: 10 orders × 100 addresses against
//! the sandbox's Electrum server on loopback (a dozen used addresses per
//! order), next to the protocol's floor — one bare batched
//! `blockchain.scripthash.get_history` of the same 1,000 scripthashes in the
//! same run. Reports the requests the server answered (electrum-client
//! pipelines a batch as one request per line: a batch is one round trip)
//! and the median time of five runs each. Then `[chain] alert_on_spend`'s
//! check of the 120 paid outputs (one per order spent): batched, and asked
//! one output at a time.
//!
//! Run with `cargo bench --bench chain_scan`.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use bitcoin::OutPoint;
use chrono::Utc;
use electrum_client::ElectrumApi;
use pocket_dca::chain::{self, Backend};
use pocket_dca::config::{ChainBackend, ChainConfig};
use pocket_dca::orders::model::{Day, PayoutKind, StoredOrder};
use pocket_dca::pocket::{Currency, OrderId, PaymentMethod};
use pocket_dca::sandbox::{self, Options, wallet::HotWallet};
use pocket_dca::store::Store;
use pocket_dca::wallet::{Network, PayoutKey, ScriptType};

const ORDERS: u32 = 10;
const WINDOW: u32 = 80;
const WALLET_GAP: u32 = 20;
const USED: u32 = 12;
const RUNS: usize = 5;

fn main() {
    pocket_dca::pocket::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let running = runtime
        .block_on(sandbox::start(
            Options::new("bench", Network::Testnet),
            None,
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("bench.sqlite3")).unwrap();
    let mut scripts = Vec::new();
    // The outputs that paid the used addresses (each its transaction's first).
    let mut outputs = Vec::new();
    for seed in 1..=ORDERS {
        let (order, window) = order(seed as u8);
        for (i, address) in window.iter().enumerate() {
            if (i as u32) < USED {
                let txid = running
                    .engine
                    .pay_outside(&address.address.to_string(), 10_000)
                    .unwrap();
                let outpoint = OutPoint::new(txid.parse().unwrap(), 0);
                outputs.push((outpoint, address.address.script_pubkey()));
            }
        }
        let key = order.payout_key().unwrap();
        let chain = key.chain(&order.chain).unwrap();
        for index in 0..WINDOW + WALLET_GAP {
            scripts.push(chain.address(index).unwrap().address.script_pubkey());
        }
        store.insert_order(&order, &window).unwrap();
    }
    running.engine.mine(1).unwrap();
    let config = ChainConfig {
        backend: ChainBackend::Electrum,
        url: Some(running.electrum_url().parse().unwrap()),
        proxy: None,
        min_confirmations: 1,
        unseen_after_hours: 12,
        interval_minutes: 10,
        alert_on_spend: false,
    };
    let backend = Backend::connect(&config).unwrap();
    let mut scan_with = |full: bool| {
        let options = chain::ScanOptions { full, order: None };
        measure(|| {
            let report =
                chain::scan_windows(&backend, &mut store, Utc::now(), &options, &mut |_, _| {})
                    .unwrap();
            assert_eq!(report.addresses as u32, ORDERS * (WINDOW + WALLET_GAP));
            assert_eq!(report.used as u32, ORDERS * USED);
        })
    };
    let (scan, scan_trips) = scan_with(true);
    let (again, again_trips) = scan_with(false);
    let client = electrum_client::Client::new(&running.electrum_url()).unwrap();
    let (floor, floor_trips) = measure(|| {
        let histories = client
            .batch_script_get_history(scripts.iter().map(|s| s.as_script()))
            .unwrap();
        assert_eq!(histories.len(), scripts.len());
    });
    println!(
        "full scan of {} orders × {} addresses: {:.1} ms, {} requests",
        ORDERS,
        WINDOW + WALLET_GAP,
        ms(scan),
        scan_trips
    );
    println!(
        "a scan again, nothing changed: {:.1} ms, {} requests",
        ms(again),
        again_trips
    );
    println!(
        "floor, one batched get_history of the same {} scripthashes: {:.1} ms, {} requests",
        scripts.len(),
        ms(floor),
        floor_trips
    );
    println!(
        "scan / floor: {:.2}× (full), {:.2}× (again)",
        ms(scan) / ms(floor),
        ms(again) / ms(floor)
    );
    // `[chain] alert_on_spend`: which outputs were spent (one per order).
    for (outpoint, _) in outputs.iter().step_by(USED as usize) {
        running
            .engine
            .spend_payout(&outpoint.txid.to_string(), outpoint.vout)
            .unwrap();
    }
    running.engine.mine(1).unwrap();
    let (spent, spent_trips) = measure(|| {
        let found = backend.spenders(&outputs).unwrap();
        assert_eq!(found.iter().flatten().count() as u32, ORDERS);
    });
    let (each, each_trips) = measure(|| {
        let found = outputs
            .iter()
            .filter(|(outpoint, _)| backend.spender(*outpoint).unwrap().is_some())
            .count();
        assert_eq!(found as u32, ORDERS);
    });
    println!(
        "spend check of {} outputs ({} spent): {:.1} ms, {} requests; asked one by one: {:.1} ms, {} requests",
        outputs.len(),
        ORDERS,
        ms(spent),
        spent_trips,
        ms(each),
        each_trips
    );
    runtime.block_on(running.stop());
}

/// The median time of `RUNS` runs and the requests of one.
fn measure(mut run: impl FnMut()) -> (Duration, u64) {
    let mut times = Vec::new();
    let mut trips = 0;
    for _ in 0..RUNS {
        let before = sandbox::electrum_round_trips();
        let start = Instant::now();
        run();
        times.push(start.elapsed());
        trips = sandbox::electrum_round_trips() - before;
    }
    times.sort();
    (times[RUNS / 2], trips)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An order on its own account key, with its stored window.
fn order(seed: u8) -> (StoredOrder, Vec<pocket_dca::wallet::DerivedAddress>) {
    let wallet = HotWallet::from_seed(&[seed; 32], Network::Testnet).unwrap();
    let descriptor = wallet.account_descriptor(ScriptType::P2wpkh).unwrap();
    let key = PayoutKey::parse(&descriptor, None, Some(Network::Testnet)).unwrap();
    let window: Vec<_> = key
        .chain(&[0])
        .unwrap()
        .addresses(0, WINDOW)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let now = Utc::now();
    let order = StoredOrder {
        id: OrderId::new(format!("00000000-0000-4000-8000-0000000000{seed:02}")),
        label: None,
        active: true,
        currency: Currency::Eur,
        fee_rate: "0.015".parse().unwrap(),
        amount: "100".parse().unwrap(),
        day: Day::Of(1),
        emails: Vec::new(),
        payout_kind: PayoutKind::Key,
        key: descriptor,
        pocket_key: key.slip132_string(),
        script_type: Some(ScriptType::P2wpkh),
        network: Network::Testnet,
        chain: vec![0],
        start_index: 0,
        signed_address: Some(window[0].address.clone()),
        node_pubkey: None,
        gap_limit: 10,
        wallet_gap_limit: WALLET_GAP,
        debitor_iban: "DE75512108001245126199".into(),
        payment_method: PaymentMethod::default(),
        pocket_json: "{}".into(),
        created_on: now,
        stored_at: now,
        updated_at: now,
    };
    (order, window)
}
