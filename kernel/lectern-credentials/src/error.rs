/// Everything that can go wrong while issuing or verifying a credential. Each message is written for
/// a person reading a verification report; string payloads holding input values are already quoted
/// and shortened for display.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The verification method is not a `did:key` (e.g. `did:web`, an https URL): resolving it
    /// would need the network, which this crate never uses.
    #[error("unsupported verification method {0}: only did:key Ed25519 keys can be resolved")]
    UnsupportedVerificationMethod(String),
    /// A `did:key` identifier or verification method that does not decode to an Ed25519 key.
    #[error("malformed did:key {id}: {reason}")]
    MalformedDidKey { id: String, reason: String },
    /// A multibase string with the wrong prefix, alphabet or length.
    #[error("malformed multibase value: {0}")]
    Multibase(String),
    /// The proof names a cryptosuite this crate has no implementation for.
    #[error("unknown cryptosuite {0}")]
    UnknownCryptosuite(String),
    /// The document has no proof, or the proof lacks or misstates a required property.
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// The signature does not match the document and key.
    #[error("the signature does not verify: the credential was altered or signed with another key")]
    InvalidSignature,
    /// The document is not a JSON object or lacks something the operation needs.
    #[error("malformed document: {0}")]
    MalformedDocument(String),
    /// JSON Canonicalization Scheme (RFC 8785) serialization failed.
    #[error("JSON canonicalization failed: {0}")]
    Canonicalization(String),
    /// The signing key does not belong to the verification method named in the proof options.
    #[error("the signing key does not match verification method {0}")]
    KeyMismatch(String),
    /// A malformed `credentialStatus` entry or status list.
    #[error("status: {0}")]
    Status(String),
    /// A status list index past the end of the list.
    #[error("status list index {index} is out of range (the list has {len} entries)")]
    StatusIndexOutOfRange { index: u64, len: u64 },
}
