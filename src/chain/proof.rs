//! The proofs a server gives, checked here rather than believed: a
//! transaction's merkle branch against the block header's merkle root, and
//! the header's proof of work against the target it states. Pure functions.

use bitcoin::block::Header;
use bitcoin::hashes::{Hash, sha256d};
use bitcoin::{TxMerkleNode, Txid};

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the merkle branch of {txid} does not lead to the block's merkle root")]
    Merkle { txid: Txid },
    #[error("block {hash} does not have the proof of work its header claims")]
    Work { hash: String },
    #[error("the block header at height {height} is not 80 bytes of a header")]
    Header { height: u32 },
}

/// The merkle root a branch leads to from `txid` at position `pos`. Each
/// branch hash is given as Electrum and Esplora write it (like a txid:
/// byte-reversed hex, already decoded into bytes in that order).
pub fn merkle_root_of(txid: Txid, branch: &[[u8; 32]], pos: usize) -> TxMerkleNode {
    let mut hash = txid.to_byte_array();
    let mut index = pos;
    for sibling in branch {
        let mut sibling = *sibling;
        sibling.reverse();
        let mut joined = [0u8; 64];
        if index & 1 == 1 {
            joined[..32].copy_from_slice(&sibling);
            joined[32..].copy_from_slice(&hash);
        } else {
            joined[..32].copy_from_slice(&hash);
            joined[32..].copy_from_slice(&sibling);
        }
        hash = sha256d::Hash::hash(&joined).to_byte_array();
        index >>= 1;
    }
    TxMerkleNode::from_byte_array(hash)
}

/// Checks that `txid` is in the block of `header`, by its branch.
pub fn check_inclusion(
    header: &Header,
    txid: Txid,
    branch: &[[u8; 32]],
    pos: usize,
) -> Result<(), ProofError> {
    if merkle_root_of(txid, branch, pos) == header.merkle_root {
        Ok(())
    } else {
        Err(ProofError::Merkle { txid })
    }
}

/// Checks the header's hash against the target its `bits` state. (That
/// target itself is the chain's difficulty rule, which a light client can
/// only judge by comparing chains; the work claimed must at least be real.)
pub fn check_work(header: &Header) -> Result<(), ProofError> {
    header
        .validate_pow(header.target())
        .map(|_| ())
        .map_err(|_| ProofError::Work {
            hash: header.block_hash().to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::Block;
    use bitcoin::consensus::encode::deserialize_hex;

    /// A mainnet block of two transactions (difficulty 1, 2009), as
    /// rust-bitcoin's own tests carry it; kept in `tests/fixtures/chain/`.
    fn block() -> Block {
        let hex = include_str!("../../tests/fixtures/chain/mainnet-block-2tx.hex");
        deserialize_hex(hex.trim()).unwrap()
    }

    fn shown(txid: Txid) -> [u8; 32] {
        let mut bytes = txid.to_byte_array();
        bytes.reverse();
        bytes
    }

    #[test]
    fn a_real_blocks_branches_lead_to_its_merkle_root() {
        let block = block();
        let txids: Vec<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
        assert_eq!(txids.len(), 2);
        check_work(&block.header).unwrap();
        // Each transaction's branch is the other one.
        check_inclusion(&block.header, txids[1], &[shown(txids[0])], 1).unwrap();
        check_inclusion(&block.header, txids[0], &[shown(txids[1])], 0).unwrap();
    }

    #[test]
    fn a_forged_branch_or_a_header_without_its_work_is_refused() {
        let block = block();
        let txids: Vec<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
        let cases: [(&str, Txid, Vec<[u8; 32]>, usize); 4] = [
            ("wrong position", txids[1], vec![shown(txids[0])], 0),
            ("another sibling", txids[1], vec![[7; 32]], 1),
            (
                "an extra level",
                txids[1],
                vec![shown(txids[0]), [0; 32]],
                1,
            ),
            (
                "a txid not in the block",
                Txid::all_zeros(),
                vec![shown(txids[0])],
                1,
            ),
        ];
        for (what, txid, branch, pos) in cases {
            assert!(
                check_inclusion(&block.header, txid, &branch, pos).is_err(),
                "{what}"
            );
        }
        let mut weak = block.header;
        weak.nonce = weak.nonce.wrapping_add(1);
        assert!(check_work(&weak).is_err(), "another nonce is not the work");
        let mut harder = block.header;
        harder.bits = bitcoin::CompactTarget::from_consensus(0x1c00_ffff);
        assert!(
            check_work(&harder).is_err(),
            "a target harder than the hash meets"
        );
    }
}
