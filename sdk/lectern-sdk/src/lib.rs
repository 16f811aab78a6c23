//! The Lectern plugin SDK: write a plugin for one slot of Lectern in Rust.
//!
//! Enable the Cargo feature of your plugin's slot (`grading`, `proctoring`,
//! `content` or `tutoring`; one per plugin, since each world exports the same
//! `lifecycle` symbols). Each slot is a module generated from the `lectern:plugin@0.1.0` WIT world
//! of the same name: [`grading`], [`proctoring`], [`content`], [`tutoring`].
//! A module contains the imported kernel services (`lectern::plugin::kv`,
//! `…::log`, …), the traits your plugin implements
//! (`exports::lectern::plugin::lifecycle::Guest` and the slot's interface),
//! an export macro, and typed helpers ([`grading::store`], [`grading::log`]).
//!
//! ```ignore
//! use lectern_sdk::grading::exports::lectern::plugin::{grader, lifecycle};
//! use lectern_sdk::grading::lectern::plugin::types::{Context, Error};
//!
//! struct MyGrader;
//!
//! impl lifecycle::Guest for MyGrader {
//!     fn info() -> lifecycle::PluginInfo {
//!         lifecycle::PluginInfo { id: "edu.example.grader".into(), name: "Example grader".into(),
//!                                 version: "1.0.0".into(), data_version: 1 }
//!     }
//!     fn init() -> Result<(), Error> { Ok(()) }
//!     fn migrate(_from: u32) -> Result<(), Error> { Ok(()) }
//!     fn on_event(_topic: String, _payload: Vec<u8>) -> Result<(), Error> { Ok(()) }
//! }
//!
//! impl grader::Guest for MyGrader {
//!     fn grade(ctx: Context, submissions: Vec<grader::Submission>) -> Result<Vec<grader::Graded>, Error> {
//!         lectern_sdk::grading::log::info(&format!("grading {} for {}", submissions.len(), ctx.institution));
//!         todo!()
//!     }
//! }
//!
//! lectern_sdk::grading::export!(MyGrader);
//! ```
//!
//! Build with `cargo build --target wasm32-wasip2 --release`; the `.wasm` in
//! `target/wasm32-wasip2/release/` is a component the Lectern host installs.
//! See `sdk/README.md` for the whole workflow.

/// Implements `lifecycle` for a plugin that needs no setup, no data
/// migration and no events: `info` returns the given identity, the rest succeed.
///
/// ```ignore
/// lectern_sdk::simple_lifecycle!(grading, MyGrader, id = "edu.example.grader", name = "Example", version = "1.0.0", data_version = 1);
/// ```
#[macro_export]
macro_rules! simple_lifecycle {
    ($world:ident, $ty:ty, id = $id:expr, name = $name:expr, version = $version:expr, data_version = $dv:expr $(,)?) => {
        impl $crate::$world::exports::lectern::plugin::lifecycle::Guest for $ty {
            fn info() -> $crate::$world::exports::lectern::plugin::lifecycle::PluginInfo {
                $crate::$world::exports::lectern::plugin::lifecycle::PluginInfo {
                    id: ($id).into(),
                    name: ($name).into(),
                    version: ($version).into(),
                    data_version: $dv,
                }
            }
            fn init() -> Result<(), $crate::$world::lectern::plugin::types::Error> {
                Ok(())
            }
            fn migrate(_from: u32) -> Result<(), $crate::$world::lectern::plugin::types::Error> {
                Ok(())
            }
            fn on_event(
                _topic: String,
                _payload: Vec<u8>,
            ) -> Result<(), $crate::$world::lectern::plugin::types::Error> {
                Ok(())
            }
        }
    };
}

/// Typed helpers generated inside each world module.
macro_rules! helpers {
    () => {
        /// JSON-typed access to the plugin's private key-value store.
        pub mod store {
            use super::lectern::plugin::kv;
            use super::lectern::plugin::types::Error;

            /// Reads and decodes a JSON value.
            pub fn get<T: serde::de::DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
                match kv::get(key)? {
                    None => Ok(None),
                    Some(bytes) => serde_json::from_slice(&bytes)
                        .map(Some)
                        .map_err(|e| Error::Internal(format!("stored value at `{key}` is not valid: {e}"))),
                }
            }

            /// Encodes and writes a JSON value (durable when this returns `Ok`).
            pub fn put<T: serde::Serialize>(key: &str, value: &T) -> Result<(), Error> {
                let bytes = serde_json::to_vec(value).map_err(|e| Error::InvalidInput(e.to_string()))?;
                kv::set(key, &bytes)
            }

            /// Deletes a key; returns whether it existed.
            pub fn delete(key: &str) -> Result<bool, Error> {
                kv::delete(key)
            }

            /// All keys under `prefix`, following pages.
            pub fn keys(prefix: &str) -> Result<Vec<String>, Error> {
                let mut out = Vec::new();
                let mut after: Option<String> = None;
                loop {
                    let page = kv::list_keys(prefix, after.as_deref(), 1000)?;
                    let done = page.len() < 1000;
                    after = page.last().cloned();
                    out.extend(page);
                    if done {
                        return Ok(out);
                    }
                }
            }
        }

        /// Logging into the kernel's log, tagged with this plugin.
        pub mod log {
            use super::lectern::plugin::log::{Level, log};
            use super::lectern::plugin::types::Field;

            pub fn with_fields(level: Level, message: &str, fields: &[(&str, &str)]) {
                let fields: Vec<Field> =
                    fields.iter().map(|(k, v)| Field { key: (*k).to_owned(), value: (*v).to_owned() }).collect();
                log(level, message, &fields);
            }
            pub fn debug(message: &str) {
                log(Level::Debug, message, &[]);
            }
            pub fn info(message: &str) {
                log(Level::Info, message, &[]);
            }
            pub fn warn(message: &str) {
                log(Level::Warn, message, &[]);
            }
            pub fn error(message: &str) {
                log(Level::Error, message, &[]);
            }
        }
    };
}

/// The `grading-plugin` world: export `lifecycle` and `grader`.
#[cfg(feature = "grading")]
pub mod grading {
    wit_bindgen::generate!({
        path: "../../wit/lectern-plugin@0.1.0",
        world: "grading-plugin",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "lectern_sdk::grading",
    });
    helpers!();
}

/// The `proctoring-plugin` world: export `lifecycle` and `proctor`.
#[cfg(feature = "proctoring")]
pub mod proctoring {
    wit_bindgen::generate!({
        path: "../../wit/lectern-plugin@0.1.0",
        world: "proctoring-plugin",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "lectern_sdk::proctoring",
    });
    helpers!();

    /// Publishing JSON events on granted topics.
    pub mod publish {
        use super::lectern::plugin::events;
        use super::lectern::plugin::types::Error;

        /// Publishes `value` as JSON on `topic`; events with the same `key` stay in order.
        pub fn json<T: serde::Serialize>(topic: &str, key: &str, value: &T) -> Result<(), Error> {
            let bytes = serde_json::to_vec(value).map_err(|e| Error::InvalidInput(e.to_string()))?;
            events::publish(topic, key, &bytes)
        }
    }
}

/// The `content-plugin` world: export `lifecycle` and `content`.
#[cfg(feature = "content")]
pub mod content {
    wit_bindgen::generate!({
        path: "../../wit/lectern-plugin@0.1.0",
        world: "content-plugin",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "lectern_sdk::content",
    });
    helpers!();
}

/// The `tutoring-plugin` world: export `lifecycle` and `tutor`.
#[cfg(feature = "tutoring")]
pub mod tutoring {
    wit_bindgen::generate!({
        path: "../../wit/lectern-plugin@0.1.0",
        world: "tutoring-plugin",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "lectern_sdk::tutoring",
    });
    helpers!();
}
