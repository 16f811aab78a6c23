use super::*;
use flate2::write::GzEncoder;
use serde_json::json;
use time::macros::datetime;

/// The all-clear 16 KiB list from the spec's "Example BitstringStatusListCredential".
const SPEC_EMPTY_LIST: &str = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

fn gzip(bytes: &[u8]) -> String {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    encode_base64url(&gz.finish().unwrap())
}

#[test]
fn decodes_the_spec_example() {
    let list = StatusList::decode(SPEC_EMPTY_LIST).unwrap();
    assert_eq!(list.len(), MIN_ENTRIES);
    assert!((0..MIN_ENTRIES).all(|i| !list.get(i).unwrap()));
    assert_eq!(list, StatusList::new());
}

#[test]
fn index_zero_is_the_left_most_bit() {
    let mut list = StatusList::new();
    list.set(0, true).unwrap();
    list.set(9, true).unwrap();
    list.set(MIN_ENTRIES - 1, true).unwrap();
    assert_eq!(list.bits[0], 0b1000_0000);
    assert_eq!(list.bits[1], 0b0100_0000);
    assert_eq!(list.bits[list.bits.len() - 1], 0b0000_0001);
}

#[test]
fn set_get_round_trip_through_encoding() {
    let indexes = [0, 1, 7, 8, 94_567, 131_071];
    let mut list = StatusList::new();
    for &i in &indexes {
        list.set(i, true).unwrap();
    }
    list.set(8, false).unwrap();
    let decoded = StatusList::decode(&list.encode()).unwrap();
    assert!(list.encode().starts_with("uH4sI"), "GZIP magic in base64url");
    for i in 0..MIN_ENTRIES {
        let expected = indexes.contains(&i) && i != 8;
        assert_eq!(decoded.get(i).unwrap(), expected, "index {i}");
    }
}

#[test]
fn out_of_range_is_an_error_not_a_panic() {
    let mut list = StatusList::new();
    for index in [MIN_ENTRIES, u64::MAX] {
        assert!(matches!(list.get(index), Err(CredentialError::StatusIndexOutOfRange { .. })));
        assert!(list.set(index, true).is_err());
    }
}

#[test]
fn sizes() {
    assert_eq!(StatusList::with_entries(10).unwrap().len(), MIN_ENTRIES);
    assert_eq!(StatusList::with_entries(MIN_ENTRIES + 1).unwrap().len(), MIN_ENTRIES + 8);
    assert!(StatusList::with_entries(u64::MAX).is_err());
    assert!(!StatusList::new().is_empty());
}

#[test]
fn decode_refuses_bad_input() {
    let cases = [
        ("zabc".to_owned(), "'u'"),
        ("u!!".to_owned(), "base64url"),
        (encode_base64url(b"not gzip"), "GZIP"),
        (gzip(&[0; 1024]), "fewer than the minimum"),
        (gzip(&vec![0; MAX_BYTES + 1]), "beyond"),
    ];
    for (encoded, expected) in cases {
        let err = StatusList::decode(&encoded).unwrap_err().to_string();
        assert!(err.contains(expected), "{expected}: {err}");
    }
}

#[test]
fn entry_json_round_trip() {
    let entry = StatusEntry::new("https://lms.example/status/1", "revocation", 94_567);
    let value = entry.to_json();
    assert_eq!(
        value,
        json!({
            "id": "https://lms.example/status/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://lms.example/status/1",
        })
    );
    assert_eq!(StatusEntry::from_json(&value).unwrap(), entry);
}

#[test]
fn entry_parsing_refuses_malformed_entries() {
    let good = StatusEntry::new("https://lms.example/status/1", "revocation", 5).to_json();
    let cases: [(&str, Value, &str); 9] = [
        ("type", json!("StatusList2021Entry"), "unsupported status type"),
        ("statusListIndex", json!(5), "not a non-empty string"),
        ("statusListIndex", json!("-5"), "base-10"),
        ("statusListIndex", json!("+5"), "base-10"),
        ("statusListIndex", json!("99999999999999999999999"), "base-10"),
        ("statusListIndex", json!(""), "non-empty"),
        ("statusSize", json!(2), "statusSize"),
        ("statusListCredential", Value::Null, "statusListCredential"),
        ("statusPurpose", json!(["revocation"]), "statusPurpose"),
    ];
    for (field, value, expected) in cases {
        let mut entry = good.clone();
        entry[field] = value;
        let err = StatusEntry::from_json(&entry).unwrap_err().to_string();
        assert!(err.contains(expected), "{field}: {err}");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("id");
    assert!(StatusEntry::from_json(&missing).unwrap_err().to_string().contains("id is missing"));
    assert!(StatusEntry::from_json(&json!("x")).is_err());
    let mut one = good;
    one["statusSize"] = json!(1);
    assert!(StatusEntry::from_json(&one).is_ok());
}

#[test]
fn list_credential_shape() {
    let mut list = StatusList::new();
    list.set(3, true).unwrap();
    let vc = status_list_credential(
        "https://lms.example/status/1",
        "did:key:z6Mkexample",
        &list,
        datetime!(2024-06-01 00:00 UTC),
    );
    assert_eq!(vc["@context"], json!([VC_V2_CONTEXT]));
    assert_eq!(vc["type"], json!(["VerifiableCredential", "BitstringStatusListCredential"]));
    assert_eq!(vc["issuer"], "did:key:z6Mkexample");
    assert_eq!(vc["validFrom"], "2024-06-01T00:00:00Z");
    assert_eq!(vc["credentialSubject"]["id"], "https://lms.example/status/1#list");
    assert_eq!(vc["credentialSubject"]["type"], "BitstringStatusList");
    assert_eq!(vc["credentialSubject"]["statusPurpose"], "revocation");
    let decoded = StatusList::decode(vc["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap();
    assert!(decoded.get(3).unwrap());
}
