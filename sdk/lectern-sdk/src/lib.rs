//! The Lectern plugin SDK: write a plugin for Lectern in Rust.
//!
//! Enable the Cargo feature of your plugin's world; one per plugin, since
//! each world exports the same `lifecycle` symbols (build each plugin with
//! its own `cargo build -p`). For `lectern:plugin@0.2.0`, the current
//! contract: `v0_2-grading`, `v0_2-proctoring`, `v0_2-content`,
//! `v0_2-tutoring`, `v0_2-observer`, `v0_2-question-type`, `v0_2-activity`,
//! giving the modules [`v0_2`]`::grading`, … For `lectern:plugin@0.1.0`
//! (still served): `grading`, `proctoring`, `content`, `tutoring`, giving
//! [`grading`], [`proctoring`], [`content`], [`tutoring`].
//! A module contains the imported kernel services (`lectern::plugin::kv`,
//! `…::log`, …), the traits your plugin implements
//! (`exports::lectern::plugin::lifecycle::Guest` and the world's interface),
//! an export macro, and typed helpers (`store` for kv, `log`, and `config`
//! for the settings of observer and activity plugins).
//!
//! ```ignore
//! use lectern_sdk::v0_2::grading::exports::lectern::plugin::grader;
//! use lectern_sdk::v0_2::grading::lectern::plugin::types::{Context, Error};
//!
//! struct MyGrader;
//!
//! lectern_sdk::simple_lifecycle!(v0_2::grading, MyGrader, id = "edu.example.grader",
//!                                name = "Example grader", version = "1.0.0", data_version = 1);
//!
//! impl grader::Guest for MyGrader {
//!     fn grade(ctx: Context, submissions: Vec<grader::Submission>) -> Result<Vec<grader::Graded>, Error> {
//!         lectern_sdk::v0_2::grading::log::info(&format!("grading {} for {}", submissions.len(), ctx.institution));
//!         todo!()
//!     }
//! }
//!
//! lectern_sdk::v0_2::grading::export!(MyGrader);
//! ```
//!
//! Build with `cargo build --target wasm32-wasip2 --release`; the `.wasm` in
//! `target/wasm32-wasip2/release/` is a component the Lectern host installs.
//! See `sdk/README.md` for the whole workflow.

/// Implements `lifecycle` for a plugin that needs no setup, no data
/// migration and no events: `info` returns the given identity, the rest succeed.
///
/// ```ignore
/// lectern_sdk::simple_lifecycle!(v0_2::grading, MyGrader, id = "edu.example.grader", name = "Example", version = "1.0.0", data_version = 1);
/// ```
#[macro_export]
macro_rules! simple_lifecycle {
    ($($world:ident)::+, $ty:ty, id = $id:expr, name = $name:expr, version = $version:expr, data_version = $dv:expr $(,)?) => {
        impl $crate::$($world)::+::exports::lectern::plugin::lifecycle::Guest for $ty {
            fn info() -> $crate::$($world)::+::exports::lectern::plugin::lifecycle::PluginInfo {
                $crate::$($world)::+::exports::lectern::plugin::lifecycle::PluginInfo {
                    id: ($id).into(),
                    name: ($name).into(),
                    version: ($version).into(),
                    data_version: $dv,
                }
            }
            fn init() -> Result<(), $crate::$($world)::+::lectern::plugin::types::Error> {
                Ok(())
            }
            fn migrate(_from: u32) -> Result<(), $crate::$($world)::+::lectern::plugin::types::Error> {
                Ok(())
            }
            fn on_event(
                _event: $crate::$($world)::+::OnEvent,
                _payload: Vec<u8>,
            ) -> Result<(), $crate::$($world)::+::lectern::plugin::types::Error> {
                Ok(())
            }
        }
    };
}

/// Typed helpers generated inside each world module: `store` for worlds
/// that import `kv`, `log` for all. (Unused only in a build with no feature
/// but `v0_2-question-type`, which imports no `kv`.)
#[allow(unused_macros)]
macro_rules! helpers {
    () => {
        store_helpers!();
        log_helpers!();
    };
}

#[allow(unused_macros)]
macro_rules! store_helpers {
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
    };
}

macro_rules! log_helpers {
    () => {
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

#[allow(unused_macros)] // used only by the worlds that import `settings`
macro_rules! settings_helpers {
    () => {
        /// The settings an administrator configured for this plugin, typed.
        pub mod config {
            use super::lectern::plugin::settings;
            use super::lectern::plugin::types::Error;

            /// The calling institution's settings (else the platform's) as
            /// `T` (`{}` when nothing is configured, so give `T` defaults).
            pub fn get<T: serde::de::DeserializeOwned>() -> Result<T, Error> {
                serde_json::from_str(&settings::get())
                    .map_err(|e| Error::InvalidInput(format!("the plugin's settings do not fit: {e}")))
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
    /// What `lifecycle.on-event` receives first in this contract: the topic.
    pub type OnEvent = String;
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
    /// What `lifecycle.on-event` receives first in this contract: the topic.
    pub type OnEvent = String;

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
    /// What `lifecycle.on-event` receives first in this contract: the topic.
    pub type OnEvent = String;
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
    /// What `lifecycle.on-event` receives first in this contract: the topic.
    pub type OnEvent = String;
}

/// `lectern:plugin@0.2.0`: the same four slot worlds, with 0.1's known limits
/// fixed (events carry their context, calls name their item, proctoring
/// batches and structured evidence, the tutor's open assessment and
/// citation anchors), and three worlds that add to Lectern instead of
/// filling a slot: `observer`, `question_type`, `activity`. Enable the
/// world's `v0_2-…` feature. A plugin built on these runs on every kernel
/// that serves 0.2 (see `wit/README.md` for the rules of evolution).
pub mod v0_2 {
    /// The `grading-plugin` world: export `lifecycle` and `grader`.
    #[cfg(feature = "v0_2-grading")]
    pub mod grading {
        wit_bindgen::generate!({
            path: "../../wit/lectern-plugin@0.2.0",
            world: "grading-plugin",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "lectern_sdk::v0_2::grading",
        });
        helpers!();
        /// What `lifecycle.on-event` receives first: the delivery's context.
        pub type OnEvent = lectern::plugin::types::EventContext;
    }

    /// The `proctoring-plugin` world: export `lifecycle` and `proctor`.
    #[cfg(feature = "v0_2-proctoring")]
    pub mod proctoring {
        wit_bindgen::generate!({
            path: "../../wit/lectern-plugin@0.2.0",
            world: "proctoring-plugin",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "lectern_sdk::v0_2::proctoring",
        });
        helpers!();
        /// What `lifecycle.on-event` receives first: the delivery's context.
        pub type OnEvent = lectern::plugin::types::EventContext;

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
    #[cfg(feature = "v0_2-content")]
    pub mod content {
        wit_bindgen::generate!({
            path: "../../wit/lectern-plugin@0.2.0",
            world: "content-plugin",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "lectern_sdk::v0_2::content",
        });
        helpers!();
        /// What `lifecycle.on-event` receives first: the delivery's context.
        pub type OnEvent = lectern::plugin::types::EventContext;
    }

    /// The `tutoring-plugin` world: export `lifecycle` and `tutor`.
    #[cfg(feature = "v0_2-tutoring")]
    pub mod tutoring {
        wit_bindgen::generate!({
            path: "../../wit/lectern-plugin@0.2.0",
            world: "tutoring-plugin",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "lectern_sdk::v0_2::tutoring",
        });
        helpers!();
        /// What `lifecycle.on-event` receives first: the delivery's context.
        pub type OnEvent = lectern::plugin::types::EventContext;
    }

    /// The `observer-plugin` world: export `lifecycle`; receive events,
    /// read settings, call granted hosts over `wasi:http`.
    #[cfg(feature = "v0_2-observer")]
    pub mod observer {
        wit_bindgen::generate!({
            path: "../../wit/lectern-plugin@0.2.0",
            world: "observer-plugin",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "lectern_sdk::v0_2::observer",
            generate_all,
        });
        helpers!();
        settings_helpers!();
        /// What `lifecycle.on-event` receives first: the delivery's context.
        pub type OnEvent = lectern::plugin::types::EventContext;
    }

    /// The `question-type-plugin` world: export `lifecycle` and
    /// `question-type`. It imports only `log` (grading is deterministic).
    #[cfg(feature = "v0_2-question-type")]
    pub mod question_type {
        wit_bindgen::generate!({
            path: "../../wit/lectern-plugin@0.2.0",
            world: "question-type-plugin",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "lectern_sdk::v0_2::question_type",
        });
        log_helpers!();
        /// What `lifecycle.on-event` receives first: the delivery's context.
        pub type OnEvent = lectern::plugin::types::EventContext;
    }

    /// The `activity-plugin` world: export `lifecycle` and `activity`;
    /// scores and completions through the `gradebook` import.
    #[cfg(feature = "v0_2-activity")]
    pub mod activity {
        wit_bindgen::generate!({
            path: "../../wit/lectern-plugin@0.2.0",
            world: "activity-plugin",
            pub_export_macro: true,
            export_macro_name: "export",
            default_bindings_module: "lectern_sdk::v0_2::activity",
        });
        helpers!();
        settings_helpers!();
        /// What `lifecycle.on-event` receives first: the delivery's context.
        pub type OnEvent = lectern::plugin::types::EventContext;
    }
}
