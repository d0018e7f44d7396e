//! Several transitions in one transaction, all or none (a panel for every case of a round, a
//! decision under one document for several cases). The rarer path: written with sea-orm's
//! statements rather than the one-statement form of `transition`.

use super::entities::{case, case_assignment, case_event, case_form, document};
use super::transition::{CaseWrite, PanelWrite, Transition, write_deadlines};
use super::{Store, WriteError};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};

impl Store {
    /// Writes `transitions` (case updates) and the `document` they were decided under in one
    /// transaction. Answers the id of the first case no longer at its expected version, with
    /// nothing written; a document number already used is `WriteError::UniqueViolation`.
    pub async fn apply_batch(
        &self,
        document: Option<document::Model>,
        transitions: Vec<Transition>,
    ) -> Result<Option<String>, WriteError> {
        let pg = WriteError::from_postgres;
        let txn = self.write.begin().await.map_err(pg)?;
        if let Some(doc) = document {
            // A number already used is a unique-key violation.
            document::ActiveModel::from(doc)
                .insert(&txn)
                .await
                .map_err(pg)?;
        }
        for t in transitions {
            if let Some(stale) = write_in_txn(&txn, t).await.map_err(pg)? {
                txn.rollback().await.map_err(pg)?;
                return Ok(Some(stale));
            }
        }
        txn.commit().await.map_err(pg)?;
        Ok(None)
    }
}

/// Writes one case's transition inside an open transaction: the case row if it is still at
/// the expected version (else its id comes back, with nothing written), its event, its panel
/// rows when the panel changed, its saved form and its deadlines when they did.
async fn write_in_txn(txn: &DatabaseTransaction, t: Transition) -> Result<Option<String>, DbErr> {
    let CaseWrite::Update(update) = t.case else {
        return Err(DbErr::Custom("a batch updates existing cases".to_owned()));
    };
    let case_id = update.id.clone();
    let updated = case::Entity::update_many()
        .col_expr(case::Column::State, Expr::value(update.state))
        .col_expr(case::Column::Snapshot, Expr::value(update.snapshot))
        .col_expr(case::Column::Version, Expr::value(update.version))
        .col_expr(case::Column::Round, Expr::value(update.round))
        .col_expr(case::Column::HeadHash, Expr::value(update.head_hash))
        .col_expr(case::Column::UpdatedAt, Expr::value(update.updated_at))
        .filter(case::Column::Id.eq(case_id.as_str()))
        .filter(case::Column::Version.eq(update.expected_version))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(Some(case_id));
    }
    case_event::ActiveModel::from(t.event).insert(txn).await?;
    if let Some(panel) = &t.panel {
        write_assignments(txn, &case_id, panel).await?;
    }
    if let Some(form) = t.form {
        case_form::Entity::insert(case_form::ActiveModel::from(form))
            .on_conflict(
                OnConflict::columns([case_form::Column::CaseId, case_form::Column::Name])
                    .update_columns([case_form::Column::Body, case_form::Column::SavedAt])
                    .to_owned(),
            )
            .exec(txn)
            .await?;
    }
    if let Some(d) = &t.deadlines {
        write_deadlines(txn, &case_id, d).await?;
    }
    Ok(None)
}

async fn write_assignments(
    txn: &DatabaseTransaction,
    case_id: &str,
    panel: &PanelWrite,
) -> Result<(), DbErr> {
    case_assignment::Entity::delete_many()
        .filter(case_assignment::Column::CaseId.eq(case_id))
        .filter(case_assignment::Column::Role.eq(panel.role.as_str()))
        .exec(txn)
        .await?;
    if panel.users.is_empty() {
        return Ok(());
    }
    // One statement for the panel (bulk assignment writes hundreds of panels at once).
    case_assignment::Entity::insert_many(panel.users.iter().map(|u| {
        case_assignment::ActiveModel {
            case_id: Set(case_id.to_owned()),
            role: Set(panel.role.clone()),
            username: Set(u.clone()),
        }
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
