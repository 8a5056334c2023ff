//! Processes stored webhook deliveries after they were acknowledged, on a
//! thread of its own: parse, apply, reconcile. A storage failure leaves the
//! delivery `received` to be tried again; content that cannot be processed is
//! kept `unprocessed` with an alert — never a retry loop.
//!
//! It works in short transactions and, before each, gives way until the
//! writer has had nothing to store for [`QUIET`]: during a burst the
//! acknowledged path runs alone, and the processing catches up after.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;

use super::Error;
use super::writer::Intake;
use crate::store::Store;

/// How often pending deliveries are looked for without a wake-up.
const POLL: Duration = Duration::from_secs(10);
/// Deliveries per processing transaction: short, so that the writer never
/// waits long for the lock.
const BATCH: usize = 8;
/// How long the intake must have been idle before a processing transaction.
pub const QUIET: Duration = Duration::from_millis(20);

pub struct Processor {
    wake: Mutex<Option<mpsc::SyncSender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Processor {
    /// Starts the thread; it first processes what was left from before.
    /// `intake` counts the deliveries waiting to be stored
    /// ([`super::writer::DeliveryWriter::intake`]); it gives way to them.
    pub fn start(db: &Path, intake: Arc<Intake>) -> Result<Processor, Error> {
        let mut store = Store::open(db)?;
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("delivery-processor".into())
            .spawn(move || {
                loop {
                    run_once(&mut store, &intake);
                    match woken.recv_timeout(POLL) {
                        Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                run_once(&mut store, &intake);
            })
            .map_err(|cause| Error::Thread {
                name: "delivery-processor",
                cause,
            })?;
        Ok(Processor {
            wake: Mutex::new(Some(wake)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Asks the thread to look for new deliveries.
    pub fn wake(&self) {
        if let Some(wake) = self.wake.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = wake.try_send(());
        }
    }

    /// Processes what is left, then stops.
    pub fn close(&self) {
        self.wake.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

fn run_once(store: &mut Store, intake: &Intake) {
    let give_way = || {
        while !intake.is_quiet(QUIET) {
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    match super::process_pending_in(store, Utc::now(), BATCH, give_way) {
        Ok(0) => {}
        Ok(n) => tracing::debug!(processed = n, "webhook deliveries processed"),
        Err(e) => tracing::error!(error = %e, "processing webhook deliveries failed; will retry"),
    }
}
