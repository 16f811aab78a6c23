//! The plugin manifest: what a plugin says about itself (its id, version,
//! slot, data version, the kernel services it asks for and the limits it
//! runs under) and, in the same [`Capabilities`] shape, what an
//! administrator grants it. One model for every place a manifest appears:
//!
//! - `manifest.json` beside a plugin's source and the manifest part of
//!   `POST /api/v1/plugins` (JSON, [`Manifest::parse_json`]);
//! - the host's installed-version records (`lectern-host` stores
//!   [`Manifest`] and the granted [`Capabilities`] with postcard: the field
//!   order and types of these structs are a storage format);
//! - a marketplace package's `manifest.json`, which embeds these types and
//!   adds its packaging fields (`lectern-marketplace::package`, which owns
//!   that encoding and derives the plugin manifest with
//!   `PackageManifest::plugin_manifest`).
//!
//! It depends on no other lectern crate and does no I/O. Changing a field
//! here changes stored records: add a field only with a record version bump
//! in `lectern-host` and a package format bump in `lectern-marketplace`.

use serde::{Deserialize, Serialize};

/// The world a plugin is built for. The first four are *slots*: one plugin
/// version serves each per institution, replacing the kernel's default
/// behaviour. The others are *extensions* (`lectern:plugin@0.2` on): any
/// number of plugins of that world are active at once, one version of each.
/// Stored by variant index (postcard): append, never reorder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Content,
    Proctoring,
    Grading,
    Tutoring,
    /// Observes kernel events and talks to other systems (0.2's `observer-plugin`).
    Observer,
    /// Adds question types to assessments (0.2's `question-type-plugin`).
    QuestionType,
    /// Adds kinds of learning activity to course outlines (0.2's `activity-plugin`).
    Activity,
}

impl Slot {
    /// The slots proper: one active version each per institution.
    pub const ALL: [Slot; 4] = [Slot::Content, Slot::Proctoring, Slot::Grading, Slot::Tutoring];
    /// The extension worlds: any number of plugins active at once.
    pub const EXTENSIONS: [Slot; 3] = [Slot::Observer, Slot::QuestionType, Slot::Activity];

    pub fn name(self) -> &'static str {
        match self {
            Slot::Content => "content",
            Slot::Proctoring => "proctoring",
            Slot::Grading => "grading",
            Slot::Tutoring => "tutoring",
            Slot::Observer => "observer",
            Slot::QuestionType => "question_type",
            Slot::Activity => "activity",
        }
    }

    /// Whether any number of plugins of this world may be active at once.
    pub fn is_extension(self) -> bool {
        Slot::EXTENSIONS.contains(&self)
    }

    /// The `lectern:plugin` interface the world exports besides `lifecycle`
    /// (`lifecycle` itself for an observer, which exports nothing else).
    pub fn export(self) -> &'static str {
        match self {
            Slot::Content => "content",
            Slot::Proctoring => "proctor",
            Slot::Grading => "grader",
            Slot::Tutoring => "tutor",
            Slot::Observer => "lifecycle",
            Slot::QuestionType => "question-type",
            Slot::Activity => "activity",
        }
    }

    /// Kernel services the world may import.
    pub fn allowed_services(self) -> &'static [Service] {
        match self {
            Slot::Grading => &[Service::Log, Service::Kv],
            Slot::Proctoring => &[Service::Log, Service::Kv, Service::Events, Service::Clock],
            Slot::Content => &[Service::Log, Service::Kv, Service::Clock],
            Slot::Tutoring => &[Service::Log, Service::Kv, Service::Clock, Service::Vector, Service::Embed],
            Slot::Observer => &[Service::Log, Service::Kv, Service::Events, Service::Clock, Service::Settings],
            // Like grading: nothing that would make a grade depend on when or where it is computed.
            Slot::QuestionType => &[Service::Log],
            Slot::Activity => {
                &[Service::Log, Service::Kv, Service::Events, Service::Clock, Service::Settings, Service::Gradebook]
            }
        }
    }

    /// Whether the world grades: its calls see clocks frozen at the epoch
    /// and seeded randomness, and run on the grading fuel budget by default,
    /// so the same input always gives the same grade.
    pub fn grades(self) -> bool {
        matches!(self, Slot::Grading | Slot::QuestionType)
    }

    /// Whether the world may make outbound HTTP requests (to granted hosts).
    pub fn allows_outbound(self) -> bool {
        self == Slot::Observer
    }
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Slot {
    type Err = ManifestError;
    fn from_str(s: &str) -> Result<Slot, ManifestError> {
        // `question-type` (the WIT world's spelling) is accepted for `question_type`.
        let s = s.replace('-', "_");
        Slot::ALL
            .into_iter()
            .chain(Slot::EXTENSIONS)
            .find(|x| x.name() == s)
            .ok_or_else(|| ManifestError::UnknownSlot(s.to_owned()))
    }
}

/// A `lectern:plugin` kernel service (an importable interface).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Log,
    Kv,
    Events,
    Clock,
    Vector,
    Embed,
    /// The plugin's own settings (`lectern:plugin@0.2` on); nothing to grant.
    Settings,
    /// Scores and completions for the activity item being acted on
    /// (`lectern:plugin@0.2` on, activity plugins only); nothing to grant:
    /// the kernel decides per call what it may record.
    Gradebook,
}

impl Service {
    /// The services of `lectern:plugin@0.1`.
    pub const ALL: [Service; 6] =
        [Service::Log, Service::Kv, Service::Events, Service::Clock, Service::Vector, Service::Embed];
    /// The services of `lectern:plugin@0.2`.
    pub const ALL_0_2: [Service; 8] = [
        Service::Log,
        Service::Kv,
        Service::Events,
        Service::Clock,
        Service::Vector,
        Service::Embed,
        Service::Settings,
        Service::Gradebook,
    ];

    pub fn interface(self) -> &'static str {
        match self {
            Service::Log => "log",
            Service::Kv => "kv",
            Service::Events => "events",
            Service::Clock => "clock",
            Service::Vector => "vector",
            Service::Embed => "embed",
            Service::Settings => "settings",
            Service::Gradebook => "gradebook",
        }
    }
}

/// Capabilities: what a manifest requests, and (the same shape) what an admin grants.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Capabilities {
    /// Structured logging. Always granted; listed for completeness.
    pub log: bool,
    /// Bytes of kv storage per institution; `None` means no kv.
    pub kv_quota_bytes: Option<u64>,
    /// Topics the plugin may publish to.
    pub publish: Vec<String>,
    /// Topics delivered to `lifecycle.on-event`.
    pub subscribe: Vec<String>,
    pub clock: bool,
    pub vector: bool,
    pub embed: bool,
    /// Hosts the plugin may reach over HTTP (`wasi:http`; observer plugins
    /// only): `host` allows the scheme's default port (80 for `http`, 443 for
    /// `https`), `host:port` exactly that port. Every other host is refused
    /// by the kernel before any connection is made. In a manifest, `*` asks
    /// for whatever hosts the administrator grants (a webhook plugin cannot
    /// know each institution's endpoint); a grant always names hosts.
    pub outbound_hosts: Vec<String>,
}

/// Whether `h` is an outbound host entry: a host name or IP address of
/// letters, digits, `.` and `-`, optionally `:port` (1–65535); or `*` (see
/// [`Capabilities::outbound_hosts`]).
pub fn is_outbound_host(h: &str) -> bool {
    h == ANY_HOST || is_named_host(h)
}

/// What a manifest writes to ask for the hosts the administrator chooses.
pub const ANY_HOST: &str = "*";

fn is_named_host(h: &str) -> bool {
    let (host, port) = match h.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (h, None),
    };
    !host.is_empty()
        && host.len() <= 253
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && !host.starts_with(['.', '-'])
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

impl Capabilities {
    pub fn grants(&self, s: Service) -> bool {
        match s {
            Service::Log | Service::Settings | Service::Gradebook => true,
            Service::Kv => self.kv_quota_bytes.is_some(),
            Service::Events => !self.publish.is_empty(),
            Service::Clock => self.clock,
            Service::Vector => self.vector,
            Service::Embed => self.embed,
        }
    }

    /// Whether a request to `host` on `port` over `https` (else `http`) is
    /// granted. Host names compare without case; nothing else matches.
    pub fn allows_host(&self, host: &str, port: u16, https: bool) -> bool {
        let default = if https { 443 } else { 80 };
        self.outbound_hosts.iter().any(|entry| {
            let (h, p) = match entry.rsplit_once(':') {
                Some((h, p)) => (h, p.parse::<u16>().ok()),
                None => (entry.as_str(), Some(default)),
            };
            entry != ANY_HOST && h.eq_ignore_ascii_case(host) && p == Some(port)
        })
    }

    /// The part of `requested` that `self` (the admin's grant) allows.
    pub fn intersect(&self, requested: &Capabilities) -> Capabilities {
        Capabilities {
            log: true,
            kv_quota_bytes: match (self.kv_quota_bytes, requested.kv_quota_bytes) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            },
            publish: requested.publish.iter().filter(|t| self.publish.contains(t)).cloned().collect(),
            subscribe: requested.subscribe.iter().filter(|t| self.subscribe.contains(t)).cloned().collect(),
            clock: self.clock && requested.clock,
            vector: self.vector && requested.vector,
            embed: self.embed && requested.embed,
            outbound_hosts: if requested.outbound_hosts.iter().any(|h| h == ANY_HOST) {
                self.outbound_hosts.iter().filter(|g| is_named_host(g)).cloned().collect()
            } else {
                requested
                    .outbound_hosts
                    .iter()
                    .filter(|h| self.outbound_hosts.iter().any(|g| g.eq_ignore_ascii_case(h)))
                    .cloned()
                    .collect()
            },
        }
    }
}

/// Limits on each call.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Resources {
    /// Linear memory cap per instance.
    pub memory_mib: u32,
    /// Wall-clock budget per call.
    pub call_timeout_ms: u64,
    /// Deterministic instruction budget per call (grading always has one).
    pub fuel: Option<u64>,
    /// How many calls one instance may serve, one after another, for the
    /// same institution (0, the default: a fresh instance for every call).
    /// The plugin's opt-in to a warm instance: what its code keeps in memory
    /// (globals, caches, an interpreter's module state, a random generator's
    /// position) carries from one call to the next, so a plugin asks for it
    /// only if nothing it keeps depends on who called. The kernel still never
    /// shares an instance between institutions or versions, and drops one
    /// after any fault.
    pub reuse_calls: u32,
}

impl Default for Resources {
    fn default() -> Self {
        Resources { memory_mib: 64, call_timeout_ms: 2_000, fuel: None, reuse_calls: 0 }
    }
}

/// As derived, except that JSON (and TOML) leave out `reuse_calls` when it
/// is 0, so a manifest written before it existed prints as it always did;
/// stored records (postcard, positional) always carry it.
impl Serialize for Resources {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let omit = s.is_human_readable() && self.reuse_calls == 0;
        let mut st = s.serialize_struct("Resources", if omit { 3 } else { 4 })?;
        st.serialize_field("memory_mib", &self.memory_mib)?;
        st.serialize_field("call_timeout_ms", &self.call_timeout_ms)?;
        st.serialize_field("fuel", &self.fuel)?;
        if omit {
            st.skip_field("reuse_calls")?;
        } else {
            st.serialize_field("reuse_calls", &self.reuse_calls)?;
        }
        st.end()
    }
}

/// Most calls one instance may serve ([`Resources::reuse_calls`]).
pub const MAX_REUSE_CALLS: u32 = 100_000;

/// A plugin's manifest (a marketplace package adds its packaging fields on top).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Reverse-DNS id, e.g. `org.lectern.grading`.
    pub id: String,
    /// Semantic version.
    pub version: String,
    pub slot: Slot,
    pub data_version: u32,
    #[serde(default)]
    pub capabilities: Capabilities,
    #[serde(default)]
    pub resources: Resources,
}

pub const MAX_MEMORY_MIB: u32 = 1024;
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// Whether `s` is a reverse-DNS name: 3–128 bytes, at least two
/// dot-separated parts of a–z, 0–9 and `-`, none empty or starting with `-`.
/// Plugin ids and publisher namespaces follow it.
pub fn is_reverse_dns(s: &str) -> bool {
    (3..=128).contains(&s.len())
        && s.split('.').count() >= 2
        && s.split('.').all(|p| {
            !p.is_empty()
                && !p.starts_with('-')
                && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Whether `t` is an event topic a manifest may name: 1–128 letters, digits, `.`, `-`, `_`.
pub fn is_topic(t: &str) -> bool {
    !t.is_empty() && t.len() <= 128 && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Why a manifest is refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON of the manifest's shape (a syntax error, a missing or unknown field, a wrong type).
    #[error("{0}")]
    Json(#[source] serde_json::Error),
    #[error("unknown slot `{0}`")]
    UnknownSlot(String),
    #[error("id `{0}` must be reverse-DNS: dot-separated parts of a–z, 0–9, -")]
    Id(String),
    #[error("version `{version}` is not a semantic version: {source}")]
    Version {
        version: String,
        #[source]
        source: semver::Error,
    },
    #[error("resources.memory_mib must be 1–{MAX_MEMORY_MIB}, not {0}")]
    Memory(u32),
    #[error("resources.call_timeout_ms must be 1–{MAX_TIMEOUT_MS}, not {0}")]
    Timeout(u64),
    #[error("resources.reuse_calls must be 0–{MAX_REUSE_CALLS}, not {0}")]
    ReuseCalls(u32),
    #[error("topic `{0}` must be 1–128 characters of letters, digits, . - _")]
    Topic(String),
    #[error("the {} slot cannot use `{}`", .slot.name(), .service.interface())]
    ServiceNotInSlot { slot: Slot, service: Service },
    #[error("outbound host `{0}` must be a host name or address with an optional :port (no scheme, no path)")]
    OutboundHost(String),
    #[error("only observer plugins may reach other hosts; a {} plugin cannot ask for `{}`", .slot.name(), .host)]
    OutboundNotInSlot { slot: Slot, host: String },
}

impl Manifest {
    pub fn parse_json(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(ManifestError::Json)?;
        m.validate()?;
        Ok(m)
    }

    /// Every rule: the fields' own ([`Manifest::validate_fields`]) and the
    /// slot's (only services the slot's world offers). What a host installs.
    pub fn validate(&self) -> Result<(), ManifestError> {
        self.validate_fields()?;
        for s in Service::ALL {
            if self.capabilities.grants(s) && s != Service::Log && !self.slot.allowed_services().contains(&s) {
                return Err(ManifestError::ServiceNotInSlot { slot: self.slot, service: s });
            }
        }
        if let Some(h) = self.capabilities.outbound_hosts.first()
            && !self.slot.allows_outbound()
        {
            return Err(ManifestError::OutboundNotInSlot { slot: self.slot, host: h.clone() });
        }
        Ok(())
    }

    /// The rules each field follows wherever a manifest appears: a
    /// reverse-DNS id, a semantic version, resources within the host's
    /// bounds, well-formed topics. (A marketplace package is read by these;
    /// a package asking for a service its slot does not offer still reads,
    /// and is refused when a host installs it.)
    pub fn validate_fields(&self) -> Result<(), ManifestError> {
        if !is_reverse_dns(&self.id) {
            return Err(ManifestError::Id(self.id.clone()));
        }
        if let Err(source) = semver::Version::parse(&self.version) {
            return Err(ManifestError::Version { version: self.version.clone(), source });
        }
        if self.resources.memory_mib == 0 || self.resources.memory_mib > MAX_MEMORY_MIB {
            return Err(ManifestError::Memory(self.resources.memory_mib));
        }
        if self.resources.call_timeout_ms == 0 || self.resources.call_timeout_ms > MAX_TIMEOUT_MS {
            return Err(ManifestError::Timeout(self.resources.call_timeout_ms));
        }
        if self.resources.reuse_calls > MAX_REUSE_CALLS {
            return Err(ManifestError::ReuseCalls(self.resources.reuse_calls));
        }
        if let Some(t) = self.capabilities.publish.iter().chain(&self.capabilities.subscribe).find(|t| !is_topic(t)) {
            return Err(ManifestError::Topic(t.clone()));
        }
        if let Some(h) = self.capabilities.outbound_hosts.iter().find(|h| !is_outbound_host(h)) {
            return Err(ManifestError::OutboundHost(h.clone()));
        }
        Ok(())
    }

    /// `id@version`, the key of an installed version.
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let m = Manifest::parse_json(br#"{"id":"org.example.grader","version":"1.2.3","slot":"grading","data_version":1,"capabilities":{"kv_quota_bytes":1048576}}"#).unwrap();
        assert_eq!(m.key(), "org.example.grader@1.2.3");
        assert_eq!(m.resources, Resources::default());
        type Expect = fn(&ManifestError) -> bool;
        let cases: [(&str, Expect); 7] = [
            (
                r#"{"id":"nodots","version":"1.0.0","slot":"grading","data_version":1}"#,
                |e| matches!(e, ManifestError::Id(id) if id == "nodots"),
            ),
            (
                r#"{"id":"a.b","version":"one","slot":"grading","data_version":1}"#,
                |e| matches!(e, ManifestError::Version { version, .. } if version == "one"),
            ),
            (r#"{"id":"a.b","version":"1.0.0","slot":"karaoke","data_version":1}"#, |e| {
                matches!(e, ManifestError::Json(_))
            }),
            (
                r#"{"id":"a.b","version":"1.0.0","slot":"grading","data_version":1,"capabilities":{"clock":true}}"#,
                |e| matches!(e, ManifestError::ServiceNotInSlot { slot: Slot::Grading, service: Service::Clock }),
            ),
            (r#"{"id":"a.b","version":"1.0.0","slot":"grading","data_version":1,"surprise":1}"#, |e| {
                matches!(e, ManifestError::Json(_))
            }),
            (
                r#"{"id":"a.b","version":"1.0.0","slot":"proctoring","data_version":1,"capabilities":{"publish":["bad topic"]}}"#,
                |e| matches!(e, ManifestError::Topic(t) if t == "bad topic"),
            ),
            (r#"{"id":"a.b","version":"1.0.0","slot":"grading","data_version":1,"resources":{"memory_mib":0}}"#, |e| {
                matches!(e, ManifestError::Memory(0))
            }),
        ];
        for (bad, expected) in cases {
            let err = Manifest::parse_json(bad.as_bytes()).unwrap_err();
            assert!(expected(&err), "{bad}: {err:?}");
        }
    }

    #[test]
    fn grants_narrow_requests() {
        let requested = Capabilities {
            kv_quota_bytes: Some(10 << 20),
            publish: vec!["a".into(), "b".into()],
            clock: true,
            ..Default::default()
        };
        let grant = Capabilities { kv_quota_bytes: Some(1 << 20), publish: vec!["b".into()], ..Default::default() };
        let eff = grant.intersect(&requested);
        assert_eq!(eff.kv_quota_bytes, Some(1 << 20));
        assert_eq!(eff.publish, vec!["b".to_string()]);
        assert!(!eff.clock);
    }

    #[test]
    fn outbound_hosts_are_for_observers_and_match_exactly() {
        let observer = |hosts: &str| {
            Manifest::parse_json(
                format!(r#"{{"id":"a.b","version":"1.0.0","slot":"observer","data_version":1,"capabilities":{{"outbound_hosts":{hosts}}}}}"#)
                    .as_bytes(),
            )
        };
        let m = observer(r#"["sis.example.edu","127.0.0.1:8080"]"#).unwrap();
        assert_eq!(m.slot, Slot::Observer);
        for bad in [
            r#"["https://x.org"]"#,
            r#"["x.org/path"]"#,
            r#"["x.org:0"]"#,
            r#"["x.org:99999"]"#,
            r#"[""]"#,
            r#"[".x.org"]"#,
        ] {
            assert!(matches!(observer(bad), Err(ManifestError::OutboundHost(_))), "{bad}");
        }
        let grading = Manifest::parse_json(
            br#"{"id":"a.b","version":"1.0.0","slot":"grading","data_version":1,"capabilities":{"outbound_hosts":["x.org"]}}"#,
        );
        assert!(matches!(grading, Err(ManifestError::OutboundNotInSlot { slot: Slot::Grading, .. })), "{grading:?}");

        let c = &m.capabilities;
        assert!(c.allows_host("sis.example.edu", 443, true) && c.allows_host("SIS.example.edu", 80, false));
        assert!(!c.allows_host("sis.example.edu", 8443, true), "a bare host allows the scheme's default port only");
        assert!(c.allows_host("127.0.0.1", 8080, false) && !c.allows_host("127.0.0.1", 8081, false));
        assert!(!c.allows_host("evil.example.edu", 443, true) && !c.allows_host("example.edu", 443, true));
        assert!(!c.allows_host("sis.example.edu.evil.org", 443, true), "no suffix or prefix matches");

        let grant = Capabilities { outbound_hosts: vec!["SIS.example.edu".into()], ..Default::default() };
        assert_eq!(
            grant.intersect(c).outbound_hosts,
            ["sis.example.edu"],
            "the admin grants some of the hosts asked for"
        );

        // `*` asks for the hosts the administrator names; it never matches by itself.
        let any = observer(r#"["*"]"#).unwrap().capabilities;
        assert!(!any.allows_host("*", 443, true) && !any.allows_host("x.org", 443, true));
        let grant = Capabilities { outbound_hosts: vec!["sis.example.edu".into(), "*".into()], ..Default::default() };
        let eff = grant.intersect(&any);
        assert_eq!(eff.outbound_hosts, ["sis.example.edu"], "a grant's own `*` grants nothing");
        assert!(eff.allows_host("sis.example.edu", 443, true));
    }

    /// The JSON a manifest is written as (the API and `lectern plugin` print
    /// it this way; stored records use the same fields with postcard).
    #[test]
    fn json_shape_is_stable() {
        let m = Manifest::parse_json(
            br#"{"id":"org.example.tutor","version":"2.0.0","slot":"tutoring","data_version":3,
                 "capabilities":{"kv_quota_bytes":1024,"subscribe":["course.completed"],"clock":true,"vector":true,"embed":true},
                 "resources":{"memory_mib":128,"call_timeout_ms":60000,"fuel":5}}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"id":"org.example.tutor","version":"2.0.0","slot":"tutoring","data_version":3,"capabilities":{"log":false,"kv_quota_bytes":1024,"publish":[],"subscribe":["course.completed"],"clock":true,"vector":true,"embed":true,"outbound_hosts":[]},"resources":{"memory_mib":128,"call_timeout_ms":60000,"fuel":5}}"#
        );
        assert_eq!(Manifest::parse_json(serde_json::to_string(&m).unwrap().as_bytes()).unwrap(), m);
        // `reuse_calls` shows only when set.
        let mut reused = m.clone();
        reused.resources.reuse_calls = 50;
        let json = serde_json::to_string(&reused).unwrap();
        assert!(
            json.ends_with(r#""resources":{"memory_mib":128,"call_timeout_ms":60000,"fuel":5,"reuse_calls":50}}"#),
            "{json}"
        );
        assert_eq!(Manifest::parse_json(json.as_bytes()).unwrap(), reused);
    }

    /// The first-party plugins' `manifest.json` files are manifests.
    #[test]
    fn first_party_manifests_parse() {
        let plugins = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins");
        let mut seen = 0;
        for slot in Slot::ALL {
            let path = plugins.join(slot.name()).join("manifest.json");
            let m = Manifest::parse_json(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert_eq!(m.slot, slot);
            seen += 1;
        }
        assert_eq!(seen, 4);
    }

    #[test]
    fn reverse_dns_names() {
        for (name, ok) in [
            ("org.lectern.grading", true),
            ("edu.example-u.x1", true),
            ("nodots", false),
            ("Org.example", false),
            ("org..example", false),
            ("org.-example", false),
            ("a.", false),
            ("ab", false),
        ] {
            assert_eq!(is_reverse_dns(name), ok, "{name}");
        }
    }
}
