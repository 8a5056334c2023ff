//! A local simulator of the Pocket API, faithful to `pocket-api.md`, that
//! also plays the bank, the clock and the blockchain and sends signed
//! webhooks: people try the tool against it before they have an account,
//! and the tests and `demo` run on it. It refuses what Pocket would refuse.
//!
//! Its state lives in memory or in its own SQLite file — never in the tool's
//! database.

mod api;
mod bank;
mod chain;
mod dispatch;
mod electrum;
mod engine;
mod error;
mod esplora;
mod explorer;
mod http;
mod ledger;
mod lightning;
pub mod market;
mod options;
mod orders;
mod state;
pub mod wallet;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

pub use bank::PaymentRequest;
pub use chain::BatchResult;
pub use dispatch::retry_delay_ms;
pub use electrum::round_trips as electrum_round_trips;
pub use engine::{Engine, webhook_body};
pub use error::ApiError;
pub use http::router;
pub use options::{Faults, Options, Prices};

/// Opens the sandbox's state and builds its engine.
pub fn engine(options: Options, state_file: Option<&Path>) -> Result<Arc<Engine>, rusqlite::Error> {
    Ok(Engine::new(options, state::State::open(state_file)?))
}

/// Serves the sandbox's API on `listener` and its chain's Electrum server
/// on `electrum` until `shutdown` resolves, delivering webhooks in the
/// background.
pub async fn serve(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    electrum: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let dispatcher = tokio::spawn(dispatch::run(engine.clone()));
    let electrum = tokio::spawn(electrum::serve(engine.clone(), electrum));
    let result = axum::serve(listener, router(engine))
        .with_graceful_shutdown(shutdown)
        .await;
    dispatcher.abort();
    electrum.abort();
    result
}

/// A sandbox running in the background, for tests and the demo.
pub struct Running {
    pub addr: SocketAddr,
    /// The chain's Electrum server: `tcp://` this address.
    pub electrum_addr: SocketAddr,
    pub engine: Arc<Engine>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The API root to configure as `[pocket] base_url`.
    pub fn base_url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.addr)).expect("http://IP:PORT/ is a URL")
    }

    /// The Esplora API's URL, for `[chain] url` with the esplora backend.
    pub fn esplora_url(&self) -> String {
        format!("http://{}/esplora", self.addr)
    }

    /// The Electrum server's URL, for `[chain] url`.
    pub fn electrum_url(&self) -> String {
        format!("tcp://{}", self.electrum_addr)
    }

    /// Stops serving and waits for in-flight requests.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts a sandbox on `addr` (port 0 picks a free one) in the background.
pub async fn start(
    options: Options,
    state_file: Option<&Path>,
    addr: SocketAddr,
) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    start_on(options, state_file, listener).await
}

/// Starts a sandbox on a listener bound by the caller.
pub async fn start_on(
    options: Options,
    state_file: Option<&Path>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<Running> {
    let engine = engine(options, state_file).map_err(std::io::Error::other)?;
    let addr = listener.local_addr()?;
    let electrum = tokio::net::TcpListener::bind(SocketAddr::new(addr.ip(), 0)).await?;
    let electrum_addr = electrum.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(engine.clone(), listener, electrum, async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        addr,
        electrum_addr,
        engine,
        stop: Some(stop),
        task,
    })
}
