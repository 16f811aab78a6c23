//! The package format.
//!
//! A package (`<id>-<version>.lpkg`) is a gzip-compressed POSIX tar archive
//! holding, in this order:
//!
//! - `manifest.json`: the [`PackageManifest`] in canonical JSON (RFC 8785);
//! - `signature.json`: `{"keyid": …, "sig": …}`, the publisher's Ed25519
//!   signature over the exact bytes of `manifest.json` (absent until signed);
//! - `component.wasm`: the WebAssembly component;
//! - `assets/…`: optional files, in byte order of their paths.
//!
//! The manifest holds every file's SHA-256 and size, so the signature covers
//! the whole package. Packing is deterministic: the same inputs give the same
//! bytes (fixed order, zero timestamps and owners, mode 0644, no gzip name or
//! time), so a package's hash can be reproduced from its sources.
//!
//! The plugin's own manifest — id, version, slot, data version, resources,
//! what the sandbox enforces — is `lectern-manifest`'s model: the package
//! manifest uses its [`Slot`] and [`Resources`], checks it with the same
//! rules ([`lectern_manifest::Manifest::validate_fields`]), and derives it with
//! [`PackageManifest::plugin_manifest`]. What only a package has (publisher,
//! license, source, files, WIT names, kernel range) and the richer capability
//! *request* ([`Capabilities`]: named vector collections, outbound hosts) are
//! defined here.
//!
//! Reading is bounded and strict: only regular files; no absolute paths, no
//! `.` or `..` segments, no backslashes, no links or devices; path length,
//! file count and sizes are limited before anything is buffered; names are
//! unique (also ignoring case, so a case-folding file system cannot merge
//! two); every file must be listed in the manifest with its hash and size,
//! and every listed file must be present.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::MarketError;
use crate::keys::{KeyPair, PublicKey};

pub use lectern_manifest::{Resources, Slot, is_reverse_dns};

/// The manifest format this code writes and reads.
pub const FORMAT: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "signature.json";
pub const COMPONENT: &str = "component.wasm";
pub const ASSETS_DIR: &str = "assets/";
/// The file extension of a package.
pub const EXTENSION: &str = "lpkg";

/// Limits on what [`Package::read`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The compressed package.
    pub archive_bytes: u64,
    /// All files together, uncompressed.
    pub unpacked_bytes: u64,
    pub files: usize,
    pub path_bytes: usize,
    pub manifest_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            archive_bytes: 64 << 20,
            unpacked_bytes: 192 << 20,
            files: 1_000,
            path_bytes: 200,
            manifest_bytes: 256 << 10,
        }
    }
}

/// A file the manifest lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    pub path: String,
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publisher {
    /// The publisher's namespace (reverse-DNS), a prefix of the plugin id.
    pub id: String,
    /// TUF key id of the key that signs this manifest (empty before signing).
    pub key_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Where the source lives (an `https://` URL), or `unknown`.
    pub repository: String,
    /// The commit the component was built from (hex), or `unknown`.
    pub commit: String,
}

/// The WIT interfaces the component imports and exports, e.g. `lectern:plugin/kv@0.1.0`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wit {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

/// What the plugin asks the administrator for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Capabilities {
    /// Bytes of key-value storage per institution; absent means no storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_quota_bytes: Option<u64>,
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
    pub clock: bool,
    /// Vector collections it creates (names, `*` matching any characters);
    /// any at all means the `vector` service. Collections are private to the
    /// plugin and institution whatever their names.
    pub vector_collections: Vec<String>,
    pub embed: bool,
    /// Hosts it wants to reach over HTTP (observer plugins; see
    /// `lectern_manifest::Capabilities::outbound_hosts`).
    pub outbound_hosts: Vec<String>,
}

impl Capabilities {
    /// What the sandbox enforces for this request: the services it names
    /// (`vector` if any collection is named), logging always.
    pub fn sandbox(&self) -> lectern_manifest::Capabilities {
        lectern_manifest::Capabilities {
            log: true,
            kv_quota_bytes: self.kv_quota_bytes,
            publish: self.publish.clone(),
            subscribe: self.subscribe.clone(),
            clock: self.clock,
            vector: !self.vector_collections.is_empty(),
            embed: self.embed,
            outbound_hosts: self.outbound_hosts.clone(),
        }
    }

    /// The request for what a plugin's manifest asks of the sandbox, with the
    /// names only a package carries (`*`, any collection, when it asks for
    /// `vector` without naming one).
    pub fn request(c: &lectern_manifest::Capabilities, mut vector_collections: Vec<String>) -> Capabilities {
        if c.vector && vector_collections.is_empty() {
            vector_collections.push("*".into());
        }
        Capabilities {
            kv_quota_bytes: c.kv_quota_bytes,
            publish: c.publish.clone(),
            subscribe: c.subscribe.clone(),
            clock: c.clock,
            vector_collections,
            embed: c.embed,
            outbound_hosts: c.outbound_hosts.clone(),
        }
    }
}

/// The package encoding of [`Resources`] (format 1; `reuse_calls` only when set): `memory_mib` and
/// `call_timeout_ms` always written, `fuel` only when set. The host's
/// records write `fuel` always, so the encoding lives with the package.
mod resources_format {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Resources;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Encoded {
        memory_mib: u32,
        call_timeout_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        fuel: Option<u64>,
        /// Left out when 0, so packages made before it existed read and print as they did.
        #[serde(skip_serializing_if = "is_zero", default)]
        reuse_calls: u32,
    }

    fn is_zero(n: &u32) -> bool {
        *n == 0
    }

    pub fn serialize<S: Serializer>(r: &Resources, s: S) -> Result<S::Ok, S::Error> {
        Encoded {
            memory_mib: r.memory_mib,
            call_timeout_ms: r.call_timeout_ms,
            fuel: r.fuel,
            reuse_calls: r.reuse_calls,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Resources, D::Error> {
        let e = Encoded::deserialize(d)?;
        Ok(Resources {
            memory_mib: e.memory_mib,
            call_timeout_ms: e.call_timeout_ms,
            fuel: e.fuel,
            reuse_calls: e.reuse_calls,
        })
    }
}

/// Everything a package says about itself; signed by its publisher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageManifest {
    pub format: u32,
    /// Reverse-DNS id, e.g. `org.lectern.grading`.
    pub id: String,
    /// Semantic version.
    pub version: String,
    pub publisher: Publisher,
    /// A human name.
    pub name: String,
    pub description: String,
    /// An SPDX license expression.
    pub license: String,
    pub source: Source,
    pub slot: Slot,
    pub component: FileRef,
    #[serde(default)]
    pub assets: Vec<FileRef>,
    pub wit: Wit,
    #[serde(default)]
    pub capabilities: Capabilities,
    #[serde(default, with = "resources_format")]
    pub resources: Resources,
    /// The kernel versions it supports (a semver requirement, e.g. `>=0.1, <0.2`).
    pub kernel: String,
    /// The version of the data layout its `migrate` understands.
    pub data_version: u32,
}

impl PackageManifest {
    /// What a publisher lists about this package in its signed TUF targets
    /// (`custom.lectern.package`): what catalogues show before anything is
    /// downloaded — names, slot, license, the kernel range, the capabilities
    /// it requests, and its provenance (publisher key, source repository and
    /// commit). The package's own signed manifest stays the authority at install.
    pub fn listing(&self) -> serde_json::Value {
        serde_json::json!({"lectern": {"package": {
            "id": self.id, "version": self.version, "name": self.name, "description": self.description,
            "slot": self.slot, "license": self.license, "kernel": self.kernel, "publisher": self.publisher.id,
            "capabilities": self.capabilities, "publisher_key": self.publisher.key_id, "source": self.source,
        }}})
    }
}

fn malformed(detail: impl Into<String>) -> MarketError {
    MarketError::Malformed { what: "manifest".into(), detail: detail.into() }
}

/// A light syntax check of an SPDX license expression: identifiers (letters,
/// digits, `.`, `-`, an optional trailing `+`, `LicenseRef-…`) joined by
/// `AND`, `OR`, `WITH`, with balanced parentheses.
pub fn is_spdx_expression(s: &str) -> bool {
    let spaced = s.replace('(', " ( ").replace(')', " ) ");
    let mut depth = 0i32;
    let mut expect_operand = true;
    let mut any = false;
    for tok in spaced.split_whitespace() {
        match tok {
            "(" if expect_operand => depth += 1,
            ")" if !expect_operand => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            "AND" | "OR" | "WITH" if !expect_operand => expect_operand = true,
            id if expect_operand => {
                let core = id.strip_suffix('+').unwrap_or(id);
                if core.is_empty()
                    || !core.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                    || matches!(core, "AND" | "OR" | "WITH")
                {
                    return false;
                }
                expect_operand = false;
                any = true;
            }
            _ => return false,
        }
    }
    any && depth == 0 && !expect_operand && s.len() <= 256
}

fn is_hex_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks a path inside a package: relative, `/`-separated segments of
/// letters, digits, `.`, `-`, `_`, none empty, `.` or `..`.
pub fn check_path(path: &str, limits: &Limits) -> Result<(), MarketError> {
    let unsafe_ = |why: &str| Err(MarketError::UnsafeArchive(format!("`{}`: {why}", path.escape_debug())));
    if path.is_empty() {
        return unsafe_("empty name");
    }
    if path.len() > limits.path_bytes {
        return unsafe_(&format!("names are limited to {} bytes", limits.path_bytes));
    }
    if path.starts_with('/') {
        return unsafe_("absolute path");
    }
    if path.contains('\\') {
        return unsafe_("backslash in a path");
    }
    if path.split('/').count() > 8 {
        return unsafe_("nested more than 8 deep");
    }
    for seg in path.split('/') {
        match seg {
            "" => return unsafe_("empty path segment"),
            "." | ".." => return unsafe_("`.` or `..` in a path"),
            _ if !seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')) => {
                return unsafe_("names may use only letters, digits, `.`, `-` and `_`");
            }
            _ => {}
        }
    }
    Ok(())
}

impl PackageManifest {
    /// Checks every field; `Limits` bound the file list.
    pub fn validate(&self, limits: &Limits) -> Result<(), MarketError> {
        if self.format != FORMAT {
            return Err(malformed(format!("format {} is not supported (this reads format {FORMAT})", self.format)));
        }
        // The plugin's own manifest, by the same field rules as everywhere:
        // id, version, resources, topics. (Whether its slot offers the
        // services it asks for is the installing host's check.)
        self.plugin_manifest().validate_fields().map_err(|e| malformed(e.to_string()))?;
        if !is_reverse_dns(&self.publisher.id) || !self.id.starts_with(&format!("{}.", self.publisher.id)) {
            return Err(malformed(format!(
                "publisher `{}` must be a reverse-DNS namespace the id `{}` lies in",
                self.publisher.id, self.id
            )));
        }
        if !self.publisher.key_id.is_empty() && !is_hex_sha256(&self.publisher.key_id) {
            return Err(malformed("publisher.key_id must be a TUF key id (64 hex digits)"));
        }
        if self.name.trim().is_empty() || self.name.len() > 100 {
            return Err(malformed("name must be 1–100 characters"));
        }
        if self.description.len() > 4_000 {
            return Err(malformed("description is limited to 4,000 characters"));
        }
        if !is_spdx_expression(&self.license) {
            return Err(malformed(format!("license `{}` is not an SPDX license expression", self.license)));
        }
        let repo = &self.source.repository;
        if !(repo == "unknown" || repo.starts_with("https://") || repo.starts_with("http://")) || repo.len() > 500 {
            return Err(malformed("source.repository must be an http(s) URL or `unknown`"));
        }
        let c = &self.source.commit;
        if !(c == "unknown" || ((7..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()))) {
            return Err(malformed("source.commit must be a hex commit id or `unknown`"));
        }
        if self.component.path != COMPONENT {
            return Err(malformed(format!("component.path must be `{COMPONENT}`")));
        }
        let mut seen = BTreeSet::new();
        for f in std::iter::once(&self.component).chain(&self.assets) {
            check_path(&f.path, limits)?;
            if !is_hex_sha256(&f.sha256) {
                return Err(malformed(format!("{}: sha256 must be 64 lowercase hex digits", f.path)));
            }
            if f != &self.component && !f.path.starts_with(ASSETS_DIR) {
                return Err(malformed(format!("asset `{}` must lie under `{ASSETS_DIR}`", f.path)));
            }
            if !seen.insert(f.path.to_ascii_lowercase()) {
                return Err(MarketError::UnsafeArchive(format!("`{}` is listed twice", f.path)));
            }
        }
        if self.assets.len() + 3 > limits.files {
            return Err(MarketError::TooLarge(format!("more than {} files", limits.files)));
        }
        for name in self.wit.imports.iter().chain(&self.wit.exports) {
            if name.is_empty() || name.len() > 200 {
                return Err(malformed(format!("WIT name `{name}` must be 1–200 characters")));
            }
        }
        for c in &self.capabilities.vector_collections {
            if c.is_empty()
                || c.len() > 64
                || !c.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'*'))
            {
                return Err(malformed(format!(
                    "vector collection `{c}` must be 1–64 letters, digits, - _ (* for any)"
                )));
            }
        }
        for h in &self.capabilities.outbound_hosts {
            if !lectern_manifest::is_outbound_host(h) {
                return Err(malformed(format!("outbound host `{h}` must be a host name (with an optional port)")));
            }
        }
        if semver::VersionReq::parse(&self.kernel).is_err() {
            return Err(malformed(format!(
                "kernel `{}` is not a semver requirement (e.g. `>=0.1, <0.2`)",
                self.kernel
            )));
        }
        Ok(())
    }

    /// The plugin's manifest: what the host installs and enforces.
    pub fn plugin_manifest(&self) -> lectern_manifest::Manifest {
        lectern_manifest::Manifest {
            id: self.id.clone(),
            version: self.version.clone(),
            slot: self.slot,
            data_version: self.data_version,
            capabilities: self.capabilities.sandbox(),
            resources: self.resources.clone(),
        }
    }

    /// `id@version`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// The package's file name, `<id>-<version>.lpkg`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.{EXTENSION}", self.id, self.version)
    }

    /// Its path in a marketplace index: `<id>/<version>/<file name>`.
    pub fn target_path(&self) -> String {
        format!("{}/{}/{}", self.id, self.version, self.file_name())
    }

    pub fn semver(&self) -> Result<semver::Version, MarketError> {
        semver::Version::parse(&self.version).map_err(|e| malformed(format!("version: {e}")))
    }

    /// Refuses a kernel version outside the range the package supports.
    pub fn check_kernel(&self, kernel: &semver::Version) -> Result<(), MarketError> {
        let req = semver::VersionReq::parse(&self.kernel).map_err(|e| malformed(format!("kernel: {e}")))?;
        if req.matches(kernel) {
            Ok(())
        } else {
            Err(MarketError::IncompatibleKernel {
                id: self.id.clone(),
                version: self.version.clone(),
                supports: self.kernel.clone(),
                kernel: kernel.to_string(),
            })
        }
    }

    /// Parses canonical manifest bytes (refusing non-canonical ones, so the
    /// signed bytes and the parsed value cannot disagree) and validates them.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<PackageManifest, MarketError> {
        if bytes.len() as u64 > limits.manifest_bytes {
            return Err(MarketError::TooLarge(format!("the manifest is over {} bytes", limits.manifest_bytes)));
        }
        let m: PackageManifest = serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        if crate::canonical::to_vec(&m)? != bytes {
            return Err(malformed("manifest.json is not in canonical form (RFC 8785) or has duplicate keys"));
        }
        m.validate(limits)?;
        Ok(m)
    }
}

/// `signature.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub keyid: String,
    /// Hex Ed25519 signature over the bytes of `manifest.json`.
    pub sig: String,
}

/// A package in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub manifest: PackageManifest,
    /// The canonical bytes of `manifest.json`, exactly as signed.
    pub manifest_bytes: Vec<u8>,
    pub signature: Option<Signature>,
    pub component: Vec<u8>,
    /// Asset paths (under `assets/`) and contents.
    pub assets: BTreeMap<String, Vec<u8>>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Package {
    /// Builds a package: fills in the component and asset hashes and sizes,
    /// drops any signature, and validates.
    pub fn new(
        mut manifest: PackageManifest,
        component: Vec<u8>,
        assets: BTreeMap<String, Vec<u8>>,
    ) -> Result<Package, MarketError> {
        manifest.format = FORMAT;
        manifest.component =
            FileRef { path: COMPONENT.into(), sha256: sha256_hex(&component), size: component.len() as u64 };
        manifest.assets = assets
            .iter()
            .map(|(p, b)| FileRef { path: p.clone(), sha256: sha256_hex(b), size: b.len() as u64 })
            .collect();
        manifest.validate(&Limits::default())?;
        let manifest_bytes = crate::canonical::to_vec(&manifest)?;
        Ok(Package { manifest, manifest_bytes, signature: None, component, assets })
    }

    /// Signs the manifest: sets `publisher.key_id` to `key`'s id, then signs
    /// the canonical bytes. A previous signature is replaced.
    pub fn sign(&mut self, key: &KeyPair) -> Result<(), MarketError> {
        let key_id = key.public().key_id();
        self.manifest.publisher.key_id = key_id.clone();
        self.manifest_bytes = crate::canonical::to_vec(&self.manifest)?;
        self.signature = Some(Signature { keyid: key_id, sig: key.sign(&self.manifest_bytes) });
        Ok(())
    }

    /// Checks the publisher's signature against the keys the publisher's
    /// namespace is delegated to. Returns the key that signed.
    pub fn verify_signature<'k>(&self, allowed: &'k [PublicKey]) -> Result<&'k PublicKey, MarketError> {
        let what = format!("the manifest of {}", self.manifest.key());
        let sig = self.signature.as_ref().ok_or_else(|| MarketError::BadSignature(format!("{what} (unsigned)")))?;
        if sig.keyid != self.manifest.publisher.key_id {
            return Err(MarketError::BadSignature(format!(
                "{what} (signature by {} but the manifest names key {})",
                sig.keyid, self.manifest.publisher.key_id
            )));
        }
        let Some(key) = allowed.iter().find(|k| k.key_id() == sig.keyid) else {
            return Err(MarketError::WrongKey {
                what,
                expected: allowed.iter().map(PublicKey::key_id).collect::<Vec<_>>().join(" or "),
                found: sig.keyid.clone(),
            });
        };
        if key.verify(&self.manifest_bytes, &sig.sig) { Ok(key) } else { Err(MarketError::BadSignature(what)) }
    }

    /// The deterministic archive bytes.
    pub fn pack(&self) -> Result<Vec<u8>, MarketError> {
        let gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        let mut add = |path: &str, bytes: &[u8]| -> Result<(), MarketError> {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(0);
            h.set_uid(0);
            h.set_gid(0);
            tar.append_data(&mut h, path, bytes)?;
            Ok(())
        };
        add(MANIFEST, &self.manifest_bytes)?;
        if let Some(sig) = &self.signature {
            add(SIGNATURE, &crate::canonical::to_vec(sig)?)?;
        }
        add(COMPONENT, &self.component)?;
        for (path, bytes) in &self.assets {
            add(path, bytes)?;
        }
        let gz = tar.into_inner()?;
        Ok(gz.finish()?)
    }

    /// Reads and checks an archive (see the module docs); the signature is
    /// parsed but not verified (see [`Package::verify_signature`]).
    pub fn read(archive: &[u8], limits: &Limits) -> Result<Package, MarketError> {
        if archive.len() as u64 > limits.archive_bytes {
            return Err(MarketError::TooLarge(format!(
                "the package is {} bytes; the limit is {}",
                archive.len(),
                limits.archive_bytes
            )));
        }
        // One byte past the limit shows the limit was exceeded.
        let gz = flate2::read::GzDecoder::new(archive).take(limits.unpacked_bytes.saturating_add(1 << 20));
        let mut tar = tar::Archive::new(gz);
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut folded = BTreeSet::new();
        let mut total = 0u64;
        let entries = tar.entries().map_err(|e| MarketError::UnsafeArchive(format!("not a tar.gz archive: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| MarketError::UnsafeArchive(format!("unreadable archive: {e}")))?;
            let raw = entry.path_bytes().into_owned();
            let path =
                String::from_utf8(raw).map_err(|_| MarketError::UnsafeArchive("a file name is not UTF-8".into()))?;
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    return Err(MarketError::UnsafeArchive(format!("`{}` is a link", path.escape_debug())));
                }
                other => {
                    return Err(MarketError::UnsafeArchive(format!(
                        "`{}` is not a regular file ({other:?})",
                        path.escape_debug()
                    )));
                }
            }
            check_path(&path, limits)?;
            if files.len() >= limits.files {
                return Err(MarketError::TooLarge(format!("more than {} files", limits.files)));
            }
            if !folded.insert(path.to_ascii_lowercase()) {
                return Err(MarketError::UnsafeArchive(format!("`{path}` appears twice")));
            }
            let size = entry.header().size().map_err(|e| MarketError::UnsafeArchive(format!("{path}: {e}")))?;
            total = total.saturating_add(size);
            if total > limits.unpacked_bytes {
                return Err(MarketError::TooLarge(format!("the files unpack to over {} bytes", limits.unpacked_bytes)));
            }
            // Reserve no more than a MiB up front: a header may claim a size the data does not have.
            let mut bytes = Vec::with_capacity(size.min(1 << 20) as usize);
            entry
                .by_ref()
                .take(size)
                .read_to_end(&mut bytes)
                .map_err(|e| MarketError::UnsafeArchive(format!("{path}: {e}")))?;
            if bytes.len() as u64 != size {
                return Err(MarketError::UnsafeArchive(format!("{path}: truncated")));
            }
            files.insert(path, bytes);
        }
        let manifest_bytes = files
            .remove(MANIFEST)
            .ok_or_else(|| MarketError::Malformed { what: "package".into(), detail: format!("no {MANIFEST}") })?;
        let manifest = PackageManifest::parse(&manifest_bytes, limits)?;
        let signature = match files.remove(SIGNATURE) {
            None => None,
            Some(b) => Some(
                serde_json::from_slice::<Signature>(&b)
                    .map_err(|e| MarketError::Malformed { what: SIGNATURE.into(), detail: e.to_string() })?,
            ),
        };
        let mut check = |f: &FileRef| -> Result<Vec<u8>, MarketError> {
            let bytes = files.remove(&f.path).ok_or_else(|| MarketError::Malformed {
                what: "package".into(),
                detail: format!("`{}` is listed in the manifest but missing", f.path),
            })?;
            if bytes.len() as u64 != f.size {
                return Err(MarketError::LengthMismatch {
                    what: f.path.clone(),
                    expected: f.size,
                    actual: bytes.len() as u64,
                });
            }
            let actual = sha256_hex(&bytes);
            if actual != f.sha256 {
                return Err(MarketError::HashMismatch { what: f.path.clone(), expected: f.sha256.clone(), actual });
            }
            Ok(bytes)
        };
        let component = check(&manifest.component)?;
        let mut assets = BTreeMap::new();
        for a in &manifest.assets {
            assets.insert(a.path.clone(), check(a)?);
        }
        if let Some(extra) = files.keys().next() {
            return Err(MarketError::UnsafeArchive(format!("`{extra}` is not listed in the manifest")));
        }
        Ok(Package { manifest, manifest_bytes, signature, component, assets })
    }
}

/// The interfaces a component imports and exports, read from its top-level
/// import and export sections (no compilation).
pub fn component_interfaces(wasm: &[u8]) -> Result<Wit, MarketError> {
    use wasmparser::{Encoding, Parser, Payload};
    let bad = |d: String| MarketError::Malformed { what: "component".into(), detail: d };
    let mut depth = 0usize;
    let mut wit = Wit::default();
    let mut saw_component = false;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| bad(e.to_string()))? {
            Payload::Version { encoding, .. } => {
                if depth == 0 {
                    if encoding != Encoding::Component {
                        return Err(bad("a core module, not a component".into()));
                    }
                    saw_component = true;
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    wit.imports.push(import.map_err(|e| bad(e.to_string()))?.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    wit.exports.push(export.map_err(|e| bad(e.to_string()))?.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    if !saw_component {
        return Err(bad("empty".into()));
    }
    wit.imports.sort();
    wit.imports.dedup();
    wit.exports.sort();
    wit.exports.dedup();
    Ok(wit)
}

/// Refuses a component that imports anything its manifest does not declare.
pub fn check_declared_imports(real: &Wit, declared: &Wit) -> Result<(), MarketError> {
    for name in &real.imports {
        if !declared.imports.contains(name) {
            return Err(MarketError::UndeclaredImport(name.clone()));
        }
    }
    for name in &declared.exports {
        if !real.exports.contains(name) {
            return Err(MarketError::Malformed {
                what: "manifest".into(),
                detail: format!("it declares the export `{name}`, which the component does not have"),
            });
        }
    }
    Ok(())
}
