//! Privacy requests: a person's notifications and preferences, and their erasure.
//! The facade (`lectern-core::privacy`) authorizes and audits.

use lectern_domain::ids::{InstitutionId, UserId};
use lectern_domain::{CoreError, keys};
use serde_json::{Value, json};

use crate::Notifications;

impl Notifications {
    /// Every notification the person has (read or not) and their preferences.
    pub fn person_export(&self, inst: InstitutionId, user: UserId) -> Result<Value, CoreError> {
        let prefix = keys::inst_user(inst, user);
        let items: Vec<Value> = self
            .t()
            .notifications
            .scan_prefix(&prefix)
            .map(|r| r.map(|(_, n)| serde_json::to_value(&n).unwrap_or(Value::Null)))
            .collect::<Result<_, _>>()?;
        let prefs = self.t().notification_prefs.get(&prefix)?;
        Ok(
            json!({"notifications": items, "preferences": prefs.map(|p| serde_json::to_value(&p).unwrap_or(Value::Null))}),
        )
    }

    /// Deletes the person's notifications and preferences. Returns how many notifications went.
    pub fn erase_person(&self, inst: InstitutionId, user: UserId) -> Result<u64, CoreError> {
        let prefix = keys::inst_user(inst, user);
        let keys: Vec<Vec<u8>> =
            self.t().notifications.scan_prefix(&prefix).map(|r| r.map(|(k, _)| k)).collect::<Result<_, _>>()?;
        for k in &keys {
            self.t().notifications.remove(k)?;
        }
        self.t().notification_prefs.remove(&prefix)?;
        Ok(keys.len() as u64)
    }
}
