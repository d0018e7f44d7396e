//! Who is calling: a signed-in user with its role and unit.

use crate::store::entities::user;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user's role. Its name is the role name workflows bind (`roles:` in the YAML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    ProvincialAdmin,
    MunicipalReviewer,
    Applicant,
    Expert,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProvincialAdmin => "provincial_admin",
            Self::MunicipalReviewer => "municipal_reviewer",
            Self::Applicant => "applicant",
            Self::Expert => "expert",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::ProvincialAdmin,
            Self::MunicipalReviewer,
            Self::Applicant,
            Self::Expert,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The signed-in user of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Caller {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub org_unit: String,
}

impl Caller {
    pub fn from_row(u: user::Model) -> Option<Self> {
        Some(Self {
            role: Role::parse(&u.role)?,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            org_unit: u.org_unit,
        })
    }

    /// The built-in administrator (the province), who manages users, units and the calendar.
    pub fn is_admin(&self) -> bool {
        self.role == Role::ProvincialAdmin
    }
}
