//! Builds the guest fixtures (tests/fixtures/*) and the first-party plugins
//! (plugins/*) for wasm32-wasip2 from source and tells the tests where the
//! components are (`guests.rs` in OUT_DIR). The building itself is
//! `lectern-guest-build`, shared with the `lectern` binary's build script.

const GUESTS: &[(&str, &str)] = &[
    ("GRADING_V1", "grading-v1"),
    ("GRADING_V2", "grading-v2"),
    ("GRADING_V3_BAD_MIGRATE", "grading-v3-bad-migrate"),
    ("GRADING_BENCH", "grading-bench"),
    ("PROCTORING", "proctoring-basic"),
    ("CONTENT", "content-basic"),
    ("TUTORING", "tutoring-basic"),
    ("HOSTILE", "hostile"),
    ("HOSTILE_OBSERVER", "hostile-observer"),
    ("HOSTILE_QUESTION_TYPE", "hostile-question-type"),
    ("HOSTILE_ACTIVITY", "hostile-activity"),
    ("UNDECLARED", "undeclared"),
    // A grader built against lectern:plugin@0.1.1 and one against 0.3.0 (tests/fixtures/wit-future).
    ("GRADING_CONTRACT_0_1_1", "grading-contract-0-1-1"),
    ("GRADING_CONTRACT_0_3_0", "grading-contract-0-3-0"),
    // Guests of the 0.2.0 contract (wit/lectern-plugin@0.2.0).
    ("GRADING_0_2", "grading-0-2"),
    ("PROCTORING_0_2", "proctoring-0-2"),
    // The same grader built against 0.2.1 (the same contract, corrected documentation).
    ("GRADING_0_2_1", "grading-0-2-1"),
    // Example third-party plugins (plugins/examples).
    ("EXAMPLE_GRADE_WEBHOOK", "lectern-example-grade-webhook"),
    ("EXAMPLE_FORMULA_QUESTION", "lectern-example-formula-question"),
    ("EXAMPLE_FLASHCARDS", "lectern-example-flashcards"),
    ("TEMPLATE", "lectern-plugin-template"),
    // First-party plugins: tests run the real ones, not only fixtures.
    ("CONTENT_PLUGIN", "lectern-content"),
    ("GRADING_PLUGIN", "lectern-grading"),
    ("PROCTORING_PLUGIN", "lectern-proctoring"),
    ("TUTORING_PLUGIN", "lectern-tutoring"),
];

fn main() {
    let root = lectern_guest_build::repo_root(1);
    lectern_guest_build::rerun_if_guests_change(
        &root,
        &[
            "tests/fixtures",
            "plugins/content",
            "plugins/grading",
            "plugins/proctoring",
            "plugins/tutoring",
            "plugins/examples",
        ],
    );
    let mut consts = String::new();
    for (name, pkg) in GUESTS {
        let file = lectern_guest_build::build(&root, pkg);
        consts.push_str(&format!(
            "/// The `{pkg}` component.\npub const {name}: &str = {:?};\n",
            file.display().to_string()
        ));
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("guests.rs");
    if let Err(e) = std::fs::write(&out, consts) {
        panic!("cannot write {}: {e}", out.display());
    }
}
