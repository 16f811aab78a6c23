use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered (v7) id, so keys sort by creation.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }
            pub fn bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
            pub fn from_slice(b: &[u8]) -> Option<Self> {
                Uuid::from_slice(b).ok().map($name)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl lectern_storage::Record for $name {
            const VERSION: u8 = 1;
        }
    };
}

id_type!(
    /// An institution (tenant).
    InstitutionId
);
id_type!(
    /// A user, unique within the platform; always stored under its institution.
    UserId
);
id_type!(
    /// A course within an institution.
    CourseId
);
id_type!(
    /// A login session (its public id; the secret is stored only as a hash).
    SessionId
);
