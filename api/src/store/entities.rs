//! Table rows, one module per table (sea-orm entities).

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod org_unit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "org_units")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub name: String,
        pub level: String,
        pub parent_code: Option<String>,
        pub national_zone: bool,
    }
    no_relations!();
}

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub username: String,
        pub display_name: String,
        pub email: String,
        pub password_hash: String,
        pub role: String,
        pub org_unit: String,
        pub active: bool,
        pub created_at: DateTimeUtc,
        /// Experts: JSON array of the experiment areas they are versed in.
        pub expertise: String,
    }
    no_relations!();
}

pub mod expert_conflict {
    use sea_orm::entity::prelude::*;

    /// An expert's declared conflict of interest with a unit: recused from its cases (and,
    /// for a city, its districts' cases).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "expert_conflicts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub username: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub org_unit: String,
        pub reason: String,
        pub declared_at: DateTimeUtc,
    }
    no_relations!();
}

pub mod review_draft {
    use sea_orm::entity::prelude::*;

    /// An expert's unsubmitted score sheet: private to that expert, not an event.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_drafts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub action: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub username: String,
        /// The sheet as JSON text.
        pub data: String,
        pub updated_at: DateTimeUtc,
    }
    no_relations!();
}

pub mod document {
    use sea_orm::entity::prelude::*;

    /// A numbered document (文号) a decision was issued under; one number, one decision.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "documents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub workflow_key: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub number: String,
        /// The year in the number's 〔〕, when it has one.
        pub year: Option<i32>,
        pub action: String,
        /// JSON array of the case ids decided by it.
        pub case_ids: String,
        pub issued_by: String,
        pub issued_at: DateTimeUtc,
    }
    no_relations!();
}

pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub username: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub mod workflow_definition {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_definitions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: String,
        pub content_hash: String,
        pub source: String,
        /// The schemas the definition named, as a JSON object from path to document.
        pub schemas: String,
        pub loaded_at: DateTimeUtc,
    }
    no_relations!();
}

pub mod case {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cases")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub workflow_key: String,
        pub workflow_version: String,
        pub title: String,
        pub org_unit: String,
        pub parent_unit: Option<String>,
        pub round: Option<i32>,
        pub state: String,
        /// The engine's `CaseSnapshot` as JSON, without its forms (they are `case_forms`).
        pub snapshot: String,
        pub version: i64,
        /// Hash of the latest event: the next event chains to it.
        pub head_hash: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
    no_relations!();
}

pub mod case_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        pub kind: String,
        pub action: Option<String>,
        pub actor: Option<String>,
        pub actor_role: Option<String>,
        pub from_state: Option<String>,
        pub to_state: Option<String>,
        pub at: DateTimeUtc,
        pub input_digest: String,
        pub comment: Option<String>,
        /// The engine's `Event` as JSON.
        pub body: String,
        pub prev_hash: String,
        pub hash: String,
    }
    no_relations!();
}

/// A case's saved form, written only when it is saved (not with every transition).
pub mod case_form {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_forms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        /// The document as JSON.
        pub body: String,
        pub saved_at: DateTimeUtc,
    }
    no_relations!();
}

pub mod case_assignment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_assignments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub role: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub username: String,
    }
    no_relations!();
}

pub mod idempotency_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub username: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub request_hash: String,
        pub status: i32,
        pub response: String,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub mod attachment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attachments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub case_id: String,
        pub filename: String,
        pub content_type: String,
        pub size: i64,
        pub sha256: String,
        pub stored_name: String,
        pub uploaded_by: String,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}

pub mod calendar_year {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "calendar_years")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        /// JSON array of dates off.
        pub holidays: String,
        /// JSON array of weekend dates worked (调休).
        pub workdays: String,
        /// The notice the year comes from.
        pub source: String,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }
    no_relations!();
}

pub mod case_deadline {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_deadlines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub label: String,
        pub case_title: String,
        pub workflow_key: String,
        pub org_unit: String,
        pub parent_unit: Option<String>,
        pub due: DateTimeUtc,
        /// pending, met or missed.
        pub status: String,
        /// JSON array of role names.
        pub responsible: String,
        /// JSON array of action names.
        pub gates: String,
        /// JSON array of years counted Monday to Friday.
        pub fallback_years: String,
        pub updated_at: DateTimeUtc,
        /// JSON array of whole days before `due` when reminders go out.
        pub remind_days: String,
        /// JSON array of the roles told once the deadline has passed.
        pub escalate_to: String,
    }
    no_relations!();
}

pub mod deadline_schedule {
    use sea_orm::entity::prelude::*;

    /// Where each pending deadline stands in its reminder schedule. Narrow on purpose: the
    /// reminder scan moves every due deadline on by one row update here, without rewriting
    /// the wide `case_deadlines` row and its indexes.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deadline_schedule")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        /// The due time the schedule counts back from; a moved deadline starts afresh.
        pub due: DateTimeUtc,
        /// When the reminder scan next has something to do for this deadline (null: nothing).
        pub next_notice_at: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub mod notification {
    use sea_orm::entity::prelude::*;

    /// One notice to one person: in the app, and (with an address) as mail; the rows with a
    /// `mail_status` are the outbox.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// case/deadline/due/offset/recipient: one notice per deadline, offset and person.
        #[sea_orm(unique)]
        pub dedupe_key: String,
        pub username: String,
        pub case_id: String,
        pub deadline: String,
        /// `reminder` or `overdue`. The subject and text are composed from these facts and the
        /// deadline's row when the notice is read or mailed.
        pub kind: String,
        pub due: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub read_at: Option<DateTimeUtc>,
        /// Where the mail goes; `None` for a notice shown only in the app.
        pub email: Option<String>,
        /// pending, sending, sent or dead; `None` without mail.
        pub mail_status: Option<String>,
        pub attempts: i32,
        pub next_attempt_at: Option<DateTimeUtc>,
        /// While `sending`: when the claim lapses and another worker may take the mail.
        pub claimed_until: Option<DateTimeUtc>,
        pub last_error: Option<String>,
        pub sent_at: Option<DateTimeUtc>,
    }
    no_relations!();
}

pub mod feed_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "feed_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub username: String,
        /// SHA-256 of the token, like login tokens.
        pub token_hash: String,
        pub created_at: DateTimeUtc,
    }
    no_relations!();
}
