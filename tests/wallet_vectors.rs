//! The public vectors of `tests/fixtures/vectors/` (copied from
//! `../shared/vectors/`) against the wallet module: extended keys and
//! derivation (BIP-32/44/49/84/86, SLIP-132), descriptors (BIP-380 to 389).
#![allow(clippy::unwrap_used)]

mod common;

use common::{s, vectors};
use pocket_dca::wallet::{self, KeyForm, KeyPath, PayoutKey, ScriptType};

fn script_type(name: &str) -> ScriptType {
    name.parse().unwrap()
}

#[test]
fn bip32_test_vector_1_public_keys_parse_and_reencode() {
    let d = vectors("derivation.json");
    for chain in d["bip32_test_vector_1"]["chains"].as_array().unwrap() {
        let text = s(chain, "xpub");
        let key = PayoutKey::parse(text, None, None).unwrap();
        assert_eq!(key.plain_string(), text);
        assert_eq!(key.script_type(), ScriptType::P2pkh);
    }
}

#[test]
fn bip32_public_derivation_gives_the_published_child_keys() {
    let d = vectors("derivation.json");
    let group = &d["bip32_public_derivation"];
    for case in group["cases"].as_array().unwrap() {
        let parent = PayoutKey::parse(s(case, "parent_xpub"), None, None).unwrap();
        let steps: Vec<u32> = s(case, "derive")
            .split('/')
            .map(|p| p.parse().unwrap())
            .collect();
        let chain = parent.chain(&steps).unwrap();
        assert_eq!(
            chain.extended_key().to_string(),
            s(case, "expected_xpub"),
            "{}",
            s(case, "expected_path")
        );
    }
    for case in group["must_fail"].as_array().unwrap() {
        let parent = PayoutKey::parse(s(case, "parent_xpub"), None, None).unwrap();
        let err = parent.parse_path(s(case, "derive")).unwrap_err();
        assert!(
            matches!(err, wallet::Error::HardenedStep { .. }),
            "{}: {err}",
            s(case, "derive")
        );
    }
}

#[test]
fn every_invalid_key_of_bip32_test_vector_5_is_refused() {
    let d = vectors("derivation.json");
    let keys = d["bip32_test_vector_5_invalid_keys"]["keys"]
        .as_array()
        .unwrap();
    assert_eq!(keys.len(), 16);
    for case in keys {
        let text = s(case, "key");
        let reason = s(case, "reason");
        let err = PayoutKey::parse(text, None, None).unwrap_err();
        let expected_kind = if reason.contains("checksum") {
            err == wallet::Error::BadChecksum
        } else if text.starts_with("xprv") {
            // A watch-only parser refuses every private key.
            matches!(err, wallet::Error::PrivateKey { .. })
        } else if reason.contains("unknown extended key version") {
            matches!(err, wallet::Error::UnknownVersion { .. })
        } else {
            matches!(err, wallet::Error::InvalidExtendedKey { .. })
        };
        assert!(expected_kind, "{reason}: got `{err}`");
        if let wallet::Error::InvalidExtendedKey { reason: got } = &err {
            let published = reason.split(' ').take(2).collect::<Vec<_>>().join(" ");
            assert!(
                got.contains(&published) || reason.contains("mismatch"),
                "{reason} vs {got}"
            );
        }
    }
}

#[test]
fn abandon_mnemonic_accounts_derive_the_published_addresses() {
    let d = vectors("derivation.json");
    let accounts = d["abandon_mnemonic"]["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 8);
    for account in accounts {
        let kind = script_type(s(account, "script_type"));
        let slip132 =
            PayoutKey::parse(s(account, "account_key_slip132"), Some(kind), None).unwrap();
        let plain = PayoutKey::parse(s(account, "account_key_plain"), Some(kind), None).unwrap();
        // Both serialisations decode to the same key data.
        assert_eq!(slip132.xpub(), plain.xpub());
        assert_eq!(slip132.script_type(), kind);
        assert_eq!(slip132.slip132_string(), s(account, "account_key_slip132"));
        assert_eq!(plain.plain_string(), s(account, "account_key_plain"));
        if account["slip132_prefix"] != "xpub" && account["slip132_prefix"] != "tpub" {
            // The SLIP-132 prefix alone fixes the type.
            let implied = PayoutKey::parse(s(account, "account_key_slip132"), None, None).unwrap();
            assert_eq!(implied.script_type(), kind);
        }
        let network = if account["network"] == "mainnet" {
            wallet::Network::Bitcoin
        } else {
            wallet::Network::Testnet
        };
        assert_eq!(slip132.network(), network);
        for row in account["addresses"].as_array().unwrap() {
            let path: KeyPath = s(row, "path").parse().unwrap();
            for key in [&slip132, &plain] {
                let derived = key.address_at(&path).unwrap();
                assert_eq!(derived.address.to_string(), s(row, "address"));
                assert_eq!(
                    hex::encode(derived.script_pubkey().as_bytes()),
                    s(row, "script_pubkey")
                );
            }
        }
    }
}

#[test]
fn pocket_api_example_xpub_at_0_1_is_the_signed_address() {
    let d = vectors("derivation.json");
    for example in d["third_party_xpub_examples"]["examples"]
        .as_array()
        .unwrap()
    {
        let kind = script_type(s(example, "script_type"));
        let key = PayoutKey::parse(s(example, "extended_public_key"), Some(kind), None).unwrap();
        let path = key.parse_path(s(example, "derivation_path")).unwrap();
        assert_eq!(
            key.address_at(&path).unwrap().address.to_string(),
            s(example, "expected_address")
        );
        if let Some(plain) = example["extended_public_key_plain"].as_str() {
            assert_eq!(key.plain_string(), plain);
        }
    }
    let pocket = PayoutKey::parse(
        "xpub6C9cxxj5hCqTY7sYeofQPA4nXuLJpL5xBL5F874n8hremDiwrWPsPBmxjJxHqBL7jwxKy33j4uJmHXQSNxRegEY2MukehJUe8s4mBkaFGBU",
        None,
        None,
    )
    .unwrap();
    assert_eq!(
        pocket
            .address_at(&"0/1".parse().unwrap())
            .unwrap()
            .address
            .to_string(),
        "17wvJajWQjoVJuJe31tuiDs4MmVeBfSvGY"
    );
}

#[test]
fn a_run_of_addresses_equals_one_by_one_derivation() {
    let key = PayoutKey::parse(
        "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs",
        None,
        None,
    )
    .unwrap();
    let chain = key.chain(&[0]).unwrap();
    let run: Vec<_> = chain.addresses(3, 5).unwrap().map(|a| a.unwrap()).collect();
    for derived in run {
        let single = key.address_at(&derived.path).unwrap();
        assert_eq!(single, derived);
    }
    assert!(matches!(
        chain.addresses(2_147_483_640, 10),
        Err(wallet::Error::IndexOverflow { .. })
    ));
}

// ---------------------------------------------------------------- descriptors

#[test]
fn bip380_checksums_are_verified() {
    let d = vectors("descriptors.json");
    for case in d["bip380_checksum"]["cases"].as_array().unwrap() {
        let err = PayoutKey::parse(s(case, "descriptor"), None, None).unwrap_err();
        // raw() is no payout form: a descriptor that passes the checksum gets
        // as far as the shape check; a bad checksum is refused as such.
        match s(case, "expected") {
            "valid" | "no_checksum" => assert!(
                matches!(err, wallet::Error::UnsupportedDescriptor { .. }),
                "{}: {err}",
                s(case, "description")
            ),
            _ => assert!(
                matches!(err, wallet::Error::DescriptorChecksum { .. }),
                "{}: {err}",
                s(case, "description")
            ),
        }
    }
}

#[test]
fn bip380_key_expressions_are_classified() {
    let d = vectors("descriptors.json");
    let group = &d["bip380_key_expressions"];
    for case in group["valid"].as_array().unwrap() {
        let expression = s(case, "expression");
        let result = PayoutKey::parse(&format!("pkh({expression})"), None, None);
        let description = s(case, "description");
        match result {
            Ok(key) => {
                assert!(expression.ends_with("/*"), "{description}");
                assert!(matches!(key.form(), KeyForm::Descriptor { .. }));
            }
            Err(err) => {
                let acceptable = if description.contains("private") {
                    matches!(err, wallet::Error::PrivateKey { .. })
                } else {
                    matches!(
                        err,
                        wallet::Error::UnsupportedDescriptor { .. }
                            | wallet::Error::DescriptorNotRanged
                            | wallet::Error::HardenedStep { .. }
                    )
                };
                assert!(acceptable, "{description}: {err}");
            }
        }
    }
    for case in group["invalid"].as_array().unwrap() {
        let expression = s(case, "expression");
        let result = PayoutKey::parse(&format!("pkh({expression})"), None, None);
        assert!(result.is_err(), "{} was accepted", s(case, "description"));
    }
}

#[test]
fn bip381_382_386_script_vectors_derive_or_are_refused() {
    let d = vectors("descriptors.json");
    let mut derived = 0;
    for case in d["script_vectors"]["vectors"].as_array().unwrap() {
        let text = s(case, "descriptor");
        let result = PayoutKey::parse(text, None, None);
        if case["contains_private_key"].as_bool().unwrap() {
            assert!(
                matches!(result, Err(wallet::Error::PrivateKey { .. })),
                "{text}: {result:?}"
            );
            continue;
        }
        match result {
            Ok(key) => {
                let KeyForm::Descriptor { chains } = key.form() else {
                    panic!("{text} is not a descriptor form")
                };
                let index = case["index"].as_u64().unwrap() as u32;
                let address = key.chain(&chains[0]).unwrap().address(index).unwrap();
                assert_eq!(
                    hex::encode(address.script_pubkey().as_bytes()),
                    s(case, "script_pubkey"),
                    "{text} at {index}"
                );
                derived += 1;
            }
            Err(err) => assert!(
                matches!(
                    err,
                    wallet::Error::UnsupportedDescriptor { .. }
                        | wallet::Error::DescriptorNotRanged
                ),
                "{text}: {err}"
            ),
        }
    }
    assert_eq!(derived, 3, "the ranged wpkh(xpub/1/2/*) rows");
}

#[test]
fn published_invalid_descriptors_are_refused() {
    let d = vectors("descriptors.json");
    for case in d["invalid_descriptors"]["vectors"].as_array().unwrap() {
        let result = PayoutKey::parse(s(case, "descriptor"), None, None);
        assert!(result.is_err(), "{} accepted", s(case, "reason"));
    }
}

#[test]
fn abandon_account_descriptors_derive_and_render_with_their_checksums() {
    let d = vectors("descriptors.json");
    for case in d["abandon_account_descriptors"]["vectors"]
        .as_array()
        .unwrap()
    {
        let text = s(case, "descriptor");
        let key = PayoutKey::parse(text, None, None).unwrap();
        let rows: Vec<serde_json::Value> = if case["multipath"].as_bool().unwrap() {
            case["expected"].as_array().unwrap().clone()
        } else {
            vec![case.clone()]
        };
        for row in rows {
            let path = KeyPath::new(
                vec![row["chain"].as_u64().unwrap() as u32],
                row["index"].as_u64().unwrap() as u32,
            )
            .unwrap();
            let derived = key.address_at(&path).unwrap();
            assert_eq!(derived.address.to_string(), s(&row, "address"), "{text}");
            assert_eq!(
                hex::encode(derived.script_pubkey().as_bytes()),
                s(&row, "script_pubkey")
            );
        }
        if case["notation"] == "apostrophe" {
            let chain = [case["chain"].as_u64().unwrap() as u32];
            assert_eq!(key.descriptor_string(&chain), text);
        }
    }
}

#[test]
fn slip132_key_inside_a_descriptor_is_refused() {
    let d = vectors("descriptors.json");
    for case in d["slip132_key_in_descriptor"]["vectors"]
        .as_array()
        .unwrap()
    {
        let err = PayoutKey::parse(s(case, "descriptor"), None, None).unwrap_err();
        assert_eq!(err, wallet::Error::Slip132InDescriptor { prefix: "zpub" });
    }
}

#[test]
fn zpub_and_its_descriptor_give_the_same_addresses() {
    let zpub = PayoutKey::parse(
        "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs",
        None,
        None,
    )
    .unwrap();
    let descriptor = PayoutKey::parse(
        "wpkh([73c5da0a/84'/0'/0']xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V/0/*)",
        None,
        None,
    )
    .unwrap();
    let a: Vec<_> = zpub
        .chain(&[0])
        .unwrap()
        .addresses(0, 20)
        .unwrap()
        .map(|a| a.unwrap())
        .collect();
    let b: Vec<_> = descriptor
        .chain(&[0])
        .unwrap()
        .addresses(0, 20)
        .unwrap()
        .map(|a| a.unwrap())
        .collect();
    assert_eq!(a, b);
    assert_eq!(
        a[0].address.to_string(),
        "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
    );
    // A path off the descriptor's chain is refused with the chain named.
    let err = descriptor.parse_path("1/0").unwrap_err();
    assert!(err.to_string().contains("0/*"), "{err}");
}

#[test]
fn keys_for_another_network_are_refused() {
    let tpub = "tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M";
    let err = PayoutKey::parse(tpub, None, Some(wallet::Network::Bitcoin)).unwrap_err();
    assert!(matches!(err, wallet::Error::NetworkMismatch { .. }));
    let text = err.to_string();
    assert!(
        text.contains("test network") && text.contains("bitcoin"),
        "{text}"
    );
    // Signet and regtest share the test key versions; regtest has its own HRP.
    let key = PayoutKey::parse(
        tpub,
        Some(ScriptType::P2wpkh),
        Some(wallet::Network::Regtest),
    )
    .unwrap();
    let address = key
        .address_at(&"0/0".parse().unwrap())
        .unwrap()
        .address
        .to_string();
    assert!(address.starts_with("bcrt1q"), "{address}");
}
