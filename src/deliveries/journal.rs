//! The intake journal: where webhook deliveries are made durable before
//! they reach the database. One file next to the database
//! (`<database>-intake`, 0600), its 8 MiB written once when it is created
//! and from then on overwritten in place from the start: a batch of
//! deliveries is one write and one `fdatasync`. On a file whose blocks all
//! exist that flushes the data alone — no block to allocate, no inode, no
//! SQLite pages, index or WAL frames — which on the reference VM takes
//! about half of a SQLite commit of the same batch.
//!
//! Records of one *generation* (a random number drawn whenever the journal
//! starts over) run from offset 0 with sequence numbers 1, 2, 3…; reading
//! stops at the first record that is torn, of another generation or out of
//! sequence, so what an earlier generation left behind is never read. The
//! database keeps the (generation, sequence) it holds, in the same
//! transaction as those deliveries ([`crate::store::IntakePosition`]), so
//! recovery moves exactly what it lacks.
//!
//! The file is locked while a writer has it: one `serve` per database.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use chrono::DateTime;

use crate::store::{IntakePosition, NewDelivery};

/// The journal's size; a batch that does not fit waits until everything
/// journaled is durably in the database and the journal starts over.
pub const CAPACITY: u64 = 8 * 1024 * 1024;

const MAGIC: [u8; 4] = *b"PDJ1";
/// Magic, payload length, generation, sequence, CRC-32, reserved.
const HEADER: usize = 32;
/// Received-at, retry-count flag and value, correlation-id length.
const FIXED: usize = 8 + 1 + 8 + 4;
/// Written as the correlation id's length when there is none.
const ABSENT: u32 = u32::MAX;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the webhook intake journal {} is locked by another `pocket-dca serve` on the same database; stop that one first",
        .0.display()
    )]
    InUse(PathBuf),
    #[error("cannot use the webhook intake journal {}: {cause}", path.display())]
    Io { path: PathBuf, cause: io::Error },
}

/// The records of the newest generation found in the file.
#[derive(Debug, Default)]
pub struct Found {
    pub generation: i64,
    /// Sequence number and delivery, in order from 1.
    pub records: Vec<(i64, NewDelivery)>,
}

impl Found {
    /// What the database lacks, given the position it holds.
    pub fn missing_from(self, held: Option<IntakePosition>) -> Vec<NewDelivery> {
        let after = match held {
            Some(p) if p.generation == self.generation => p.seq,
            _ => 0,
        };
        self.records
            .into_iter()
            .filter(|(seq, _)| *seq > after)
            .map(|(_, delivery)| delivery)
            .collect()
    }

    /// The position of the last record found.
    pub fn position(&self) -> Option<IntakePosition> {
        self.records.last().map(|(seq, _)| IntakePosition {
            generation: self.generation,
            seq: *seq,
        })
    }
}

/// The journal, open and locked, positioned for a new generation.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    generation: i64,
    last_seq: i64,
    end: u64,
    buffer: Vec<u8>,
}

/// Where the journal of the database at `db` lives.
pub fn path_for(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-intake");
    PathBuf::from(name)
}

impl Journal {
    /// Opens (creating and filling it if needed) and locks the journal of
    /// the database at `db`, and reads what it holds. The caller stores
    /// what is found durably before the first [`Journal::append`]: that
    /// writes over it.
    pub fn open(db: &Path) -> Result<(Journal, Found), Error> {
        let path = path_for(db);
        let io = |cause| Error::Io {
            path: path.clone(),
            cause,
        };
        let mut file = crate::files::open_private_read_write(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(Error::InUse(path)),
            Err(std::fs::TryLockError::Error(cause)) => return Err(io(cause)),
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let found = scan(&bytes);
        if (bytes.len() as u64) < CAPACITY {
            fill(&mut file, &path, bytes.len() as u64).map_err(io)?;
        }
        let journal = Journal {
            file,
            path: path.clone(),
            generation: new_generation(),
            last_seq: 0,
            end: 0,
            buffer: Vec::new(),
        };
        Ok((journal, found))
    }

    /// Whether `batch` fits after what this generation holds.
    pub fn fits(&self, batch: &[NewDelivery]) -> bool {
        let size: usize = batch.iter().map(record_len).sum();
        self.end + size as u64 <= CAPACITY
    }

    /// Writes `batch` after the last record and waits until the disk has
    /// it; on an error nothing of the batch counts as journaled.
    pub fn append(&mut self, batch: &[NewDelivery]) -> io::Result<()> {
        if !self.fits(batch) {
            return Err(io::Error::other("the batch does not fit in the journal"));
        }
        self.buffer.clear();
        for (i, delivery) in (1..).zip(batch) {
            encode(
                &mut self.buffer,
                self.generation,
                self.last_seq + i,
                delivery,
            );
        }
        self.file.seek(SeekFrom::Start(self.end))?;
        self.file.write_all(&self.buffer)?;
        self.file.sync_data()?;
        self.end += self.buffer.len() as u64;
        self.last_seq += batch.len() as i64;
        Ok(())
    }

    /// The generation and sequence number of the last record written; what
    /// the database holds once it has every record.
    pub fn position(&self) -> IntakePosition {
        IntakePosition {
            generation: self.generation,
            seq: self.last_seq,
        }
    }

    /// Starts a new generation at the start of the file. Only once every
    /// record is durably in the database: the next batch writes over them.
    pub fn start_over(&mut self) {
        self.generation = new_generation();
        self.last_seq = 0;
        self.end = 0;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A positive random number, different from the last one in practice.
fn new_generation() -> i64 {
    i64::from_le_bytes(crate::random::bytes::<8>()) & i64::MAX
}

/// Writes zeros from `from` to [`CAPACITY`], and makes the file and its
/// name durable: from now on every write lands on blocks that exist.
fn fill(file: &mut File, path: &Path, from: u64) -> io::Result<()> {
    const CHUNK: usize = 1024 * 1024;
    let zeros = vec![0u8; CHUNK];
    file.seek(SeekFrom::Start(from))?;
    let mut left = CAPACITY - from;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        file.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    file.sync_all()?;
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn record_len(delivery: &NewDelivery) -> usize {
    HEADER + FIXED + delivery.correlation_id.as_ref().map_or(0, String::len) + delivery.body.len()
}

fn encode(out: &mut Vec<u8>, generation: i64, seq: i64, delivery: &NewDelivery) {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER]);
    out.extend_from_slice(&delivery.received_at.timestamp_micros().to_le_bytes());
    out.push(u8::from(delivery.retry_count.is_some()));
    out.extend_from_slice(&delivery.retry_count.unwrap_or(0).to_le_bytes());
    match &delivery.correlation_id {
        Some(id) => {
            out.extend_from_slice(&(id.len() as u32).to_le_bytes());
            out.extend_from_slice(id.as_bytes());
        }
        None => out.extend_from_slice(&ABSENT.to_le_bytes()),
    }
    out.extend_from_slice(&delivery.body);
    let payload_len = (out.len() - start - HEADER) as u32;
    let header = &mut out[start..start + HEADER];
    header[0..4].copy_from_slice(&MAGIC);
    header[4..8].copy_from_slice(&payload_len.to_le_bytes());
    header[8..16].copy_from_slice(&generation.to_le_bytes());
    header[16..24].copy_from_slice(&seq.to_le_bytes());
    let crc = checksum(&out[start + 4..start + 24], &out[start + HEADER..]);
    out[start + 24..start + 28].copy_from_slice(&crc.to_le_bytes());
}

fn checksum(header: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(header);
    hasher.update(payload);
    hasher.finalize()
}

/// The records of the generation that starts at offset 0, up to the first
/// one that is torn, of another generation or out of sequence. Never
/// panics, whatever the bytes.
pub fn scan(bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let mut at = 0usize;
    while let Some((generation, seq, delivery, next)) = record_at(bytes, at) {
        if found.records.is_empty() {
            if seq != 1 {
                break;
            }
            found.generation = generation;
        } else if generation != found.generation || seq != found.records.len() as i64 + 1 {
            break;
        }
        found.records.push((seq, delivery));
        at = next;
    }
    found
}

/// The record at `at`: generation, sequence, delivery and where the next
/// one starts; `None` for anything but a whole, intact record.
fn record_at(bytes: &[u8], at: usize) -> Option<(i64, i64, NewDelivery, usize)> {
    let header = bytes.get(at..at.checked_add(HEADER)?)?;
    if header[0..4] != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(header[4..8].try_into().ok()?) as usize;
    let start = at + HEADER;
    let payload = bytes.get(start..start.checked_add(len)?)?;
    let crc = u32::from_le_bytes(header[24..28].try_into().ok()?);
    if checksum(&header[4..24], payload) != crc {
        return None;
    }
    let generation = i64::from_le_bytes(header[8..16].try_into().ok()?);
    let seq = i64::from_le_bytes(header[16..24].try_into().ok()?);
    Some((generation, seq, decode(payload)?, start + len))
}

fn decode(payload: &[u8]) -> Option<NewDelivery> {
    let fixed = payload.get(..FIXED)?;
    let micros = i64::from_le_bytes(fixed[0..8].try_into().ok()?);
    let received_at = DateTime::from_timestamp_micros(micros)?;
    let retry_count = match fixed[8] {
        0 => None,
        1 => Some(i64::from_le_bytes(fixed[9..17].try_into().ok()?)),
        _ => return None,
    };
    let id_len = u32::from_le_bytes(fixed[17..21].try_into().ok()?);
    let (correlation_id, body) = if id_len == ABSENT {
        (None, &payload[FIXED..])
    } else {
        let end = FIXED.checked_add(id_len as usize)?;
        let id = std::str::from_utf8(payload.get(FIXED..end)?).ok()?;
        (Some(id.to_string()), &payload[end..])
    };
    Some(NewDelivery {
        received_at,
        correlation_id,
        retry_count,
        body: body.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(i: u32, correlation: bool, retry: Option<i64>) -> NewDelivery {
        NewDelivery {
            received_at: DateTime::from_timestamp_micros(1_764_000_000_000_000 + i64::from(i))
                .unwrap(),
            correlation_id: correlation.then(|| format!("corr-{i}")),
            retry_count: retry,
            body: format!(r#"{{"event": "exchange.executed", "n": {i}}}"#).into_bytes(),
        }
    }

    fn batch(n: u32) -> Vec<NewDelivery> {
        (0..n)
            .map(|i| delivery(i, i % 2 == 0, (i % 3 == 0).then_some(i64::from(i))))
            .collect()
    }

    fn encoded(generation: i64, first_seq: i64, deliveries: &[NewDelivery]) -> Vec<u8> {
        let mut out = Vec::new();
        for (seq, d) in (first_seq..).zip(deliveries) {
            encode(&mut out, generation, seq, d);
        }
        out
    }

    fn bodies(found: &Found) -> Vec<Vec<u8>> {
        found.records.iter().map(|(_, d)| d.body.clone()).collect()
    }

    #[test]
    fn records_read_back_as_written() {
        let deliveries = batch(5);
        let found = scan(&encoded(42, 1, &deliveries));
        assert_eq!(found.generation, 42);
        let seqs: Vec<i64> = found.records.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        for ((_, got), want) in found.records.iter().zip(&deliveries) {
            assert_eq!(got.received_at, want.received_at);
            assert_eq!(got.correlation_id, want.correlation_id);
            assert_eq!(got.retry_count, want.retry_count);
            assert_eq!(got.body, want.body);
        }
    }

    #[test]
    fn reading_stops_at_the_first_record_that_does_not_belong() {
        let three = encoded(7, 1, &batch(3));
        let first_len = record_len(&batch(1)[0]);
        let mut flipped = three.clone();
        flipped[first_len + HEADER + 3] ^= 1; // a byte of the second payload
        let mut stale = encoded(7, 1, &batch(2));
        stale.extend(encoded(8, 3, &batch(1))); // an older generation's tail
        let mut gap = encoded(7, 1, &batch(1));
        gap.extend(encoded(7, 3, &batch(1)));
        let mut zeros = encoded(7, 1, &batch(2));
        zeros.extend(vec![0u8; 4096]);
        let cases: [(&str, Vec<u8>, usize); 8] = [
            ("whole", three.clone(), 3),
            (
                "torn in the last payload",
                three[..three.len() - 1].to_vec(),
                2,
            ),
            (
                "torn in the second header",
                three[..first_len + 10].to_vec(),
                1,
            ),
            ("a flipped bit", flipped, 1),
            ("another generation after", stale, 2),
            ("a gap in the sequence", gap, 1),
            ("not starting at 1", encoded(7, 2, &batch(2)), 0),
            ("zeros after the last record", zeros, 2),
        ];
        for (name, bytes, count) in cases {
            assert_eq!(scan(&bytes).records.len(), count, "{name}");
        }
        assert!(scan(&[]).records.is_empty());
        assert!(scan(&[0u8; HEADER * 3]).records.is_empty());
    }

    #[test]
    fn garbage_is_read_as_nothing_and_never_panics() {
        for len in [1usize, 31, 32, 33, 64, 1000, 70_000] {
            for _ in 0..20 {
                let mut bytes: Vec<u8> = (0..len).map(|_| crate::random::bytes::<1>()[0]).collect();
                bytes[..4.min(len)].copy_from_slice(&MAGIC[..4.min(len)]);
                let _ = scan(&bytes);
            }
        }
        // A header that claims a huge payload.
        let mut huge = encoded(1, 1, &batch(1));
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(scan(&huge).records.is_empty());
    }

    #[test]
    fn the_database_gets_what_it_lacks() {
        let found = || scan(&encoded(9, 1, &batch(4)));
        let at = |generation, seq| Some(IntakePosition { generation, seq });
        assert_eq!(found().missing_from(None).len(), 4);
        assert_eq!(found().missing_from(at(9, 1)).len(), 3);
        assert_eq!(found().missing_from(at(9, 4)).len(), 0);
        assert_eq!(found().missing_from(at(8, 4)).len(), 4);
        assert_eq!(found().position(), at(9, 4));
        assert_eq!(Found::default().position(), None);
    }

    #[test]
    fn a_journal_keeps_its_records_across_opens_and_starts_over_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("dca.sqlite3");
        let (mut journal, found) = Journal::open(&db).unwrap();
        assert!(found.records.is_empty());
        assert_eq!(std::fs::metadata(journal.path()).unwrap().len(), CAPACITY);
        // One `serve` per database.
        assert!(matches!(Journal::open(&db), Err(Error::InUse(_))));
        journal.append(&batch(2)).unwrap();
        journal.append(&batch(3)).unwrap();
        let position = journal.position();
        assert_eq!(position.seq, 5);
        drop(journal);

        let (mut journal, found) = Journal::open(&db).unwrap();
        assert_eq!(found.position(), Some(position));
        assert_eq!(found.records.len(), 5);
        // A new generation writes over the old one from the start.
        assert_ne!(journal.position().generation, position.generation);
        journal.append(&batch(1)).unwrap();
        drop(journal);
        let (_journal, found) = Journal::open(&db).unwrap();
        assert_eq!(bodies(&found), bodies(&scan(&encoded(1, 1, &batch(1)))));
        assert_eq!(std::fs::metadata(path_for(&db)).unwrap().len(), CAPACITY);
    }

    #[test]
    fn a_batch_that_does_not_fit_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(&dir.path().join("dca.sqlite3")).unwrap();
        journal.append(&batch(1)).unwrap();
        let before = journal.position();
        let big = vec![NewDelivery {
            body: vec![b'x'; CAPACITY as usize],
            ..delivery(0, false, None)
        }];
        assert!(!journal.fits(&big));
        assert!(journal.append(&big).is_err());
        assert_eq!(journal.position(), before);
        journal.start_over();
        assert!(journal.fits(&batch(100)));
    }

    #[cfg(unix)]
    #[test]
    fn the_journal_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = Journal::open(&dir.path().join("dca.sqlite3")).unwrap();
        let mode = std::fs::metadata(journal.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
