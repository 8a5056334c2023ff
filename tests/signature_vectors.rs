//! Signed-message vectors (legacy, BIP-137, Electrum-style, BIP-322) from
//! `tests/fixtures/vectors/` against `wallet::verify_message`, and the signing
//! helpers of the demo against the verifier.
#![allow(clippy::unwrap_used)]

mod common;

use bitcoin::hashes::Hash as _;
use common::{message_of, s, vectors};
use pocket_dca::sandbox::wallet::{HotWallet, LegacyStyle, sign_bip322_simple, sign_legacy};
use pocket_dca::wallet::bip322;
use pocket_dca::wallet::{
    self, KeyPath, PayoutKey, ScriptType, SignatureFormat, VerifyError, parse_address,
    verify_message,
};

fn verify(address: &str, message: &str, signature: &str) -> Result<SignatureFormat, VerifyError> {
    verify_message(&parse_address(address).unwrap(), message, signature)
}

fn signature_rows() -> Vec<serde_json::Value> {
    let d = vectors("message-signatures.json");
    let mut rows = Vec::new();
    for group in [
        "bitcoinjs_message",
        "trezor_firmware",
        "bitcoin_core",
        "pocket",
        "computed_negatives",
    ] {
        for (name, list) in d[group].as_object().unwrap() {
            if name == "malformed_signatures" {
                continue;
            }
            if let Some(list) = list.as_array() {
                rows.extend(list.iter().cloned());
            }
        }
    }
    rows
}

#[test]
fn magic_hash_matches_the_published_values() {
    let d = vectors("message-signatures.json");
    for case in d["magic_hash"]["vectors"].as_array().unwrap() {
        let hash = bitcoin::sign_message::signed_msg_hash(&message_of(case));
        assert_eq!(hex::encode(hash.to_byte_array()), s(case, "hash_hex"));
    }
}

#[test]
fn every_legacy_signature_vector_is_classified_right() {
    let rows = signature_rows();
    assert!(rows.len() >= 30, "{} rows", rows.len());
    for row in rows {
        let id = s(&row, "id");
        let result = verify(
            s(&row, "address"),
            &message_of(&row),
            s(&row, "signature_base64"),
        );
        let expected = row["expected_valid"].as_bool().unwrap();
        assert_eq!(result.is_ok(), expected, "{id}: {result:?}");
        if let Ok(format) = result {
            let header = row["header"].as_u64().unwrap();
            let address_type = s(&row, "address_type");
            let want = match (address_type, header) {
                ("p2pkh", _) => SignatureFormat::Legacy,
                (_, 35..=42) => SignatureFormat::Bip137,
                _ => SignatureFormat::Electrum,
            };
            assert_eq!(format, want, "{id}");
        }
    }
}

#[test]
fn failures_say_why() {
    // Uncompressed header against a segwit address.
    let err = verify(
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "vires is numeris",
        "HF8nHqFr3K2UKYahhX3soVeoW8W1ECNbr0wfck7lzyXjCS5Q16Ek45zyBuy1Fiy9sTPKVgsqqOuPvbycuVSSVl8=",
    )
    .unwrap_err();
    assert!(
        matches!(err, VerifyError::UncompressedForSegwit { header: 28, .. }),
        "{err}"
    );
    // A signature by another key (or over another message: a recoverable
    // signature cannot tell) keeps the recovered address for the caller.
    let err = verify(
        "bc1qannfxke2tfd4l7vhepehpvt05y83v3qsf6nfkk",
        "This is an example of a signed message.",
        "IP2PL321I4/N0HfVIEw+aUnCYdcAJpzvwdnS3O9rlQI2MO5hf2yKz560DI7dcEycp06kr8OT9D81tOiVgyTL3Rw=",
    )
    .unwrap_err();
    let VerifyError::NoMatch { recovered, address } = &err else {
        panic!("{err}")
    };
    assert!(
        recovered.starts_with("bc1q") && recovered != address,
        "{err}"
    );
    assert!(!err.to_string().contains(recovered.as_str()), "{err}");
    // Malformed signatures.
    let d = vectors("message-signatures.json");
    for case in d["bitcoinjs_message"]["malformed_signatures"]
        .as_array()
        .unwrap()
    {
        let err = verify(
            "1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAs",
            "vires is numeris",
            s(case, "signature_base64"),
        )
        .unwrap_err();
        let reason = s(case, "reason");
        if reason.contains("header") {
            assert_eq!(err, VerifyError::UnknownHeader { header: 43 });
        } else {
            assert!(
                matches!(err, VerifyError::WrongLength { .. }),
                "{reason}: {err}"
            );
        }
    }
    assert!(matches!(
        verify("1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAs", "x", "not base64!").unwrap_err(),
        VerifyError::BadBase64 { .. }
    ));
    assert!(matches!(
        wallet::parse_address("not-an-address").unwrap_err(),
        VerifyError::InvalidAddress { .. }
    ));
}

#[test]
fn pocket_example_signature_verifies_for_the_derived_address() {
    let d = vectors("message-signatures.json");
    let row = &d["pocket"]["vectors"][0];
    let key = PayoutKey::parse(s(row, "extended_public_key"), None, None).unwrap();
    let path = key.parse_path(s(row, "derivation_path")).unwrap();
    let address = key.address_at(&path).unwrap().address;
    assert_eq!(address.to_string(), "17wvJajWQjoVJuJe31tuiDs4MmVeBfSvGY");
    assert_eq!(
        verify_message(&address, s(row, "message"), s(row, "signature_base64")).unwrap(),
        SignatureFormat::Legacy
    );
}

#[test]
fn bitcoin_core_signature_is_reproduced_exactly() {
    let d = vectors("message-signatures.json");
    let row = &d["bitcoin_core"]["vectors"][0];
    let key: bitcoin::PrivateKey = s(row, "private_key_wif").parse().unwrap();
    let signature = sign_legacy(
        &key.inner,
        ScriptType::P2pkh,
        s(row, "message"),
        LegacyStyle::Electrum,
    )
    .unwrap();
    // RFC 6979 nonces: the same signature as Bitcoin Core's.
    assert_eq!(signature, s(row, "signature_base64"));
}

// ------------------------------------------------------------------- BIP-322

/// Whether the vector's type is one the tool verifies (single-key payouts).
fn supported(kind: &str, format: &str) -> bool {
    match format {
        "simple" => matches!(kind, "p2wpkh" | "p2tr"),
        "full" => matches!(kind, "p2wpkh" | "p2tr" | "p2pkh" | "p2sh-p2wpkh"),
        _ => false,
    }
}

#[test]
fn bip322_message_hash_and_virtual_transactions_match() {
    let d = vectors("bip322-basic-test-vectors.json");
    for case in d["tx_hashes"].as_array().unwrap() {
        let message = s(case, "message").as_bytes();
        assert_eq!(
            hex::encode(bip322::message_hash(message)),
            s(case, "message_hash")
        );
        let spk = parse_address(s(case, "address")).unwrap().script_pubkey();
        let spend = bip322::to_spend(&spk, message);
        assert_eq!(
            spend.compute_txid().to_string(),
            s(case, "to_spend_tx_hash")
        );
        let sign = bip322::to_sign(&spend, bitcoin::Witness::new());
        assert_eq!(sign.compute_txid().to_string(), s(case, "to_sign_tx_hash"));
    }
}

#[test]
fn bip322_vectors_verify_or_are_refused_as_unsupported() {
    let mut verified = 0;
    for file in [
        "bip322-basic-test-vectors.json",
        "bip322-generated-test-vectors.json",
    ] {
        let d = vectors(file);
        for format in ["simple", "full", "proof_of_funds"] {
            let Some(cases) = d.get(format).and_then(|v| v.as_array()) else {
                continue;
            };
            for case in cases {
                let kind = s(case, "type");
                for signature in case["bip322_signatures"].as_array().unwrap() {
                    let result = verify(
                        s(case, "address"),
                        s(case, "message"),
                        signature.as_str().unwrap(),
                    );
                    if supported(kind, format) {
                        let want = if format == "simple" {
                            SignatureFormat::Bip322Simple
                        } else {
                            SignatureFormat::Bip322Full
                        };
                        assert_eq!(result, Ok(want), "{file} {format} {kind}");
                        verified += 1;
                    } else {
                        assert!(
                            matches!(result, Err(VerifyError::Unsupported { .. })),
                            "{file} {format} {kind}: {result:?}"
                        );
                    }
                }
            }
        }
        for case in d["error"].as_array().unwrap() {
            let result = verify(s(case, "address"), s(case, "message"), s(case, "signature"));
            assert!(
                result.is_err(),
                "{file}: {} was accepted",
                s(case, "description")
            );
        }
    }
    assert!(verified >= 9, "{verified} verified");
}

#[test]
fn bip322_simple_signing_round_trips_for_p2wpkh_and_p2tr() {
    let d = vectors("bip322-generated-test-vectors.json");
    for case in d["simple"].as_array().unwrap() {
        let kind = s(case, "type");
        if !supported(kind, "simple") {
            continue;
        }
        let key: bitcoin::PrivateKey = case["private_keys"][0].as_str().unwrap().parse().unwrap();
        let address = parse_address(s(case, "address")).unwrap();
        let message = s(case, "message");
        let signature = sign_bip322_simple(&key.inner, &address, message).unwrap();
        assert_eq!(
            verify_message(&address, message, &signature),
            Ok(SignatureFormat::Bip322Simple)
        );
        // With the 2026 prefix as well.
        assert_eq!(
            verify_message(&address, message, &format!("smp{signature}")),
            Ok(SignatureFormat::Bip322Simple)
        );
        assert!(verify_message(&address, "another message", &signature).is_err());
    }
}

#[test]
fn hot_wallet_signs_challenges_for_every_script_type() {
    let wallet = HotWallet::from_seed(&[7u8; 32], wallet::Network::Testnet).unwrap();
    let message = "I confirm my bitcoin wallet. [7v7t4Fmb]";
    for script_type in ScriptType::ALL {
        let descriptor = wallet.account_descriptor(script_type).unwrap();
        let key = PayoutKey::parse(&descriptor, None, Some(wallet::Network::Testnet)).unwrap();
        assert_eq!(key.script_type(), script_type);
        let path: KeyPath = "0/3".parse().unwrap();
        let address = key.address_at(&path).unwrap().address;
        let signature = wallet.sign(script_type, &path, message).unwrap();
        let format = verify_message(&address, message, &signature).unwrap();
        let want = match script_type {
            ScriptType::P2pkh => SignatureFormat::Legacy,
            ScriptType::P2tr => SignatureFormat::Bip322Simple,
            _ => SignatureFormat::Electrum,
        };
        assert_eq!(format, want, "{script_type}");
        // The account xpub in SLIP-132 form derives the same address.
        let slip = PayoutKey::parse(&key.slip132_string(), Some(script_type), None).unwrap();
        assert_eq!(slip.address_at(&path).unwrap().address, address);
        // Another index's key is refused, naming the signer.
        let other = wallet
            .sign(script_type, &"0/4".parse().unwrap(), message)
            .unwrap();
        assert!(verify_message(&address, message, &other).is_err());
        // BIP-137 headers verify for segwit v0 as well.
        if matches!(script_type, ScriptType::P2wpkh | ScriptType::P2shP2wpkh) {
            let secret = wallet.secret_key(script_type, &path).unwrap();
            let bip137 = sign_legacy(&secret, script_type, message, LegacyStyle::Bip137).unwrap();
            assert_eq!(
                verify_message(&address, message, &bip137),
                Ok(SignatureFormat::Bip137)
            );
        }
    }
}
