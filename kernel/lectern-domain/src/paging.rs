use crate::error::CoreError;

/// A request for one page of a listing.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    pub limit: Option<usize>,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

impl PageRequest {
    pub fn limit(&self) -> Result<usize, CoreError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(0) => Err(CoreError::invalid("limit", "must be at least 1")),
            Some(n) if n > MAX_LIMIT => Err(CoreError::invalid("limit", format!("must be at most {MAX_LIMIT}"))),
            Some(n) => Ok(n),
        }
    }

    /// The storage key the cursor stands for. Cursors are hex of a full key;
    /// storage ignores a cursor outside the listing's prefix, so a forged
    /// cursor cannot reach another tenant.
    pub fn after(&self) -> Result<Option<Vec<u8>>, CoreError> {
        let Some(c) = &self.cursor else { return Ok(None) };
        let bad = || CoreError::invalid("cursor", "is not a cursor this server issued");
        if c.len() % 2 != 0 || c.len() > 512 {
            return Err(bad());
        }
        (0..c.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(c.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
            .collect::<Result<Vec<u8>, _>>()
            .map(Some)
    }
}

pub fn cursor_for(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// One page of results.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1`-style raw rows: `rows` holds at most
    /// `limit` entries and `last_key` the key of the last one.
    pub fn from_rows(items: Vec<T>, last_key: Option<Vec<u8>>, limit: usize) -> Page<T> {
        let next_cursor = if items.len() == limit { last_key.map(|k| cursor_for(&k)) } else { None };
        Page { items, next_cursor }
    }
}
