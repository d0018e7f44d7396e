//! The rows of a case's attachments (the files themselves are in the data directory).

use super::Store;
use super::entities::attachment;
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

impl Store {
    pub async fn insert_attachment(&self, row: attachment::Model) -> Result<(), DbErr> {
        attachment::ActiveModel::from(row)
            .insert(&self.write)
            .await?;
        Ok(())
    }

    /// A case's attachments, oldest first.
    pub async fn attachments_of(&self, case_id: &str) -> Result<Vec<attachment::Model>, DbErr> {
        attachment::Entity::find()
            .filter(attachment::Column::CaseId.eq(case_id))
            .order_by_asc(attachment::Column::CreatedAt)
            .all(&self.read)
            .await
    }

    pub async fn attachment(&self, id: &str) -> Result<Option<attachment::Model>, DbErr> {
        attachment::Entity::find_by_id(id.to_owned())
            .one(&self.read)
            .await
    }
}
