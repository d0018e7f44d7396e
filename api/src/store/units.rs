//! The jurisdiction tree's rows, the holiday calendar's years and the stored workflow
//! definitions: small tables read at start and changed by the administrator.

use super::Store;
use super::entities::{calendar_year, org_unit, workflow_definition};
use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, PaginatorTrait, QueryOrder};

impl Store {
    pub async fn org_units(&self) -> Result<Vec<org_unit::Model>, DbErr> {
        org_unit::Entity::find().all(&self.write).await
    }

    pub async fn count_org_units(&self) -> Result<u64, DbErr> {
        org_unit::Entity::find().count(&self.write).await
    }

    /// Inserts a unit (a code already used is a unique-key violation).
    pub async fn insert_org_unit(&self, row: org_unit::Model) -> Result<(), DbErr> {
        org_unit::ActiveModel::from(row).insert(&self.write).await?;
        Ok(())
    }

    pub async fn insert_org_units(&self, rows: Vec<org_unit::Model>) -> Result<(), DbErr> {
        org_unit::Entity::insert_many(rows.into_iter().map(org_unit::ActiveModel::from))
            .exec(&self.write)
            .await?;
        Ok(())
    }

    /// Every year of holiday data, in order.
    pub async fn calendar_years(&self) -> Result<Vec<calendar_year::Model>, DbErr> {
        calendar_year::Entity::find()
            .order_by_asc(calendar_year::Column::Year)
            .all(&self.read)
            .await
    }

    pub async fn has_calendar_year(&self, year: i32) -> Result<bool, DbErr> {
        Ok(calendar_year::Entity::find_by_id(year)
            .one(&self.write)
            .await?
            .is_some())
    }

    /// Stores a year of holiday data in place of what was there.
    pub async fn replace_calendar_year(
        &self,
        row: calendar_year::Model,
    ) -> Result<calendar_year::Model, DbErr> {
        calendar_year::Entity::delete_by_id(row.year)
            .exec(&self.write)
            .await?;
        calendar_year::ActiveModel::from(row)
            .insert(&self.write)
            .await
    }

    pub async fn workflow_definition(
        &self,
        key: &str,
        version: &str,
    ) -> Result<Option<workflow_definition::Model>, DbErr> {
        workflow_definition::Entity::find_by_id((key.to_owned(), version.to_owned()))
            .one(&self.write)
            .await
    }

    pub async fn workflow_definitions(&self) -> Result<Vec<workflow_definition::Model>, DbErr> {
        workflow_definition::Entity::find().all(&self.write).await
    }

    pub async fn insert_workflow_definition(
        &self,
        row: workflow_definition::Model,
    ) -> Result<(), DbErr> {
        workflow_definition::ActiveModel::from(row)
            .insert(&self.write)
            .await?;
        Ok(())
    }
}
