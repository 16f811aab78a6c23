//! The kernel's schema history. Append only: a released migration is never edited.

use lectern_storage::{Migration, StorageError, Store};

fn initial(store: &Store) -> Result<(), StorageError> {
    // Creates every tree of the first layout so later migrations can assume them.
    crate::trees::Trees::open(store).map(|_| ())
}

pub(crate) const ALL: &[Migration] = &[Migration { version: 1, name: "initial layout", run: initial }];
