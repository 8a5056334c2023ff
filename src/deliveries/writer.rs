//! The durable end of the webhook path: one writer thread. Each batch of
//! waiting deliveries goes into the intake journal ([`super::journal`]) in
//! one synchronous write and is then answered. When nothing else waits, everything
//! journaled is first moved into the database (a commit that need not wait
//! for the disk: the journal has it), so at rest an acknowledged delivery is
//! in the database by the time it is answered; under a burst, the move
//! waits for the writer's next free moment and the database's work stays off
//! the acknowledged path. While deliveries arrive, the processor stays out
//! of the database ([`Intake`]).

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::Error;
use super::journal::{self, Found, Journal};
use crate::store::{Commit, NewDelivery, Store};

/// The most deliveries written together, and about the most bytes (a batch
/// always fits in the journal after it started over).
const MAX_BATCH: usize = 256;
const MAX_BATCH_BYTES: usize = 1024 * 1024;

struct Job {
    delivery: NewDelivery,
    reply: oneshot::Sender<Result<(), String>>,
}

/// How busy the store path is: deliveries not in the database yet, and
/// when the last one arrived.
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
    /// Opens its own connection to the database and the intake journal,
    /// moves what the journal holds that the database lacks (after a crash
    /// or a power loss), and starts the thread.
    pub fn start(db: &Path) -> Result<DeliveryWriter, Error> {
        let mut store = Store::open(db)?;
        let (journal, found) = Journal::open_waiting(db, LOCK_PATIENCE)?;
        recover(&mut store, &journal, found, true)?;
        // Durable in the journal first: the database's commits need not wait.
        store.buffer_commits()?;
        let (sender, receiver) = mpsc::channel::<Job>();
        let intake = Arc::new(Intake::default());
        let desk = Desk {
            store,
            journal,
            unmoved: Vec::new(),
            intake: intake.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("delivery-writer".into())
            .spawn(move || desk.run(&receiver))
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

    /// Stores one delivery; resolves once it is durable on disk.
    pub async fn store(&self, delivery: NewDelivery) -> Result<(), String> {
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

/// How long `serve` waits for the journal's lock, which a command may hold
/// for a moment while it moves leftovers in.
const LOCK_PATIENCE: Duration = Duration::from_secs(3);

/// Moves into the database, durably, whatever the journal holds that the
/// database lacks; with `flush`, commits durably even when nothing is
/// missing, which also makes every earlier buffered commit durable: the
/// journal may then be written over. How many deliveries were moved.
fn recover(
    store: &mut Store,
    journal: &Journal,
    found: Found,
    flush: bool,
) -> Result<usize, Error> {
    let Some(position) = found.position() else {
        return Ok(0);
    };
    let missing = found.missing_from(store.intake_position()?);
    if flush || !missing.is_empty() {
        store.insert_deliveries(&missing, position, Commit::Durable)?;
    }
    if !missing.is_empty() {
        tracing::warn!(
            count = missing.len(),
            journal = %journal.path().display(),
            "acknowledged webhook deliveries moved from the intake journal into the database"
        );
    }
    Ok(missing.len())
}

/// Moves into the database what the intake journal of `db` holds that the
/// database lacks, unless a running `serve` has the journal (it moves them
/// itself): after a crash or a power loss the command line sees, and backs
/// up, every acknowledged delivery before `serve` runs again. How many were
/// moved; nothing is created when there is no journal.
pub fn recover_unattended(store: &mut Store, db: &Path) -> Result<usize, Error> {
    if !journal::path_for(db).exists() {
        return Ok(0);
    }
    match Journal::open(db) {
        Ok((journal, found)) => recover(store, &journal, found, false),
        Err(journal::Error::InUse(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// The writer thread's state.
struct Desk {
    store: Store,
    journal: Journal,
    /// Journaled, not in the database yet: the journal's last records.
    unmoved: Vec<NewDelivery>,
    intake: Arc<Intake>,
}

impl Desk {
    fn run(mut self, receiver: &mpsc::Receiver<Job>) {
        let mut next = None;
        loop {
            let first = match next.take() {
                Some(job) => job,
                None => match receiver.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                },
            };
            let (batch, replies) = gather(first, receiver);
            let journaled = self.journal(&batch);
            next = receiver.try_recv().ok();
            if journaled.is_ok() {
                self.unmoved.extend(batch);
                if next.is_none() {
                    self.move_in(Commit::Buffered);
                }
            } else {
                // Answered 503: not waiting any more.
                self.intake.stored(batch.len());
            }
            for reply in replies {
                let _ = reply.send(journaled.clone());
            }
        }
        self.move_in(Commit::Durable);
        if let Err(e) = self.store.checkpoint() {
            tracing::warn!(error = %e, "checkpoint at shutdown failed");
        }
    }

    /// Writes `batch` into the journal; when it is full, first moves
    /// everything into the database durably and starts it over.
    fn journal(&mut self, batch: &[NewDelivery]) -> Result<(), String> {
        if !self.journal.fits(batch) {
            if !self.move_in(Commit::Durable) {
                return Err(
                    "the intake journal is full and the database refuses its deliveries".into(),
                );
            }
            self.journal.start_over();
        }
        self.journal.append(batch).map_err(|e| {
            tracing::error!(error = %e, count = batch.len(), "cannot write webhook deliveries to the intake journal");
            e.to_string()
        })
    }

    /// Moves the unmoved deliveries into the database; whether everything
    /// journaled is now there (durably, for a durable commit). On failure
    /// they stay in the journal and are tried again at the next move.
    fn move_in(&mut self, commit: Commit) -> bool {
        let position = self.journal.position();
        // Nothing journaled in this generation: nothing to move, and
        // `recover` or the move before the start-over left it all durable.
        let nothing_new = self.unmoved.is_empty() && commit == Commit::Buffered;
        if position.seq == 0 || nothing_new {
            return true;
        }
        match self
            .store
            .insert_deliveries(&self.unmoved, position, commit)
        {
            Ok(()) => {
                self.intake.stored(self.unmoved.len());
                self.unmoved.clear();
                true
            }
            Err(e) => {
                tracing::error!(error = %e, count = self.unmoved.len(), "cannot move webhook deliveries from the intake journal into the database; they stay in the journal");
                false
            }
        }
    }
}

type Reply = oneshot::Sender<Result<(), String>>;

/// `first` and the jobs waiting behind it, up to a batch.
fn gather(first: Job, receiver: &mpsc::Receiver<Job>) -> (Vec<NewDelivery>, Vec<Reply>) {
    let mut bytes = first.delivery.body.len();
    let (mut batch, mut replies) = (vec![first.delivery], vec![first.reply]);
    while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
        match receiver.try_recv() {
            Ok(job) => {
                bytes += job.delivery.body.len();
                batch.push(job.delivery);
                replies.push(job.reply);
            }
            Err(_) => break,
        }
    }
    (batch, replies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliveries::journal::{self, CAPACITY};

    fn delivery(i: usize, body_len: usize) -> NewDelivery {
        NewDelivery {
            received_at: chrono::Utc::now(),
            correlation_id: Some(format!("d-{i}")),
            retry_count: None,
            body: vec![b'x'; body_len],
        }
    }

    fn correlations(db: &Path) -> Vec<String> {
        let mut ids: Vec<String> = Store::open(db)
            .unwrap()
            .deliveries(None)
            .unwrap()
            .into_iter()
            .filter_map(|d| d.correlation_id)
            .collect();
        ids.sort();
        ids
    }

    /// Journals `count` deliveries as a writer would, without moving them
    /// in (a crash right after the answers); their position.
    fn journal_only(db: &Path, count: usize) -> crate::store::IntakePosition {
        let (mut journal, _) = Journal::open(db).unwrap();
        let batch: Vec<_> = (0..count).map(|i| delivery(i, 10)).collect();
        journal.append(&batch).unwrap();
        journal.position()
    }

    #[test]
    fn what_only_the_journal_holds_is_moved_in_once_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("dca.sqlite3");
        let position = journal_only(&db, 3);
        let writer = DeliveryWriter::start(&db).unwrap();
        writer.close();
        assert_eq!(correlations(&db), ["d-0", "d-1", "d-2"]);
        let store = Store::open(&db).unwrap();
        assert_eq!(store.intake_position().unwrap(), Some(position));
        // Started again: nothing twice.
        DeliveryWriter::start(&db).unwrap().close();
        assert_eq!(correlations(&db).len(), 3);
    }

    #[test]
    fn after_a_power_loss_only_the_records_the_database_lost_are_moved_in() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("dca.sqlite3");
        let position = journal_only(&db, 3);
        // The database kept the first record only (its later buffered
        // commits were lost with the power).
        let mut store = Store::open(&db).unwrap();
        let first = journal::scan(&std::fs::read(journal::path_for(&db)).unwrap())
            .records
            .remove(0)
            .1;
        let held = crate::store::IntakePosition { seq: 1, ..position };
        store
            .insert_deliveries(&[first], held, Commit::Durable)
            .unwrap();
        assert_eq!(recover_unattended(&mut store, &db).unwrap(), 2);
        assert_eq!(correlations(&db), ["d-0", "d-1", "d-2"]);
        assert_eq!(recover_unattended(&mut store, &db).unwrap(), 0);
    }

    #[test]
    fn the_command_line_leaves_a_running_writers_journal_alone_and_creates_none() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("dca.sqlite3");
        let mut store = Store::open(&db).unwrap();
        assert_eq!(recover_unattended(&mut store, &db).unwrap(), 0);
        assert!(!journal::path_for(&db).exists());
        let writer = DeliveryWriter::start(&db).unwrap();
        assert_eq!(recover_unattended(&mut store, &db).unwrap(), 0);
        assert!(matches!(
            DeliveryWriter::start(&db),
            Err(Error::Journal(journal::Error::InUse(_)))
        ));
        writer.close();
    }

    #[test]
    fn serve_waits_for_a_command_that_holds_the_journal_for_a_moment() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("dca.sqlite3");
        let (held, _) = Journal::open(&db).unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(held);
        });
        DeliveryWriter::start(&db).unwrap().close();
        release.join().unwrap();
    }

    #[test]
    fn a_full_journal_is_moved_in_durably_and_started_over() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("dca.sqlite3");
        let writer = DeliveryWriter::start(&db).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // 60 KiB apiece: the journal is full after about 136.
        let count = (CAPACITY as usize / (60 * 1024)) + 20;
        for i in 0..count {
            runtime
                .block_on(writer.store(delivery(i, 60 * 1024)))
                .unwrap();
        }
        // At rest, each was in the database when it was answered.
        assert_eq!(correlations(&db).len(), count);
        writer.close();
        // The journal holds the new generation's records only, all in the
        // database already.
        let found = journal::scan(&std::fs::read(journal::path_for(&db)).unwrap());
        assert!(!found.records.is_empty() && found.records.len() < 40);
        let held = Store::open(&db).unwrap().intake_position().unwrap();
        assert_eq!(held, found.position());
        assert!(found.missing_from(held).is_empty());
    }
}
