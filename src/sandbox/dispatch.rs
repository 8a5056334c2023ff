//! The sandbox's webhook dispatcher: posts each queued event to the webhook
//! URL, signed like Pocket's (`X-Signature-256`, `X-Correlation-Id`,
//! `X-Retry-Count`), retries non-2xx answers after a delay that doubles, and
//! applies the fault knobs (duplicate, drop, delay, reorder, pause).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::engine::Engine;
use super::options::Faults;
use super::state::Delivery;
use crate::pocket::signature::{
    CORRELATION_HEADER, RETRY_COUNT_HEADER, SIGNATURE_HEADER, USER_AGENT, sign,
};

/// Attempts before a delivery is given up.
const MAX_ATTEMPTS: u32 = 12;
/// The longest the dispatcher sleeps without looking at the queue.
const IDLE: Duration = Duration::from_millis(500);

/// Runs until the process ends; without a webhook URL, events stay queued.
pub async fn run(engine: Arc<Engine>) {
    let Some(url) = engine.options.webhook_url.clone() else {
        return;
    };
    crate::pocket::install_crypto_provider();
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(USER_AGENT)
        .build()
    {
        Ok(http) => http,
        Err(e) => {
            tracing::error!(error = %e, "sandbox: cannot build the webhook client");
            return;
        }
    };
    loop {
        let faults = engine_faults(&engine);
        let (mut due, next) = {
            let state = engine.state();
            let now = Utc::now().timestamp_millis();
            let due = state.due(now).unwrap_or_default();
            let next = state.next_due_ms().ok().flatten();
            (due, next)
        };
        if faults.paused || due.is_empty() {
            let wait = next
                .filter(|_| !faults.paused)
                .map(|ms| Duration::from_millis((ms - Utc::now().timestamp_millis()).max(0) as u64))
                .unwrap_or(IDLE)
                .min(IDLE);
            let _ = tokio::time::timeout(wait, engine.wake.notified()).await;
            continue;
        }
        if faults.reorder {
            due.reverse();
        }
        for delivery in due {
            deliver(&engine, &http, &url, delivery).await;
        }
    }
}

fn engine_faults(engine: &Engine) -> Faults {
    engine.faults().unwrap_or_default()
}

async fn deliver(engine: &Engine, http: &reqwest::Client, url: &url::Url, delivery: Delivery) {
    let mut faults = engine_faults(engine);
    if delivery.attempts == 0
        && faults.drop_next > 0
        && faults
            .drop_event
            .as_ref()
            .is_none_or(|e| *e == delivery.event)
    {
        faults.drop_next -= 1;
        let _ = engine.set_faults(faults);
        let now = Utc::now().timestamp_millis();
        let _ = engine.state().record_attempt(
            delivery.id,
            "dropped",
            0,
            now,
            now,
            "dropped by the drop_next fault",
        );
        tracing::info!(event = %delivery.event, "sandbox: webhook dropped (fault)");
        return;
    }
    let copies = if delivery.attempts == 0 && faults.duplicate {
        2
    } else {
        1
    };
    let attempted = Utc::now().timestamp_millis();
    let mut result = Err(String::new());
    for _ in 0..copies {
        result = post(engine, http, url, &delivery).await;
    }
    let attempts = delivery.attempts + 1;
    let state = engine.state();
    let recorded = match result {
        Ok(status) => state.record_attempt(
            delivery.id,
            "delivered",
            attempts,
            attempted,
            attempted,
            &status,
        ),
        Err(error) if attempts >= MAX_ATTEMPTS => state.record_attempt(
            delivery.id,
            "failed",
            attempts,
            attempted,
            attempted,
            &error,
        ),
        Err(error) => {
            let delay = retry_delay_ms(engine.options.retry_base, attempts);
            tracing::info!(event = %delivery.event, attempts, delay_ms = delay, %error, "sandbox: webhook will be retried");
            state.record_attempt(
                delivery.id,
                "pending",
                attempts,
                attempted,
                attempted.saturating_add(delay),
                &error,
            )
        }
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, "sandbox: cannot record a webhook attempt");
    }
}

/// The wait after `attempts` failed attempts: the base, doubling each time.
pub fn retry_delay_ms(base: Duration, attempts: u32) -> i64 {
    let base = base.as_millis().min(i64::MAX as u128) as i64;
    base.saturating_mul(1i64 << attempts.saturating_sub(1).min(30))
}

async fn post(
    engine: &Engine,
    http: &reqwest::Client,
    url: &url::Url,
    delivery: &Delivery,
) -> Result<String, String> {
    let signature = sign(&engine.options.webhook_secret, delivery.body.as_bytes());
    let response = http
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(CORRELATION_HEADER, &delivery.correlation_id)
        .header(RETRY_COUNT_HEADER, delivery.attempts.to_string())
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status.is_success() {
        Ok(status.as_u16().to_string())
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}
