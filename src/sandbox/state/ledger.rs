//! The sandbox's blockchain as stored: blocks (header and txids, by
//! height), transactions (in a block, or in the mempool when `height` is
//! null) and their outputs, indexed by script for the servers' address
//! histories.

use rusqlite::{OptionalExtension, params};

use super::{Result, State, from_json, to_json};

/// A stored block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    pub height: u32,
    pub hash: String,
    /// The 80-byte header, hex.
    pub header: String,
    /// Its transactions in block order, the coinbase first.
    pub txids: Vec<String>,
}

/// An output as the address index keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutput {
    pub txid: String,
    pub vout: u32,
    pub value: u64,
    /// The transaction's height; `None` in the mempool.
    pub height: Option<u32>,
    pub spent_by: Option<String>,
}

impl State {
    pub fn tip(&self) -> Result<Option<StoredBlock>> {
        self.conn
            .query_row(
                "SELECT height, hash, header, txids FROM blocks ORDER BY height DESC LIMIT 1",
                [],
                block_row,
            )
            .optional()?
            .map(decode_block)
            .transpose()
    }

    pub fn block_at(&self, height: u32) -> Result<Option<StoredBlock>> {
        self.conn
            .query_row(
                "SELECT height, hash, header, txids FROM blocks WHERE height = ?1",
                [height],
                block_row,
            )
            .optional()?
            .map(decode_block)
            .transpose()
    }

    pub fn block_by_hash(&self, hash: &str) -> Result<Option<StoredBlock>> {
        self.conn
            .query_row(
                "SELECT height, hash, header, txids FROM blocks WHERE hash = ?1",
                [hash],
                block_row,
            )
            .optional()?
            .map(decode_block)
            .transpose()
    }

    /// Stores a block and moves its transactions out of the mempool.
    pub fn insert_block(&self, block: &StoredBlock) -> Result<()> {
        self.conn.execute(
            "INSERT INTO blocks (height, hash, header, txids) VALUES (?1, ?2, ?3, ?4)",
            params![
                block.height,
                block.hash,
                block.header,
                to_json(&block.txids)?
            ],
        )?;
        for txid in &block.txids {
            self.conn.execute(
                "UPDATE transactions SET height = ?2 WHERE txid = ?1",
                params![txid, block.height],
            )?;
        }
        Ok(())
    }

    /// Removes the blocks above `height` (a reorganisation): their
    /// transactions go back to the mempool, their coinbases away.
    pub fn remove_blocks_above(&self, height: u32) -> Result<Vec<StoredBlock>> {
        let mut stmt = self.conn.prepare(
            "SELECT height, hash, header, txids FROM blocks WHERE height > ?1 ORDER BY height",
        )?;
        let removed = stmt
            .query_map([height], block_row)?
            .map(|r| r.and_then(decode_block))
            .collect::<Result<Vec<_>>>()?;
        for block in &removed {
            if let Some(coinbase) = block.txids.first() {
                self.remove_transaction(coinbase)?;
            }
        }
        self.conn.execute(
            "UPDATE transactions SET height = NULL WHERE height > ?1",
            [height],
        )?;
        self.conn
            .execute("DELETE FROM blocks WHERE height > ?1", [height])?;
        Ok(removed)
    }

    /// Stores a transaction (`height` `None`: in the mempool) with its
    /// outputs, and marks the outputs it spends.
    pub fn insert_transaction(
        &self,
        txid: &str,
        raw: &str,
        height: Option<u32>,
        outputs: &[(String, String, u64)],
        spends: &[(String, u32)],
    ) -> Result<()> {
        let seq: i64 = self.conn.query_row(
            "SELECT coalesce(max(seq), 0) + 1 FROM transactions",
            [],
            |r| r.get(0),
        )?;
        self.conn.execute(
            "INSERT INTO transactions (txid, raw, height, seq) VALUES (?1, ?2, ?3, ?4)",
            params![txid, raw, height, seq],
        )?;
        for (vout, (script, scripthash, value)) in outputs.iter().enumerate() {
            self.conn.execute(
                "INSERT INTO outputs (txid, vout, script, scripthash, value) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![txid, vout as u32, script, scripthash, *value as i64],
            )?;
        }
        for (prev, vout) in spends {
            self.conn.execute(
                "UPDATE outputs SET spent_by = ?3 WHERE txid = ?1 AND vout = ?2",
                params![prev, vout, txid],
            )?;
        }
        Ok(())
    }

    /// Removes a transaction (replaced, or a reorganised coinbase): its
    /// outputs go, the outputs it spent are unspent again.
    pub fn remove_transaction(&self, txid: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outputs SET spent_by = NULL WHERE spent_by = ?1",
            [txid],
        )?;
        self.conn
            .execute("DELETE FROM outputs WHERE txid = ?1", [txid])?;
        self.conn
            .execute("DELETE FROM transactions WHERE txid = ?1", [txid])?;
        Ok(())
    }

    /// A transaction's raw hex and height (`None` in the mempool).
    pub fn transaction_raw(&self, txid: &str) -> Result<Option<(String, Option<u32>)>> {
        self.conn
            .query_row(
                "SELECT raw, height FROM transactions WHERE txid = ?1",
                [txid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
    }

    /// The order transactions arrived in (mempool order).
    pub fn transaction_seq(&self, txid: &str) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT seq FROM transactions WHERE txid = ?1",
                [txid],
                |r| r.get(0),
            )
            .optional()
    }

    /// The mempool's transactions, oldest first: (txid, raw hex).
    pub fn mempool(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT txid, raw FROM transactions WHERE height IS NULL ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }

    /// The outputs paying the script of `scripthash` (Electrum's: the
    /// script's SHA-256, reversed, hex), with their transaction's height.
    pub fn outputs_to(&self, scripthash: &str) -> Result<Vec<StoredOutput>> {
        let mut stmt = self.conn.prepare(
            "SELECT o.txid, o.vout, o.value, t.height, o.spent_by FROM outputs o
             JOIN transactions t ON t.txid = o.txid WHERE o.scripthash = ?1 ORDER BY t.seq, o.vout",
        )?;
        let rows = stmt.query_map([scripthash], |r| {
            Ok(StoredOutput {
                txid: r.get(0)?,
                vout: r.get(1)?,
                value: r.get::<_, i64>(2)? as u64,
                height: r.get(3)?,
                spent_by: r.get(4)?,
            })
        })?;
        rows.collect()
    }

    /// Heights of transactions, for the histories (`None`: mempool or gone).
    pub fn transaction_height(&self, txid: &str) -> Result<Option<Option<u32>>> {
        self.conn
            .query_row(
                "SELECT height FROM transactions WHERE txid = ?1",
                [txid],
                |r| r.get(0),
            )
            .optional()
    }
}

type BlockRow = (u32, String, String, String);

fn block_row(r: &rusqlite::Row) -> rusqlite::Result<BlockRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn decode_block((height, hash, header, txids): BlockRow) -> Result<StoredBlock> {
    Ok(StoredBlock {
        height,
        hash,
        header,
        txids: from_json(&txids)?,
    })
}
