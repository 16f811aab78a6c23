//! The TUF metadata formats (specification 1.0), their signature checks and
//! TUF's path patterns.
//!
//! Every role's file is `{"signed": {...}, "signatures": [{"keyid", "sig"}]}`.
//! Signatures are made over TUF's canonical JSON form of `signed` (see
//! [`tuf_canonical`]; RFC 8785 signatures are accepted too) and checked over
//! the `signed` value *as received* (parsed as a JSON value, not re-serialised from our structs), so
//! metadata carrying fields this crate does not know still verifies.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::keys::{KEYTYPE, KeyPair, PublicKey, SCHEME};
use crate::{MarketError, canonical};

/// The specification version this crate writes (and the major version it reads).
pub const SPEC_VERSION: &str = "1.0.31";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub keyid: String,
    pub sig: String,
}

/// A metadata file before its `signed` part is trusted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub signed: Value,
    pub signatures: Vec<Signature>,
}

/// The keys of a top-level role, and how many of them must sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleKeys {
    pub keyids: Vec<String>,
    pub threshold: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Root {
    #[serde(rename = "_type")]
    pub kind: String,
    pub spec_version: String,
    #[serde(default)]
    pub consistent_snapshot: bool,
    pub version: u64,
    pub expires: String,
    /// Key id → key. Kept as JSON so keys of types this crate does not
    /// support (which it ignores) do not make the file unreadable.
    pub keys: BTreeMap<String, Value>,
    pub roles: BTreeMap<String, RoleKeys>,
}

/// What the timestamp says of the snapshot, and the snapshot of each targets role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaFile {
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timestamp {
    #[serde(rename = "_type")]
    pub kind: String,
    pub spec_version: String,
    pub version: u64,
    pub expires: String,
    pub meta: BTreeMap<String, MetaFile>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(rename = "_type")]
    pub kind: String,
    pub spec_version: String,
    pub version: u64,
    pub expires: String,
    pub meta: BTreeMap<String, MetaFile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetFile {
    pub length: u64,
    pub hashes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatedRole {
    pub name: String,
    pub keyids: Vec<String>,
    pub threshold: u32,
    #[serde(default)]
    pub terminating: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    /// Hashed bin delegations: not supported, a role delegated this way matches no path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hash_prefixes: Option<Vec<String>>,
}

impl DelegatedRole {
    /// Whether this delegation covers `target_path` (one of its `paths` patterns matches).
    pub fn matches(&self, target_path: &str) -> bool {
        self.paths.as_ref().is_some_and(|ps| ps.iter().any(|p| path_matches(p, target_path)))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Delegations {
    pub keys: BTreeMap<String, Value>,
    /// Absent when a repository uses `succinct_roles` (TAP 15), which this crate does not support.
    #[serde(default)]
    pub roles: Vec<DelegatedRole>,
}

/// The marketplace's revocations, the `x-lectern-revoked` field of the top-level targets role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocations {
    /// Publisher id → reason.
    #[serde(default)]
    pub publishers: BTreeMap<String, String>,
    /// `<plugin id>@<version>` → reason.
    #[serde(default)]
    pub packages: BTreeMap<String, String>,
}

impl Revocations {
    pub fn is_empty(&self) -> bool {
        self.publishers.is_empty() && self.packages.is_empty()
    }

    /// The reason `id@version` was revoked, if it was.
    pub fn package(&self, id: &str, version: &str) -> Option<&str> {
        self.packages.get(&format!("{id}@{version}")).map(String::as_str)
    }

    pub fn publisher(&self, publisher: &str) -> Option<&str> {
        self.publishers.get(publisher).map(String::as_str)
    }
}

/// The name of the top-level targets role's revocation extension field.
pub const REVOKED_FIELD: &str = "x-lectern-revoked";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Targets {
    #[serde(rename = "_type")]
    pub kind: String,
    pub spec_version: String,
    pub version: u64,
    pub expires: String,
    pub targets: BTreeMap<String, TargetFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<Delegations>,
    #[serde(rename = "x-lectern-revoked", default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocations>,
}

impl Targets {
    pub fn empty(version: u64, expires: String) -> Targets {
        Targets {
            kind: "targets".into(),
            spec_version: SPEC_VERSION.into(),
            version,
            expires,
            targets: BTreeMap::new(),
            delegations: None,
            revoked: None,
        }
    }

    pub fn delegated_roles(&self) -> &[DelegatedRole] {
        self.delegations.as_ref().map_or(&[], |d| d.roles.as_slice())
    }

    pub fn delegation(&self, name: &str) -> Option<&DelegatedRole> {
        self.delegated_roles().iter().find(|r| r.name == name)
    }

    /// The supported keys of a delegation of this role, in its `keyids` order.
    pub fn delegation_keys(&self, role: &DelegatedRole) -> Vec<PublicKey> {
        let Some(d) = self.delegations.as_ref() else { return Vec::new() };
        // Only the role's own keys are decoded and checked (a curve-point check
        // each): decoding every key of a list of many publishers per lookup made
        // listing 1,000 targets take most of a second.
        let listed: BTreeMap<String, Value> =
            role.keyids.iter().filter_map(|id| d.keys.get(id).map(|v| (id.clone(), v.clone()))).collect();
        let keys = supported_keys(&listed);
        let mut seen = BTreeSet::new();
        role.keyids
            .iter()
            .filter_map(|id| keys.get(id))
            .filter(|k| seen.insert(k.keyval.public.clone()))
            .cloned()
            .collect()
    }
}

fn malformed(what: &str, detail: impl std::fmt::Display) -> MarketError {
    MarketError::Malformed { what: what.to_string(), detail: detail.to_string() }
}

/// Parses a metadata file's envelope (the `signed` part stays an untyped JSON value).
pub fn parse_envelope(bytes: &[u8], role: &str) -> Result<Envelope, MarketError> {
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| malformed(&format!("{role} metadata"), e))?;
    if !env.signed.is_object() {
        return Err(malformed(&format!("{role} metadata"), "`signed` is not an object"));
    }
    Ok(env)
}

/// The typed `signed` part, after checking its `_type` and `spec_version`.
pub fn typed<T: DeserializeOwned>(env: &Envelope, role: &str, kind: &str) -> Result<T, MarketError> {
    let what = format!("{role} metadata");
    let found = env.signed.get("_type").and_then(Value::as_str).unwrap_or("");
    if found != kind {
        return Err(malformed(&what, format!("_type is {found:?}, expected {kind:?}")));
    }
    let spec = env.signed.get("spec_version").and_then(Value::as_str).unwrap_or("");
    if spec.split('.').next() != Some("1") {
        return Err(malformed(&what, format!("unsupported spec_version {spec:?}")));
    }
    serde_json::from_value(env.signed.clone()).map_err(|e| malformed(&what, e))
}

/// The Ed25519 keys of a `keys` map; keys of other types (or invalid ones) are left out.
pub fn supported_keys(keys: &BTreeMap<String, Value>) -> BTreeMap<String, PublicKey> {
    keys.iter()
        .filter_map(|(id, v)| {
            let key: PublicKey = serde_json::from_value(v.clone()).ok()?;
            (key.keytype == KEYTYPE && key.scheme == SCHEME && key.validate().is_ok()).then(|| (id.clone(), key))
        })
        .collect()
}

/// Checks that at least `threshold` distinct keys among `keyids` (looked up in
/// `keys`) signed the canonical form of `env.signed`. Signatures by other keys
/// do not count. `BadSignature` when too few verify and one by a listed key
/// did not (altered content), `Threshold` otherwise.
pub fn check_signatures(
    env: &Envelope,
    role: &str,
    keys: &BTreeMap<String, PublicKey>,
    keyids: &[String],
    threshold: u32,
) -> Result<(), MarketError> {
    if threshold == 0 {
        return Err(malformed(&format!("{role} role"), "threshold 0"));
    }
    let messages = signed_forms(&env.signed)?;
    let mut valid = BTreeSet::new();
    let mut bad = false;
    for s in &env.signatures {
        if !keyids.contains(&s.keyid) {
            continue;
        }
        let Some(key) = keys.get(&s.keyid) else { continue };
        if messages.iter().any(|m| key.verify(m, &s.sig)) {
            // Distinct keys, not key ids: one key listed under two ids counts once.
            valid.insert(key.keyval.public.clone());
        } else {
            bad = true;
        }
    }
    if valid.len() >= threshold as usize {
        Ok(())
    } else if bad {
        Err(MarketError::BadSignature(format!("{role} metadata")))
    } else {
        Err(MarketError::Threshold { role: role.to_string(), valid: valid.len(), threshold })
    }
}

/// Checks `env` against the keys a root gives the top-level role `role`.
pub fn check_top_level(env: &Envelope, root: &Root, role: &str) -> Result<(), MarketError> {
    let r = root.roles.get(role).ok_or_else(|| malformed("root metadata", format!("no {role} role")))?;
    check_signatures(env, role, &supported_keys(&root.keys), &r.keyids, r.threshold)
}

/// Checks `env` against a delegation made by `delegator`.
pub fn check_delegated(env: &Envelope, delegator: &Targets, role: &DelegatedRole) -> Result<(), MarketError> {
    let keys = delegator.delegations.as_ref().map(|d| supported_keys(&d.keys)).unwrap_or_default();
    check_signatures(env, &role.name, &keys, &role.keyids, role.threshold)
}

pub fn parse_time(what: &str, s: &str) -> Result<OffsetDateTime, MarketError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| malformed(what, format!("expires {s:?}: {e}")))
}

/// `Expired` unless `now` is before `expires`.
pub fn check_expiry(role: &str, expires: &str, now: OffsetDateTime) -> Result<(), MarketError> {
    if now >= parse_time(&format!("{role} metadata"), expires)? {
        return Err(MarketError::Expired { role: role.to_string(), expires: expires.to_string() });
    }
    Ok(())
}

/// `now + valid_for` in TUF's form, `YYYY-MM-DDTHH:MM:SSZ`.
pub fn expires_in(now: OffsetDateTime, valid_for: Duration) -> String {
    let t = (now + valid_for).to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks `bytes` against every supported hash in `hashes` (sha256, sha512);
/// at least one must be supported.
pub fn check_hashes(what: &str, bytes: &[u8], hashes: &BTreeMap<String, String>) -> Result<(), MarketError> {
    let mut checked = 0;
    for (alg, expected) in hashes {
        let actual = match alg.as_str() {
            "sha256" => hex::encode(Sha256::digest(bytes)),
            "sha512" => hex::encode(Sha512::digest(bytes)),
            _ => continue,
        };
        if !actual.eq_ignore_ascii_case(expected) {
            return Err(MarketError::HashMismatch { what: what.to_string(), expected: expected.clone(), actual });
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(malformed(what, "no supported hash (sha256 or sha512)"));
    }
    Ok(())
}

/// Checks the length and hashes a `MetaFile` gives, where it gives them.
pub fn check_meta_file(what: &str, bytes: &[u8], meta: &MetaFile) -> Result<(), MarketError> {
    if let Some(length) = meta.length
        && bytes.len() as u64 != length
    {
        return Err(MarketError::LengthMismatch {
            what: what.to_string(),
            expected: length,
            actual: bytes.len() as u64,
        });
    }
    if let Some(hashes) = &meta.hashes {
        check_hashes(what, bytes, hashes)?;
    }
    Ok(())
}

/// The byte forms a signature over `signed` may have been made over: TUF's
/// canonical JSON (what python-tuf signs) and RFC 8785 (what
/// [`canonical::to_vec`] produces). They are the same bytes unless a string
/// holds a control character (RFC 8785 escapes it, TUF's form does not). No
/// byte string is the TUF form of one value and the RFC 8785 form of
/// another, so accepting either admits nothing more.
fn signed_forms(signed: &Value) -> Result<Vec<Vec<u8>>, MarketError> {
    let jcs = canonical::to_vec(signed)?;
    Ok(match tuf_canonical(signed) {
        Ok(tuf) if tuf != jcs => vec![tuf, jcs],
        _ => vec![jcs],
    })
}

/// TUF's canonical JSON (securesystemslib's `encode_canonical`, after
/// OLPC): object keys sorted, no whitespace, integers only, and in strings
/// only `"` and `\` escaped (everything else, control characters included,
/// written as is).
pub fn tuf_canonical(value: &Value) -> Result<Vec<u8>, MarketError> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    }
    fn write(out: &mut Vec<u8>, v: &Value) -> Result<(), MarketError> {
        match v {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Number(n) if n.is_i64() || n.is_u64() => out.extend_from_slice(n.to_string().as_bytes()),
            Value::Number(n) => return Err(malformed("canonical JSON", format!("{n} is not an integer"))),
            Value::String(s) => string(out, s),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(out, item)?;
                }
                out.push(b']');
            }
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (i, (k, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    string(out, k);
                    out.push(b':');
                    write(out, item)?;
                }
                out.push(b'}');
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    write(&mut out, value)?;
    Ok(out)
}

/// Signs the TUF canonical form of `signed` (any serialisable metadata)
/// with `keys` and returns the file: the envelope as indented JSON.
pub fn sign<T: Serialize>(signed: &T, keys: &[&KeyPair]) -> Result<Vec<u8>, MarketError> {
    let signed = serde_json::to_value(signed).map_err(|e| malformed("metadata", e))?;
    let message = tuf_canonical(&signed)?;
    let mut seen = BTreeSet::new();
    let signatures = keys
        .iter()
        .filter(|k| seen.insert(k.public().key_id()))
        .map(|k| Signature { keyid: k.public().key_id(), sig: k.sign(&message) })
        .collect();
    let mut out = serde_json::to_vec_pretty(&Envelope { signed, signatures }).map_err(|e| malformed("metadata", e))?;
    out.push(b'\n');
    Ok(out)
}

/// TUF's path pattern match: the pattern and the path have the same number of
/// `/`-separated segments and each segment matches shell-style (`*` any run of
/// characters, `?` one character, `[...]`/`[!...]` a class); no wildcard matches `/`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let ps: Vec<&str> = pattern.split('/').collect();
    let ns: Vec<&str> = path.split('/').collect();
    ps.len() == ns.len() && ps.iter().zip(&ns).all(|(p, n)| segment_matches(p, n))
}

enum Token {
    Star,
    Any,
    Lit(char),
    Class { negated: bool, items: Vec<(char, char)> },
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Star => true,
            Token::Any => true,
            Token::Lit(l) => *l == c,
            Token::Class { negated, items } => items.iter().any(|(a, b)| *a <= c && c <= *b) != *negated,
        }
    }
}

fn tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => out.push(Token::Star),
            '?' => out.push(Token::Any),
            '[' => {
                // As Python's fnmatch: `[!` negates, a `]` right after the opening is literal,
                // and an unclosed `[` is a literal `[`.
                let mut j = i + 1;
                let negated = chars.get(j) == Some(&'!');
                if negated {
                    j += 1;
                }
                let start = j;
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push(Token::Lit('['));
                } else {
                    let body = &chars[start..j];
                    let mut items = Vec::new();
                    let mut k = 0;
                    while k < body.len() {
                        if k + 2 < body.len() && body[k + 1] == '-' {
                            items.push((body[k], body[k + 2]));
                            k += 3;
                        } else {
                            items.push((body[k], body[k]));
                            k += 1;
                        }
                    }
                    out.push(Token::Class { negated, items });
                    i = j;
                }
            }
            c => out.push(Token::Lit(c)),
        }
        i += 1;
    }
    out
}

/// Glob match of one segment (linear backtracking on the last `*`).
fn segment_matches(pattern: &str, name: &str) -> bool {
    let toks = tokens(pattern);
    let name: Vec<char> = name.chars().collect();
    let (mut t, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if t < toks.len() && matches!(toks[t], Token::Star) {
            star = Some((t, n));
            t += 1;
        } else if t < toks.len() && toks[t].matches(name[n]) {
            t += 1;
            n += 1;
        } else if let Some((st, sn)) = star {
            t = st + 1;
            n = sn + 1;
            star = Some((st, sn + 1));
        } else {
            return false;
        }
    }
    toks[t..].iter().all(|x| matches!(x, Token::Star))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_patterns() {
        assert!(path_matches("org.lectern.*/*/*", "org.lectern.grading/1.0.0/org.lectern.grading-1.0.0.lpkg"));
        assert!(!path_matches("org.lectern.*/*/*", "org.lecternx.grading/1.0.0/x.lpkg"));
        assert!(!path_matches("org.lectern.*/*/*", "org.other.grading/1.0.0/x.lpkg"));
        // `*` does not cross `/`, and the segment counts must agree.
        assert!(!path_matches("org.lectern.*/*", "org.lectern.grading/1.0.0/x.lpkg"));
        assert!(!path_matches("*", "a/b"));
        assert!(path_matches("*", "a"));
        assert!(path_matches("files/*.txt", "files/a.txt"));
        assert!(!path_matches("files/*.txt", "files/a.tar"));
        assert!(path_matches("a?c/[0-9]*", "abc/1x"));
        assert!(!path_matches("a?c/[!0-9]*", "abc/1x"));
        assert!(path_matches("*a*b*c", "xxaxxbxxcaabbc"));
        assert!(!path_matches("*a*b*c", "xxaxxbxxcaabbcd"));
        assert!(path_matches("[ab", "[ab"));
        assert!(path_matches("", ""));
        assert!(!path_matches("", "a"));
    }

    #[test]
    fn tuf_canonical_json() {
        let v = serde_json::json!({"b": [1, -2, true, null], "a": "x\"y\\z\n\u{e9}", "": {}});
        assert_eq!(
            tuf_canonical(&v).unwrap(),
            "{\"\":{},\"a\":\"x\\\"y\\\\z\n\u{e9}\",\"b\":[1,-2,true,null]}".as_bytes()
        );
        assert!(tuf_canonical(&serde_json::json!({"f": 1.5})).is_err());
        // Without control characters it is RFC 8785.
        let v = serde_json::json!({"b": "caf\u{e9}", "a": [1, {"z": 0, "y": "\"\\"}]});
        assert_eq!(tuf_canonical(&v).unwrap(), canonical::to_vec(&v).unwrap());
        // A signature over either form counts.
        let k = KeyPair::from_seed([9; 32]);
        let signed = serde_json::json!({"reason": "line one\nline two"});
        let keys = BTreeMap::from([(k.public().key_id(), k.public())]);
        let ids = vec![k.public().key_id()];
        for message in [tuf_canonical(&signed).unwrap(), canonical::to_vec(&signed).unwrap()] {
            let env = Envelope {
                signed: signed.clone(),
                signatures: vec![Signature { keyid: ids[0].clone(), sig: k.sign(&message) }],
            };
            assert!(check_signatures(&env, "x", &keys, &ids, 1).is_ok());
        }
    }

    #[test]
    fn expiry_format() {
        let now = OffsetDateTime::from_unix_timestamp(0).unwrap();
        assert_eq!(expires_in(now, Duration::days(1)), "1970-01-02T00:00:00Z");
        assert!(check_expiry("t", "1970-01-02T00:00:00Z", now).is_ok());
        assert!(matches!(check_expiry("t", "1970-01-01T00:00:00Z", now), Err(MarketError::Expired { .. })));
    }

    #[test]
    fn threshold_counts_distinct_keys() {
        let k = KeyPair::from_seed([7; 32]);
        let signed = serde_json::json!({"a": 1});
        let bytes = sign(&signed, &[&k]).unwrap();
        let mut env = parse_envelope(&bytes, "x").unwrap();
        // The same key listed under a second id, and its signature repeated under it.
        let id = k.public().key_id();
        let mut keys = BTreeMap::new();
        keys.insert(id.clone(), k.public());
        keys.insert("other".to_string(), k.public());
        env.signatures.push(Signature { keyid: "other".into(), sig: env.signatures[0].sig.clone() });
        let ids = vec![id.clone(), "other".to_string()];
        assert!(check_signatures(&env, "x", &keys, &ids, 1).is_ok());
        assert!(matches!(check_signatures(&env, "x", &keys, &ids, 2), Err(MarketError::Threshold { valid: 1, .. })));
        assert!(matches!(check_signatures(&env, "x", &keys, &ids, 0), Err(MarketError::Malformed { .. })));
        env.signed = serde_json::json!({"a": 2});
        assert!(matches!(check_signatures(&env, "x", &keys, &ids, 1), Err(MarketError::BadSignature(_))));
    }
}
