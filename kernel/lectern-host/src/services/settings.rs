//! `settings`: what an administrator configured for a plugin, for the
//! calling institution, else platform-wide. The kernel stores a JSON object
//! per plugin and scope and never interprets it; a plugin reads only its own.

use crate::state::PluginState;

/// Largest settings document the kernel stores.
pub const MAX_SETTINGS_BYTES: usize = 64 * 1024;

/// The key of `plugin`'s settings in `scope` (an institution id, or `*`).
pub(crate) fn key(plugin: &str, scope: &str) -> Vec<u8> {
    [plugin.as_bytes(), b"\0", scope.as_bytes()].concat()
}

impl PluginState {
    /// The institution's settings, else the platform's, else `{}`.
    pub(crate) fn settings_get(&mut self) -> String {
        let t = &self.services.settings;
        let read = |scope: &str| match t.get(key(&self.who.id, scope)) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(plugin = %self.who.id, error = %e, "cannot read plugin settings");
                None
            }
        };
        read(&self.scope).or_else(|| read("*")).unwrap_or_else(|| "{}".into())
    }
}
