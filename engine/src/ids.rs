//! Names from a definition and identities from outside, each its own type so that a state
//! cannot be passed where a role is meant.

use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

name_type!(
    /// A state of the main lifecycle or of a region.
    StateName
);
name_type!(
    /// An action's name; several actions may share one from different states.
    ActionName
);
name_type!(
    /// A role declared by the definition.
    RoleName
);
name_type!(
    /// A form (saved draft document) declared by the definition.
    FormName
);
name_type!(
    /// A parallel region of the lifecycle.
    RegionName
);
name_type!(
    /// A named deadline.
    DeadlineName
);
name_type!(
    /// A user, as the service identifies it.
    UserId
);
