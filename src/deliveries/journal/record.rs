//! The journal's records: how a batch of deliveries is laid out, and how
//! the newest generation is read back from whatever the file holds.
//!
//! A record is a 32-byte header (magic, payload length, generation,
//! sequence, CRC-32 of all that and the payload) and the payload (received
//! at, retry count, correlation id, body). A batch is padded with zeros to
//! a whole number of 4 KiB blocks, so that every write starts and ends on
//! a block (direct I/O needs it, and a torn write tears whole blocks).

use chrono::DateTime;

use crate::store::{IntakePosition, NewDelivery};

/// What every batch is padded to, and where every batch starts.
pub const BLOCK: usize = 4096;

const MAGIC: [u8; 4] = *b"PDJ1";
/// Magic, payload length, generation, sequence, CRC-32, reserved.
const HEADER: usize = 32;
/// Received-at, retry-count flag and value, correlation-id length.
const FIXED: usize = 8 + 1 + 8 + 4;
/// Written as the correlation id's length when there is none.
const ABSENT: u32 = u32::MAX;

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

/// The bytes `batch` takes in the file, padding included.
pub fn batch_len(batch: &[NewDelivery]) -> usize {
    let records: usize = batch.iter().map(record_len).sum();
    records.div_ceil(BLOCK) * BLOCK
}

fn record_len(delivery: &NewDelivery) -> usize {
    HEADER + FIXED + delivery.correlation_id.as_ref().map_or(0, String::len) + delivery.body.len()
}

/// Appends `batch` to `out` as records numbered from `first_seq`, then zeros
/// up to the next block.
pub fn encode_batch(out: &mut Vec<u8>, generation: i64, first_seq: i64, batch: &[NewDelivery]) {
    let start = out.len();
    for (seq, delivery) in (first_seq..).zip(batch) {
        encode(out, generation, seq, delivery);
    }
    let len = out.len() - start;
    out.resize(start + len.div_ceil(BLOCK) * BLOCK, 0);
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

/// The records of the generation that starts at offset 0, in sequence, up
/// to the first one that is torn, of another generation or out of sequence
/// (after a batch's padding, the next block is tried). Never panics,
/// whatever the bytes.
pub fn scan(bytes: &[u8]) -> Found {
    let mut found = Found::default();
    let mut at = 0usize;
    loop {
        let record = record_at(bytes, at).or_else(|| {
            // The padding after a batch: the next batch starts on a block.
            at = at.checked_next_multiple_of(BLOCK)?;
            record_at(bytes, at)
        });
        let Some((generation, seq, delivery, next)) = record else {
            break;
        };
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

    /// Batches of `sizes` deliveries, numbered on from `first_seq`.
    fn encoded(generation: i64, first_seq: i64, sizes: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut seq = first_seq;
        for &n in sizes {
            encode_batch(&mut out, generation, seq, &batch(n));
            seq += i64::from(n);
        }
        out
    }

    #[test]
    fn records_read_back_as_written_across_padded_batches() {
        let bytes = encoded(42, 1, &[3, 1, 2]);
        assert_eq!(bytes.len(), 3 * BLOCK);
        assert_eq!(batch_len(&batch(3)), BLOCK);
        let found = scan(&bytes);
        assert_eq!(found.generation, 42);
        let seqs: Vec<i64> = found.records.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
        let written: Vec<NewDelivery> = [batch(3), batch(1), batch(2)].concat();
        for ((_, got), want) in found.records.iter().zip(&written) {
            assert_eq!(got.received_at, want.received_at);
            assert_eq!(got.correlation_id, want.correlation_id);
            assert_eq!(got.retry_count, want.retry_count);
            assert_eq!(got.body, want.body);
        }
    }

    #[test]
    fn reading_stops_at_the_first_record_that_does_not_belong() {
        let two_batches = encoded(7, 1, &[3, 2]);
        let second = record_len(&batch(1)[0]);
        let mut flipped = two_batches.clone();
        flipped[second + HEADER + 3] ^= 1; // a byte of the second record
        let mut stale = encoded(7, 1, &[2]);
        stale.extend(encoded(8, 3, &[1])); // an older generation's block
        let mut gap = encoded(7, 1, &[1]);
        gap.extend(encoded(7, 3, &[1]));
        let mut torn_block = two_batches.clone();
        torn_block[BLOCK..BLOCK + 512].fill(0); // the second batch's first sector
        let cases: [(&str, Vec<u8>, usize); 8] = [
            ("whole", two_batches.clone(), 5),
            (
                "cut in the first record of a batch",
                two_batches[..BLOCK + 50].to_vec(),
                3,
            ),
            (
                "cut in the second header",
                two_batches[..second + 10].to_vec(),
                1,
            ),
            ("a flipped bit", flipped, 1),
            ("another generation after", stale, 2),
            ("a gap in the sequence", gap, 1),
            ("not starting at 1", encoded(7, 2, &[2]), 0),
            ("a torn sector", torn_block, 3),
        ];
        for (name, bytes, count) in cases {
            assert_eq!(scan(&bytes).records.len(), count, "{name}");
        }
        assert!(scan(&[]).records.is_empty());
        assert!(scan(&[0u8; BLOCK * 3]).records.is_empty());
    }

    #[test]
    fn garbage_is_read_as_nothing_and_never_panics() {
        for len in [1usize, 31, 32, 33, 64, 1000, BLOCK + 40, 70_000] {
            for _ in 0..20 {
                let mut bytes: Vec<u8> = (0..len).map(|_| crate::random::bytes::<1>()[0]).collect();
                bytes[..4.min(len)].copy_from_slice(&MAGIC[..4.min(len)]);
                let _ = scan(&bytes);
            }
        }
        // A header that claims a huge payload.
        let mut huge = encoded(1, 1, &[1]);
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(scan(&huge).records.is_empty());
    }

    #[test]
    fn the_database_gets_what_it_lacks() {
        let found = || scan(&encoded(9, 1, &[4]));
        let at = |generation, seq| Some(IntakePosition { generation, seq });
        assert_eq!(found().missing_from(None).len(), 4);
        assert_eq!(found().missing_from(at(9, 1)).len(), 3);
        assert_eq!(found().missing_from(at(9, 4)).len(), 0);
        assert_eq!(found().missing_from(at(8, 4)).len(), 4);
        assert_eq!(found().position(), at(9, 4));
        assert_eq!(Found::default().position(), None);
    }
}
