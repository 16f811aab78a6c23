//! Removal of records that can no longer be used: expired sessions, spent or
//! expired authorization codes, expired refresh-token families, and stale
//! login-failure counters. Run periodically by the server; safe to run at any
//! time (each removal re-checks expiry against the same `now`).

use crate::Identity;
use crate::error::CoreError;

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: usize,
    pub auth_codes: usize,
    pub refresh_families: usize,
    pub refresh_tokens: usize,
    pub failure_counters: usize,
}

/// Redeemed codes are kept a while past expiry so a late replay is still
/// recognised as a replay (and revokes its grant) rather than as unknown.
const CODE_GRACE_SECS: i64 = 24 * 3600;
/// Failure counters older than this no longer delay anyone.
const FAILURE_MEMORY_SECS: i64 = 24 * 3600;

impl Identity {
    pub fn sweep_expired(&self) -> Result<Swept, CoreError> {
        let now = self.now();
        let mut out = Swept::default();
        let t = self.t();
        let idle = self.config().session_idle_secs;
        for row in t.sessions.scan_prefix(b"").collect::<Vec<_>>() {
            let (hash, s) = row?;
            if now >= s.absolute_expires_at || now >= s.last_seen_at + idle {
                let index = [crate::keys::inst_user(s.institution, s.user).as_slice(), s.id.bytes()].concat();
                self.store().transaction(&[&t.sessions, &t.sessions_by_user], |tx| {
                    tx.on(&t.sessions)?.remove(&hash)?;
                    tx.on(&t.sessions_by_user)?.remove(&index)?;
                    Ok::<_, lectern_storage::TxFail<CoreError>>(())
                })?;
                out.sessions += 1;
            }
        }
        for row in t.auth_codes.scan_prefix(b"").collect::<Vec<_>>() {
            let (k, c) = row?;
            if now >= c.expires_at + CODE_GRACE_SECS {
                t.auth_codes.remove(&k)?;
                out.auth_codes += 1;
            }
        }
        for row in t.refresh_families.scan_prefix(b"").collect::<Vec<_>>() {
            let (k, f) = row?;
            if now >= f.expires_at {
                self.store().transaction(&[&t.refresh_families, &t.refresh_tokens], |tx| {
                    tx.on(&t.refresh_families)?.remove(&k)?;
                    for h in &f.member_hashes {
                        tx.on(&t.refresh_tokens)?.remove(h)?;
                    }
                    Ok::<_, lectern_storage::TxFail<CoreError>>(())
                })?;
                out.refresh_families += 1;
                out.refresh_tokens += f.member_hashes.len();
            }
        }
        for row in t.login_failures.scan_prefix(b"").collect::<Vec<_>>() {
            let (k, c) = row?;
            if now >= c.last_failure_at + FAILURE_MEMORY_SECS {
                t.login_failures.remove(&k)?;
                out.failure_counters += 1;
            }
        }
        Ok(out)
    }
}
