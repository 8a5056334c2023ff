//! The durable end of the webhook path: one writer thread that stores
//! deliveries in batches (one transaction, one fsync for all the deliveries
//! waiting) and answers each only after its batch committed. While
//! deliveries arrive, the processor stays out of the database ([`Intake`]):
//! the store path never waits for it.

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::Error;
use crate::store::{NewDelivery, Store};

/// The most deliveries committed together.
const MAX_BATCH: usize = 256;

struct Job {
    delivery: NewDelivery,
    reply: oneshot::Sender<Result<i64, String>>,
}

/// How busy the store path is: deliveries not committed yet, and when the
/// last one arrived.
#[derive(Debug)]
pub struct Intake {
    waiting: AtomicUsize,
    /// Microseconds from `epoch` to the last arrival.
    last: AtomicU64,
    epoch: Instant,
}

impl Default for Intake {
    fn default() -> Intake {
        Intake {
            waiting: AtomicUsize::new(0),
            last: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }
}

impl Intake {
    fn arrived(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let micros = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.last.fetch_max(micros, Ordering::SeqCst);
    }

    fn stored(&self, count: usize) {
        self.waiting.fetch_sub(count, Ordering::SeqCst);
    }

    /// Nothing waits to be stored and nothing arrived for `quiet`.
    pub fn is_quiet(&self, quiet: Duration) -> bool {
        let last = Duration::from_micros(self.last.load(Ordering::SeqCst));
        self.waiting.load(Ordering::SeqCst) == 0
            && self.epoch.elapsed().saturating_sub(last) >= quiet
    }
}

/// Stores webhook deliveries durably, in arrival order.
pub struct DeliveryWriter {
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    intake: Arc<Intake>,
}

impl DeliveryWriter {
    /// Opens its own connection to the database and starts the thread.
    pub fn start(db: &Path) -> Result<DeliveryWriter, Error> {
        let mut store = Store::open(db)?;
        let (sender, receiver) = mpsc::channel::<Job>();
        let intake = Arc::new(Intake::default());
        let done = intake.clone();
        let thread = std::thread::Builder::new()
            .name("delivery-writer".into())
            .spawn(move || {
                while let Ok(first) = receiver.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_BATCH {
                        match receiver.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    let (deliveries, replies): (Vec<NewDelivery>, Vec<_>) =
                        jobs.into_iter().map(|j| (j.delivery, j.reply)).unzip();
                    let stored = store.insert_deliveries(&deliveries);
                    done.stored(deliveries.len());
                    match stored {
                        Ok(ids) => {
                            for (reply, id) in replies.into_iter().zip(ids) {
                                let _ = reply.send(Ok(id));
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, count = replies.len(), "cannot store webhook deliveries");
                            for reply in replies {
                                let _ = reply.send(Err(e.to_string()));
                            }
                        }
                    }
                }
                if let Err(e) = store.checkpoint() {
                    tracing::warn!(error = %e, "checkpoint at shutdown failed");
                }
            })
            .map_err(|cause| Error::Thread {
                name: "delivery-writer",
                cause,
            })?;
        Ok(DeliveryWriter {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
            intake,
        })
    }

    /// How busy the store path is, shared: the processor reads it before
    /// each of its transactions and waits for a quiet moment.
    pub fn intake(&self) -> Arc<Intake> {
        self.intake.clone()
    }

    /// Stores one delivery; resolves once it is committed to disk.
    pub async fn store(&self, delivery: NewDelivery) -> Result<i64, String> {
        let (reply, answer) = oneshot::channel();
        {
            let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner());
            let Some(sender) = sender.as_ref() else {
                return Err("the service is shutting down".into());
            };
            self.intake.arrived();
            if sender.send(Job { delivery, reply }).is_err() {
                self.intake.stored(1);
                return Err("the writer stopped".into());
            }
        }
        answer.await.map_err(|_| "the writer stopped".to_string())?
    }

    /// Stores what is queued, then stops the thread.
    pub fn close(&self) {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = thread.join();
        }
    }
}
