//! The durable end of the webhook path: one writer thread that stores
//! deliveries in batches (one transaction, one fsync for all the deliveries
//! waiting) and answers each only after its batch committed.

use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::Error;
use crate::store::{NewDelivery, Store};

/// The most deliveries committed together.
const MAX_BATCH: usize = 256;

struct Job {
    delivery: NewDelivery,
    reply: oneshot::Sender<Result<i64, String>>,
}

/// Stores webhook deliveries durably, in arrival order.
pub struct DeliveryWriter {
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl DeliveryWriter {
    /// Opens its own connection to the database and starts the thread.
    pub fn start(db: &Path) -> Result<DeliveryWriter, Error> {
        let mut store = Store::open(db)?;
        let (sender, receiver) = mpsc::channel::<Job>();
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
                    match store.insert_deliveries(&deliveries) {
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
        })
    }

    /// Stores one delivery; resolves once it is committed to disk.
    pub async fn store(&self, delivery: NewDelivery) -> Result<i64, String> {
        let (reply, answer) = oneshot::channel();
        {
            let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner());
            let Some(sender) = sender.as_ref() else {
                return Err("the service is shutting down".into());
            };
            sender
                .send(Job { delivery, reply })
                .map_err(|_| "the writer stopped".to_string())?;
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
