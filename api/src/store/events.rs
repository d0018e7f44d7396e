//! Reading a case's events (its history); they are written by transitions.

use super::Store;
use super::entities::{case_event, idempotency_key};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

impl Store {
    /// Every event of a case, in order.
    pub async fn events_of(&self, case_id: &str) -> Result<Vec<case_event::Model>, DbErr> {
        case_event::Entity::find()
            .filter(case_event::Column::CaseId.eq(case_id))
            .order_by_asc(case_event::Column::Seq)
            .all(&self.read)
            .await
    }

    /// A case's events of one kind (`action_taken`, `declined`, …), in order.
    pub async fn events_of_kind(
        &self,
        case_id: &str,
        kind: &str,
    ) -> Result<Vec<case_event::Model>, DbErr> {
        case_event::Entity::find()
            .filter(case_event::Column::CaseId.eq(case_id))
            .filter(case_event::Column::Kind.eq(kind))
            .order_by_asc(case_event::Column::Seq)
            .all(&self.read)
            .await
    }

    /// The answer stored for a user's idempotency key, if the key was used. Read through the
    /// writer's connection: a replay must see the write that stored it.
    pub async fn idempotency_record(
        &self,
        username: &str,
        key: &str,
    ) -> Result<Option<idempotency_key::Model>, DbErr> {
        idempotency_key::Entity::find_by_id((username.to_owned(), key.to_owned()))
            .one(&self.write)
            .await
    }
}
