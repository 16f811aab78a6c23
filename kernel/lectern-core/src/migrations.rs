//! The kernel's schema history. Append only: a released migration is never edited.

use lectern_storage::{Migration, StorageError, Store};

fn initial(store: &Store) -> Result<(), StorageError> {
    // Creates every tree of the first layout so later migrations can assume
    // them; each context creates its own.
    lectern_identity::Identity::create_trees(store)?;
    lectern_assessment::Assessments::create_trees(store)?;
    lectern_content::Content::create_trees(store)?;
    lectern_tutor::Tutor::create_trees(store)?;
    lectern_notifications::Notifications::create_trees(store)?;
    lectern_plugin_admin::PluginAdmin::create_trees(store)
}

pub(crate) const ALL: &[Migration] = &[
    Migration { version: 1, name: "initial layout", run: initial },
    Migration {
        version: 2,
        name: "email keys in NFKC and the look-alike index",
        run: lectern_identity::Identity::index_email_lookalikes,
    },
];
