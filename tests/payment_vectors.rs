//! Payment vectors (`payments.json`): ISO 11649 references, IBANs, EPC069-12
//! and Swiss QR-bill payloads, parsed and rebuilt (fields compared, not bytes).
#![allow(clippy::unwrap_used)]

mod common;

use common::{s, vectors};
use pocket_dca::payment::{
    CreditorReference, EpcTransfer, Iban, QrImage, SwissAddress, SwissBill, SwissReference,
    parse_epc, parse_swiss,
};
use rust_decimal::Decimal;

#[test]
fn creditor_references_are_classified_created_and_formatted() {
    let d = vectors("payments.json");
    let group = &d["iso11649_creditor_reference"];
    for case in group["vectors"].as_array().unwrap() {
        let text = s(case, "reference");
        let result = CreditorReference::parse(text);
        assert_eq!(
            result.is_ok(),
            case["expected_valid"].as_bool().unwrap(),
            "{text}: {result:?}"
        );
    }
    for case in group["create"].as_array().unwrap() {
        let created = CreditorReference::create(s(case, "input")).unwrap();
        assert_eq!(created.as_str(), s(case, "expected"));
    }
    for case in group["format"].as_array().unwrap() {
        let parsed = CreditorReference::parse(s(case, "input")).unwrap();
        assert_eq!(parsed.formatted(), s(case, "expected"));
    }
}

#[test]
fn ibans_are_classified_with_the_qr_iban_flag() {
    let d = vectors("payments.json");
    for case in d["iban"]["vectors"].as_array().unwrap() {
        let text = s(case, "iban");
        let result = Iban::parse(text);
        assert_eq!(
            result.is_ok(),
            case["expected_valid"].as_bool().unwrap(),
            "{text}: {result:?}"
        );
        if let (Ok(iban), Some(flag)) = (&result, case["qr_iban"].as_bool()) {
            assert_eq!(iban.is_qr_iban(), flag, "{text}");
        }
    }
    let iban = Iban::parse("ch94 0077 8214 7683 0200 2").unwrap();
    assert_eq!(iban.as_str(), "CH9400778214768302002");
    assert_eq!(iban.formatted(), "CH94 0077 8214 7683 0200 2");
    let err = Iban::parse("DE89370400440532013001").unwrap_err();
    assert!(err.to_string().contains("DE89370400440532013001"), "{err}");
}

#[test]
fn epc_examples_parse_to_their_fields() {
    let d = vectors("payments.json");
    for case in d["epc069_12"]["examples"].as_array().unwrap() {
        let parsed = parse_epc(s(case, "text")).unwrap();
        let fields = serde_json::to_value(&parsed).unwrap();
        assert_eq!(fields, case["fields"], "{}", s(case, "name"));
        if let Some(texts) = case["equivalent_texts"].as_array() {
            for text in texts {
                assert_eq!(parse_epc(text.as_str().unwrap()).unwrap(), parsed);
            }
        }
    }
}

#[test]
fn epc_payload_we_build_carries_the_reference_in_the_structured_field() {
    let d = vectors("payments.json");
    let case = d["epc069_12"]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "segno-structured-reference")
        .unwrap();
    let transfer = EpcTransfer {
        bic: None,
        name: "Franz Mustermann".into(),
        iban: Iban::parse("DE89370400440532013000").unwrap(),
        amount: Decimal::new(1230, 2),
        reference: CreditorReference::parse("RF18539007547034").unwrap(),
        information: None,
    };
    let payload = transfer.payload().unwrap();
    let fields = serde_json::to_value(parse_epc(&payload).unwrap()).unwrap();
    assert_eq!(fields, case["fields"]);
    // More than two decimals is refused rather than rounded.
    let mut bad = transfer.clone();
    bad.amount = Decimal::new(10001, 3);
    assert!(bad.payload().is_err());
}

fn swiss_fields(bill: &SwissBill) -> serde_json::Value {
    serde_json::json!({
        "qr_type": "SPC",
        "version": "0200",
        "coding": "1",
        "account": bill.account.as_str(),
        "creditor": bill.creditor,
        "ultimate_creditor": null,
        "amount": bill.amount.map(|a| { let mut a = a; a.rescale(2); a.to_string() }),
        "currency": bill.currency,
        "debtor": bill.debtor,
        "reference_type": bill.reference.type_code(),
        "reference": bill.reference.text(),
        "unstructured_message": bill.message,
        "trailer": "EPD",
        "billing_information": bill.billing_information,
        "alternative_procedures": bill.alternative_procedures,
    })
}

/// The vector's fields with empty optional values normalised the way the
/// parser reports them.
fn normalised(expected: &serde_json::Value) -> serde_json::Value {
    let mut v = expected.clone();
    let obj = v.as_object_mut().unwrap();
    for (key, empty) in [
        ("amount", serde_json::Value::Null),
        ("reference", serde_json::json!("")),
        ("unstructured_message", serde_json::json!("")),
        ("billing_information", serde_json::json!("")),
    ] {
        let value = obj.get(key).cloned().unwrap_or(serde_json::Value::Null);
        if value.is_null() || value == "" {
            obj.insert(key.into(), empty);
        }
    }
    if obj
        .get("alternative_procedures")
        .is_none_or(|v| v.is_null())
    {
        obj.insert("alternative_procedures".into(), serde_json::json!([]));
    }
    v
}

#[test]
fn swiss_qr_bill_examples_round_trip_and_invalid_pairings_are_refused() {
    let d = vectors("payments.json");
    let group = &d["swiss_qr_bill"];
    for case in group["examples"].as_array().unwrap() {
        let name = s(case, "name");
        let lines: Vec<&str> = case["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let text = lines.join(s(case, "separator"));
        let bill = parse_swiss(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(swiss_fields(&bill), normalised(&case["fields"]), "{name}");
        // Our serialisation parses back to the same bill.
        let rebuilt = parse_swiss(&bill.payload().unwrap()).unwrap();
        assert_eq!(rebuilt, bill, "{name}");
        // CR LF works as well as LF.
        assert_eq!(parse_swiss(&lines.join("\r\n")).unwrap(), bill);
    }
    for case in group["invalid_examples"].as_array().unwrap() {
        let lines: Vec<&str> = case["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let err = parse_swiss(&lines.join("\n")).unwrap_err();
        assert!(err.to_string().contains("QR"), "{}: {err}", s(case, "name"));
    }
}

#[test]
fn pocket_chf_order_builds_a_scor_bill_with_a_split_street() {
    let bill = SwissBill {
        account: Iban::parse("CH9400778214768302002").unwrap(),
        creditor: SwissAddress::structured(
            "Pocket App",
            "Industriestrasse 33",
            "5242",
            "Lupfig",
            "CH",
        ),
        amount: Some(Decimal::new(10000, 2)),
        currency: "CHF".into(),
        debtor: None,
        reference: SwissReference::Scor(CreditorReference::parse("RF18GW8K79").unwrap()),
        message: "Bitcoin DCA December 2026".into(),
        billing_information: String::new(),
        alternative_procedures: Vec::new(),
    };
    let payload = bill.payload().unwrap();
    let lines: Vec<&str> = payload.split('\n').collect();
    assert_eq!(lines.len(), 31);
    assert_eq!(
        &lines[4..11],
        [
            "S",
            "Pocket App",
            "Industriestrasse",
            "33",
            "5242",
            "Lupfig",
            "CH"
        ]
    );
    assert_eq!(lines[18], "100.00");
    assert_eq!(&lines[27..29], ["SCOR", "RF18GW8K79"]);
    assert_eq!(parse_swiss(&payload).unwrap(), bill);
    // A QR reference with this ordinary IBAN is refused.
    let mut wrong = bill.clone();
    wrong.reference = SwissReference::Qrr("210000000003139471430009017".into());
    assert!(wrong.payload().is_err());
    // The symbol carries the cross and renders.
    let image = QrImage::new(&payload, true).unwrap();
    assert!(image.to_svg(200).contains("<rect"));
}
