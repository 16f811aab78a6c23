use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The kernel's notion of now, in Unix seconds. `Clock::system()` in
/// production; tests use a manual clock to expire tokens and sessions
/// without sleeping.
#[derive(Clone, Debug)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { offset: Arc::new(AtomicI64::new(0)) }
    }

    pub fn now(&self) -> i64 {
        let sys =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        sys + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}
