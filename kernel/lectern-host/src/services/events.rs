//! `events`, `log` and `clock`: publishing on granted topics through the
//! kernel's outbox, structured logging tagged with the plugin and request,
//! and wall-clock time.

use lectern_bus::Outgoing;

use super::kv::MAX_KEY_BYTES;
use super::{Field, LogLevel, ServiceError};
use crate::state::{INSTITUTION_PROPERTY, PLUGIN_PROPERTY, PluginState};

pub(crate) const MAX_EVENT_BYTES: usize = 256 * 1024;

impl PluginState {
    /// Stages the event in the plugin outbox (durable before returning); the
    /// kernel relays it to the bus with who published it and for which institution.
    pub(crate) fn events_publish(&mut self, topic: String, key: String, payload: Vec<u8>) -> Result<(), ServiceError> {
        if !self.who.grants.publish.contains(&topic) {
            return Err(ServiceError::Denied(format!("topic `{topic}` is not granted to this plugin")));
        }
        if payload.len() > MAX_EVENT_BYTES || key.len() > MAX_KEY_BYTES {
            return Err(ServiceError::QuotaExceeded(format!(
                "events carry at most {MAX_EVENT_BYTES} bytes and a key of {MAX_KEY_BYTES}"
            )));
        }
        let msg = Outgoing::new(topic, key, payload)
            .property(PLUGIN_PROPERTY, self.who.id.clone())
            .property(INSTITUTION_PROPERTY, self.scope.clone());
        self.services.outbox.insert(msg).map_err(Self::storage_error)?;
        self.services.store.durable_blocking().map_err(Self::storage_error)?;
        self.services.outbox.notify();
        Ok(())
    }

    /// Logs into the kernel's log under target `plugin`; message and fields are truncated.
    pub(crate) fn log_message(&mut self, level: LogLevel, message: &str, fields: &[Field]) {
        let message: String = message.chars().take(4096).collect();
        let fields: String = fields
            .iter()
            .take(32)
            .map(|f| format!("{}={} ", f.key, f.value))
            .collect::<String>()
            .chars()
            .take(4096)
            .collect();
        let (plugin, version, request) = (&self.who.id, &self.who.version, &self.request_id);
        match level {
            LogLevel::Trace => {
                tracing::trace!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
            LogLevel::Debug => {
                tracing::debug!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
            LogLevel::Info => {
                tracing::info!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
            LogLevel::Error => {
                tracing::error!(target: "plugin", %plugin, %version, %request, fields = %fields.trim_end(), "{message}")
            }
        }
    }

    /// Milliseconds since the Unix epoch.
    pub(crate) fn clock_now_ms(&mut self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }
}
