//! Expert review's own tables: declared conflicts of interest and private drafts of score
//! sheets.

use super::Store;
use super::entities::{expert_conflict, review_draft};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

impl Store {
    pub async fn expert_conflicts(&self) -> Result<Vec<expert_conflict::Model>, DbErr> {
        expert_conflict::Entity::find().all(&self.read).await
    }

    /// Records a conflict of interest; when one is already recorded, `replace_reason` decides
    /// whether the new reason replaces the old.
    pub async fn put_expert_conflict(
        &self,
        row: expert_conflict::Model,
        replace_reason: bool,
    ) -> Result<(), DbErr> {
        let mut on_conflict = OnConflict::columns([
            expert_conflict::Column::Username,
            expert_conflict::Column::OrgUnit,
        ]);
        if replace_reason {
            on_conflict.update_column(expert_conflict::Column::Reason);
        } else {
            on_conflict.do_nothing();
        }
        expert_conflict::Entity::insert(expert_conflict::ActiveModel::from(row))
            .on_conflict(on_conflict.to_owned())
            .exec_without_returning(&self.write)
            .await?;
        Ok(())
    }

    /// The experts' drafts on a case.
    pub async fn review_drafts(&self, case_id: &str) -> Result<Vec<review_draft::Model>, DbErr> {
        review_draft::Entity::find()
            .filter(review_draft::Column::CaseId.eq(case_id))
            .all(&self.read)
            .await
    }

    pub async fn review_draft(
        &self,
        case_id: &str,
        action: &str,
        username: &str,
    ) -> Result<Option<review_draft::Model>, DbErr> {
        review_draft::Entity::find_by_id((
            case_id.to_owned(),
            action.to_owned(),
            username.to_owned(),
        ))
        .one(&self.read)
        .await
    }

    /// Stores an expert's draft in place of the one before.
    pub async fn put_review_draft(&self, row: review_draft::Model) -> Result<(), DbErr> {
        review_draft::Entity::insert(review_draft::ActiveModel::from(row))
            .on_conflict(
                OnConflict::columns([
                    review_draft::Column::CaseId,
                    review_draft::Column::Action,
                    review_draft::Column::Username,
                ])
                .update_columns([review_draft::Column::Data, review_draft::Column::UpdatedAt])
                .to_owned(),
            )
            .exec_without_returning(&self.write)
            .await?;
        Ok(())
    }
}
