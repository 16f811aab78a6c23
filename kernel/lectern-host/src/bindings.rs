//! Generated host bindings for `lectern:plugin@0.1.0`. Nothing outside this
//! crate sees these types: `convert.rs` maps them to the version-free types in
//! `slots`. A future `lectern:plugin@0.2.0` gets its own module beside this one.

wasmtime::component::bindgen!({
    path: "../../wit/lectern-plugin@0.1.0",
    interfaces: "
        import lectern:plugin/kv@0.1.0;
        import lectern:plugin/events@0.1.0;
        import lectern:plugin/log@0.1.0;
        import lectern:plugin/clock@0.1.0;
        import lectern:plugin/vector@0.1.0;
        import lectern:plugin/embed@0.1.0;
        export lectern:plugin/lifecycle@0.1.0;
        export lectern:plugin/grader@0.1.0;
        export lectern:plugin/proctor@0.1.0;
        export lectern:plugin/content@0.1.0;
        export lectern:plugin/tutor@0.1.0;
    ",
});
