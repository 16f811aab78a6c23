//! Static assets of a plugin version (images, sounds, fonts, data files):
//! the files under `assets/` of its verified package, kept with the
//! installed version and served by the kernel (never by the plugin) at
//! `/plugin-assets/{id}@{version}/{name}`. Views name them (`types.view`
//! `assets`) and use them as `<img src="asset:NAME">`, which the kernel's
//! view policy turns into that URL only for a listed asset of the version
//! that drew the view (`crate::view`).
//!
//! An asset is content-addressed on disk (`components/assets/<sha256>`),
//! written durably before the index that names it; an index lives as long
//! as its installed version.

use std::collections::BTreeMap;

use lectern_storage::Record;
use serde::{Deserialize, Serialize};

/// More files than a view could use.
pub const MAX_ASSETS: usize = 200;
/// Per file.
pub const MAX_ASSET_BYTES: usize = 8 * 1024 * 1024;
/// Per version.
pub const MAX_TOTAL_BYTES: usize = 32 * 1024 * 1024;

/// One stored asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetFile {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}

/// The assets of one installed version, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetIndex {
    pub files: BTreeMap<String, AssetFile>,
}

impl Record for AssetIndex {
    const VERSION: u8 = 1;
}

/// A name a view may use: a plain file name of `[A-Za-z0-9._-]`, 1–128
/// bytes, not starting with `.` (no directories, no traversal, nothing to
/// escape in a URL or an attribute).
pub fn is_asset_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && !name.starts_with('.')
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// The type an asset is served as, from its extension. Types a browser
/// would run as a document or script are served as downloads' bytes
/// (`application/octet-stream`), and the route adds a sandboxing CSP.
pub fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "wav" => "audio/wav",
        "webm" => "video/webm",
        "mp4" => "video/mp4",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "vtt" => "text/vtt; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Checks a package's assets (paths as in the package, under `assets/`)
/// and returns them by asset name.
pub fn check(assets: &BTreeMap<String, Vec<u8>>) -> Result<BTreeMap<String, &[u8]>, String> {
    if assets.len() > MAX_ASSETS {
        return Err(format!("{} assets; at most {MAX_ASSETS}", assets.len()));
    }
    let mut total = 0usize;
    let mut out = BTreeMap::new();
    for (path, bytes) in assets {
        let name = path.strip_prefix("assets/").unwrap_or(path);
        if !is_asset_name(name) {
            return Err(format!(
                "asset `{path}`: a plain file name under assets/ of 1–128 characters of A–Z, a–z, 0–9, `.`, `_` or `-`"
            ));
        }
        if bytes.len() > MAX_ASSET_BYTES {
            return Err(format!("asset `{name}` is {} bytes; at most {MAX_ASSET_BYTES}", bytes.len()));
        }
        total += bytes.len();
        out.insert(name.to_owned(), bytes.as_slice());
    }
    if total > MAX_TOTAL_BYTES {
        return Err(format!("the assets total {total} bytes; at most {MAX_TOTAL_BYTES}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        for ok in ["deck.png", "a-b_c.1.svg", "README"] {
            assert!(is_asset_name(ok), "{ok}");
        }
        for bad in ["", ".hidden", "../x.png", "a/b.png", "a b.png", "é.png", &"x".repeat(129)] {
            assert!(!is_asset_name(bad), "{bad}");
        }
        assert_eq!(content_type("Deck.PNG"), "image/png");
        assert_eq!(content_type("page.html"), "application/octet-stream");
        assert_eq!(content_type("run.js"), "application/octet-stream");
    }

    #[test]
    fn package_assets_are_checked() {
        let ok: BTreeMap<String, Vec<u8>> = [("assets/deck.png".to_owned(), vec![1, 2])].into();
        assert_eq!(check(&ok).unwrap().keys().collect::<Vec<_>>(), ["deck.png"]);
        let nested: BTreeMap<String, Vec<u8>> = [("assets/img/deck.png".to_owned(), vec![1])].into();
        assert!(check(&nested).unwrap_err().contains("plain file name"));
        let big: BTreeMap<String, Vec<u8>> = [("assets/big.bin".to_owned(), vec![0; MAX_ASSET_BYTES + 1])].into();
        assert!(check(&big).unwrap_err().contains("at most"));
    }
}
