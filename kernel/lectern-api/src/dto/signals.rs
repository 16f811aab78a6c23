//! JSON shape of an integrity signal from the exam page (or derived by the
//! server), in both directions.

use lectern_host::slots::proctoring as p;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What happened. Clients may not send the kinds only the server observes
/// (`ip_changed`, `device_changed`, `concurrent_session`): those are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    FocusLost,
    FocusRegained,
    VisibilityHidden,
    VisibilityVisible,
    Copy,
    Paste,
    ContextMenu,
    FullscreenExit,
    IpChanged,
    DeviceChanged,
    Heartbeat,
    ConcurrentSession,
    DevtoolsOpened,
}

impl SignalKind {
    /// The wire name (`focus_lost`), for maps keyed by kind.
    pub fn name(self) -> &'static str {
        match self {
            Self::FocusLost => "focus_lost",
            Self::FocusRegained => "focus_regained",
            Self::VisibilityHidden => "visibility_hidden",
            Self::VisibilityVisible => "visibility_visible",
            Self::Copy => "copy",
            Self::Paste => "paste",
            Self::ContextMenu => "context_menu",
            Self::FullscreenExit => "fullscreen_exit",
            Self::IpChanged => "ip_changed",
            Self::DeviceChanged => "device_changed",
            Self::Heartbeat => "heartbeat",
            Self::ConcurrentSession => "concurrent_session",
            Self::DevtoolsOpened => "devtools_opened",
        }
    }
}

impl From<p::SignalKind> for SignalKind {
    fn from(k: p::SignalKind) -> Self {
        use p::SignalKind as K;
        match k {
            K::FocusLost => Self::FocusLost,
            K::FocusRegained => Self::FocusRegained,
            K::VisibilityHidden => Self::VisibilityHidden,
            K::VisibilityVisible => Self::VisibilityVisible,
            K::Copy => Self::Copy,
            K::Paste => Self::Paste,
            K::ContextMenu => Self::ContextMenu,
            K::FullscreenExit => Self::FullscreenExit,
            K::IpChanged => Self::IpChanged,
            K::DeviceChanged => Self::DeviceChanged,
            K::Heartbeat => Self::Heartbeat,
            K::ConcurrentSession => Self::ConcurrentSession,
            K::DevtoolsOpened => Self::DevtoolsOpened,
        }
    }
}

impl From<SignalKind> for p::SignalKind {
    fn from(k: SignalKind) -> Self {
        use SignalKind as K;
        match k {
            K::FocusLost => Self::FocusLost,
            K::FocusRegained => Self::FocusRegained,
            K::VisibilityHidden => Self::VisibilityHidden,
            K::VisibilityVisible => Self::VisibilityVisible,
            K::Copy => Self::Copy,
            K::Paste => Self::Paste,
            K::ContextMenu => Self::ContextMenu,
            K::FullscreenExit => Self::FullscreenExit,
            K::IpChanged => Self::IpChanged,
            K::DeviceChanged => Self::DeviceChanged,
            K::Heartbeat => Self::Heartbeat,
            K::ConcurrentSession => Self::ConcurrentSession,
            K::DevtoolsOpened => Self::DevtoolsOpened,
        }
    }
}

/// One integrity signal. Requests are read as leniently as before this type
/// existed (unknown fields are ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Signal {
    pub kind: SignalKind,
    /// When it happened, in milliseconds by the sender's clock.
    pub at_ms: u64,
    pub duration_ms: Option<u64>,
    pub detail: Option<String>,
}

impl From<p::Signal> for Signal {
    fn from(s: p::Signal) -> Self {
        Signal { kind: s.kind.into(), at_ms: s.at_ms, duration_ms: s.duration_ms, detail: s.detail }
    }
}

impl From<Signal> for p::Signal {
    fn from(s: Signal) -> Self {
        p::Signal { kind: s.kind.into(), at_ms: s.at_ms, duration_ms: s.duration_ms, detail: s.detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_wire_names_of_kernel_and_dto() {
        use p::SignalKind as K;
        let all = [
            K::FocusLost,
            K::FocusRegained,
            K::VisibilityHidden,
            K::VisibilityVisible,
            K::Copy,
            K::Paste,
            K::ContextMenu,
            K::FullscreenExit,
            K::IpChanged,
            K::DeviceChanged,
            K::Heartbeat,
            K::ConcurrentSession,
            K::DevtoolsOpened,
        ];
        for k in all {
            let dto = SignalKind::from(k);
            assert_eq!(serde_json::to_value(k).unwrap(), dto.name(), "{k:?}");
            assert_eq!(serde_json::to_value(dto).unwrap(), dto.name(), "{k:?}");
            assert_eq!(p::SignalKind::from(dto), k);
        }
    }
}
