//! `org.lectern.content`: Lectern's first-party content plugin, and the
//! reference for anyone writing a plugin of their own.
//!
//! It owns two decisions the kernel deliberately does not make:
//! - what a page looks like: [`page::render_page`] turns Markdown into HTML
//!   ([`markdown`]) and then cleans it against a strict allowlist
//!   ([`sanitize`]); every byte of HTML the plugin returns has been through
//!   the sanitizer, raw HTML in the source included;
//! - what a student may see: [`visibility::item_visibility`] applies release
//!   dates and prerequisites, failing closed.
//!
//! It never reads the clock (the kernel passes `now-ms`, so answers are
//! reproducible and testable), keeps no state, and must never panic: a panic
//! traps the call and the student sees an error instead of a page.
//!
//! Layout: this file is the only one that touches the WIT bindings' export
//! side; the logic lives in plain modules so that `cargo test` runs it
//! natively (`visibility` reads the generated record types, which are plain
//! structs and work on any target).

pub mod markdown;
pub mod page;
pub mod sanitize;
pub mod slug;
pub mod time;
pub mod visibility;

#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod security_tests;

use lectern_sdk::v0_2::content::exports::lectern::plugin::content::{
    self, Heading, Module, Progress, RenderedPage, Visibility,
};
use lectern_sdk::v0_2::content::lectern::plugin::types::{Context, Error};

/// Must match `manifest.json`; the host refuses a component whose `info`
/// disagrees with its manifest.
pub const ID: &str = "org.lectern.content";
pub const VERSION: &str = "1.1.0";
/// Nothing is stored yet; the first layout that is gets 2 and a `migrate`.
pub const DATA_VERSION: u32 = 1;

// Natively (unit tests) nothing exports it, see the bottom of the file.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Plugin;

lectern_sdk::simple_lifecycle!(
    v0_2::content,
    Plugin,
    id = ID,
    name = "Lectern content",
    version = VERSION,
    data_version = DATA_VERSION
);

impl content::Guest for Plugin {
    // `ctx` is unused: rendering is the same for every institution and role,
    // and messages are English only for now (see the README on `locale`).
    fn render_markdown(_ctx: Context, source: String) -> Result<RenderedPage, Error> {
        let page = page::render_page(&source).map_err(|e| Error::InvalidInput(e.to_string()))?;
        Ok(RenderedPage {
            html: page.html,
            toc: page.toc.into_iter().map(|h| Heading { level: h.level, text: h.text, anchor: h.anchor }).collect(),
            words: page.words,
            reading_minutes: page.reading_minutes,
            text: page.text,
        })
    }

    fn item_visibility(
        _ctx: Context,
        modules: Vec<Module>,
        progress: Vec<Progress>,
        now_ms: u64,
    ) -> Result<Vec<Visibility>, Error> {
        Ok(visibility::item_visibility(&modules, &progress, now_ms))
    }
}

// Only for WebAssembly: the export names (`lectern:plugin/content@0.1.0#…`)
// are not valid symbol names for a native linker, and the native build of
// this crate exists only to run the unit tests.
#[cfg(target_arch = "wasm32")]
lectern_sdk::v0_2::content::export!(Plugin);
