//! Verification of a secured credential, reported check by check so a person can see why a
//! credential was refused. Checks: `structure` (VC 2.0 shape), `proof` (Data Integrity proof by a key
//! of the issuer for `assertionMethod`), `validFrom`, `validUntil` and `status` (Bitstring Status
//! List entries, looked up by the caller's callback).

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::multibase::preview;
use crate::proof::{self, ASSERTION_METHOD, DATA_INTEGRITY_PROOF};
use crate::status::StatusEntry;
use crate::{CredentialError, VC_V2_CONTEXT, datetime, didkey};

/// The outcome of one check; `detail` says what was found either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `structure`, `proof`, `validFrom`, `validUntil` or `status`.
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// Every check that ran; `verified` only when all passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub verified: bool,
    pub checks: Vec<Check>,
}

impl Verification {
    /// The check called `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

/// Verifies `credential` at time `now`. `status` is asked about each `revocation` or `suspension`
/// entry and answers `Ok(true)` when the bit is set; an `Err` (e.g. a list the caller does not
/// know) fails the `status` check with that error as the detail.
pub fn verify(
    credential: &Value,
    now: OffsetDateTime,
    status: &dyn Fn(&StatusEntry) -> Result<bool, CredentialError>,
) -> Verification {
    let checks = vec![
        outcome("structure", check_structure(credential)),
        outcome("proof", check_proof(credential, now)),
        outcome("validFrom", check_valid_from(credential, now)),
        outcome("validUntil", check_valid_until(credential, now)),
        outcome("status", check_status(credential, status)),
    ];
    Verification { verified: checks.iter().all(|c| c.ok), checks }
}

fn outcome(name: &'static str, result: Result<String, String>) -> Check {
    match result {
        Ok(detail) => Check { name, ok: true, detail },
        Err(detail) => Check { name, ok: false, detail },
    }
}

fn check_structure(credential: &Value) -> Result<String, String> {
    let document = credential.as_object().ok_or("the credential is not a JSON object")?;
    let mut problems = Vec::new();
    match document.get("@context").and_then(Value::as_array).and_then(|c| c.first()) {
        Some(Value::String(first)) if first == VC_V2_CONTEXT => {}
        _ => problems.push(format!("@context must be an array starting with {VC_V2_CONTEXT:?}")),
    }
    let types = strings(document.get("type"));
    if !types.contains(&"VerifiableCredential") {
        problems.push("type must include \"VerifiableCredential\"".to_owned());
    }
    if let Err(e) = issuer_id(document) {
        problems.push(e);
    }
    match document.get("credentialSubject") {
        Some(Value::Object(_)) => {}
        Some(Value::Array(subjects)) if !subjects.is_empty() && subjects.iter().all(Value::is_object) => {}
        _ => problems.push("credentialSubject must be an object or a non-empty array of objects".to_owned()),
    }
    if let Some(id) = document.get("id")
        && !id.is_string()
    {
        problems.push("id must be a string (a URL)".to_owned());
    }
    if problems.is_empty() {
        Ok(format!("a Verifiable Credential of type {}", types.join(", ")))
    } else {
        Err(problems.join("; "))
    }
}

fn check_proof(credential: &Value, now: OffsetDateTime) -> Result<String, String> {
    let proof = proof::proof_of(credential).map_err(|e| e.to_string())?;
    let field = |name: &str| proof::proof_str(proof, name).map_err(|e| e.to_string());
    let kind = field("type")?;
    if kind != DATA_INTEGRITY_PROOF {
        return Err(format!("proof type {} is not supported (only {DATA_INTEGRITY_PROOF})", preview(kind)));
    }
    let suite_name = field("cryptosuite")?;
    let suite = proof::suite(suite_name).ok_or_else(|| {
        format!("unknown cryptosuite {} (supported: {})", preview(suite_name), proof::suite_names().join(", "))
    })?;
    let purpose = field("proofPurpose")?;
    if purpose != ASSERTION_METHOD {
        return Err(format!("proofPurpose is {}; an issuer's proof must be {ASSERTION_METHOD:?}", preview(purpose)));
    }
    let method = field("verificationMethod")?;
    let key = didkey::resolve_verification_method(method).map_err(|e| e.to_string())?;
    let issuer = credential.as_object().ok_or("the credential is not a JSON object").and_then(|d| {
        issuer_id(d).map_err(|_| "the credential has no issuer id to match the verification method against")
    })?;
    if didkey::controller_of(method) != issuer {
        return Err(format!("verification method {} is not a key of the issuer {}", preview(method), preview(issuer)));
    }
    if proof.contains_key("expires") {
        let expires = datetime::parse(field("expires")?).map_err(|e| format!("proof expires: {e}"))?;
        if now >= expires {
            return Err(format!("the proof expired at {}", datetime::format(expires)));
        }
    }
    suite.verify(credential, &key).map_err(|e| e.to_string())?;
    Ok(format!("{suite_name} signature by the issuer's key {} verifies", preview(method)))
}

fn check_valid_from(credential: &Value, now: OffsetDateTime) -> Result<String, String> {
    let text = credential.get("validFrom").ok_or("validFrom is missing")?;
    let from = parse_date(text, "validFrom")?;
    if now < from {
        return Err(format!(
            "not valid yet: valid from {}, it is now {}",
            datetime::format(from),
            datetime::format(now)
        ));
    }
    Ok(format!("valid since {}", datetime::format(from)))
}

fn check_valid_until(credential: &Value, now: OffsetDateTime) -> Result<String, String> {
    let Some(text) = credential.get("validUntil") else {
        return Ok("no validUntil: the credential does not expire".to_owned());
    };
    let until = parse_date(text, "validUntil")?;
    if now >= until {
        return Err(format!("expired at {}, it is now {}", datetime::format(until), datetime::format(now)));
    }
    Ok(format!("valid until {}", datetime::format(until)))
}

fn check_status(
    credential: &Value,
    status: &dyn Fn(&StatusEntry) -> Result<bool, CredentialError>,
) -> Result<String, String> {
    let entries = match credential.get("credentialStatus") {
        None => return Ok("no credentialStatus: the issuer cannot revoke this credential".to_owned()),
        Some(Value::Array(entries)) if !entries.is_empty() => entries.iter().collect(),
        Some(Value::Array(_)) => return Err("credentialStatus is an empty array".to_owned()),
        Some(entry) => vec![entry],
    };
    let mut findings = Vec::new();
    for raw in entries {
        let entry = StatusEntry::from_json(raw).map_err(|e| e.to_string())?;
        let (set_means, clear_means) = match entry.purpose.as_str() {
            "revocation" => ("revoked", "not revoked"),
            "suspension" => ("suspended", "not suspended"),
            // A refresh status never invalidates a credential.
            "refresh" => continue,
            other => return Err(format!("statusPurpose {} is not supported", preview(other))),
        };
        let at = format!("{} index {}", preview(&entry.list_credential), entry.list_index);
        match status(&entry) {
            Ok(true) => return Err(format!("the credential is {set_means} ({at})")),
            Ok(false) => findings.push(format!("{clear_means} ({at})")),
            Err(e) => return Err(format!("the {} status could not be checked ({at}): {e}", entry.purpose)),
        }
    }
    Ok(if findings.is_empty() { "no revocation or suspension entry".to_owned() } else { findings.join("; ") })
}

fn issuer_id(document: &Map<String, Value>) -> Result<&str, String> {
    match document.get("issuer") {
        Some(Value::String(id)) => Ok(id),
        Some(Value::Object(issuer)) => {
            issuer.get("id").and_then(Value::as_str).ok_or_else(|| "issuer has no string id".to_owned())
        }
        Some(_) => Err("issuer must be a URL or an object with an id".to_owned()),
        None => Err("issuer is missing".to_owned()),
    }
}

fn parse_date(value: &Value, name: &str) -> Result<OffsetDateTime, String> {
    let text = value.as_str().ok_or_else(|| format!("{name} is not a string"))?;
    datetime::parse(text).map_err(|e| format!("{name}: {e}"))
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
