//! Users, their sessions and their calendar-feed tokens.

use super::Store;
use super::entities::{feed_token, session, user};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

/// A change to a user: each field that is `Some` is set.
#[derive(Debug, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub role: Option<String>,
    pub org_unit: Option<String>,
    pub active: Option<bool>,
    /// JSON array of fields of expertise.
    pub expertise: Option<String>,
}

impl UserChange {
    fn apply(self, row: &mut user::ActiveModel) {
        if let Some(d) = self.display_name {
            row.display_name = Set(d);
        }
        if let Some(e) = self.email {
            row.email = Set(e);
        }
        if let Some(h) = self.password_hash {
            row.password_hash = Set(h);
        }
        if let Some(r) = self.role {
            row.role = Set(r);
        }
        if let Some(u) = self.org_unit {
            row.org_unit = Set(u);
        }
        if let Some(a) = self.active {
            row.active = Set(a);
        }
        if let Some(x) = self.expertise {
            row.expertise = Set(x);
        }
    }
}

impl Store {
    pub async fn user(&self, username: &str) -> Result<Option<user::Model>, DbErr> {
        user::Entity::find_by_id(username.to_owned())
            .one(&self.read)
            .await
    }

    /// A user who may sign in.
    pub async fn active_user(&self, username: &str) -> Result<Option<user::Model>, DbErr> {
        Ok(self.user(username).await?.filter(|u| u.active))
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<user::Model>, DbErr> {
        user::Entity::find()
            .order_by_asc(user::Column::Username)
            .all(&self.read)
            .await
    }

    /// Every user who may sign in, by name.
    pub async fn active_users(&self) -> Result<Vec<user::Model>, DbErr> {
        user::Entity::find()
            .filter(user::Column::Active.eq(true))
            .order_by_asc(user::Column::Username)
            .all(&self.read)
            .await
    }

    /// The users of a role (`only_active`: those who may sign in), by name.
    pub async fn users_with_role(
        &self,
        role: &str,
        only_active: bool,
    ) -> Result<Vec<user::Model>, DbErr> {
        let mut q = user::Entity::find().filter(user::Column::Role.eq(role));
        if only_active {
            q = q.filter(user::Column::Active.eq(true));
        }
        q.order_by_asc(user::Column::Username).all(&self.read).await
    }

    pub async fn users_named(
        &self,
        names: impl IntoIterator<Item = &str>,
    ) -> Result<Vec<user::Model>, DbErr> {
        user::Entity::find()
            .filter(user::Column::Username.is_in(names))
            .all(&self.read)
            .await
    }

    pub async fn count_users(&self) -> Result<u64, DbErr> {
        user::Entity::find().count(&self.write).await
    }

    /// Inserts a user (a name already taken is a unique-key violation).
    pub async fn insert_user(&self, row: user::Model) -> Result<user::Model, DbErr> {
        user::ActiveModel::from(row).insert(&self.write).await
    }

    /// Inserts users in one transaction (the demo's accounts).
    pub async fn insert_users(&self, rows: Vec<user::Model>) -> Result<(), DbErr> {
        let txn = self.begin_write().await?;
        user::Entity::insert_many(rows.into_iter().map(user::ActiveModel::from))
            .exec(&txn)
            .await?;
        txn.commit().await
    }

    /// Changes the fields of a user that `change` names; `None` when there is no such user.
    pub async fn update_user(
        &self,
        username: &str,
        change: UserChange,
    ) -> Result<Option<user::Model>, DbErr> {
        let Some(row) = user::Entity::find_by_id(username.to_owned())
            .one(&self.write)
            .await?
        else {
            return Ok(None);
        };
        let mut active: user::ActiveModel = row.into();
        change.apply(&mut active);
        active.update(&self.write).await.map(Some)
    }

    pub async fn insert_session(
        &self,
        token_hash: String,
        username: String,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        session::ActiveModel {
            token_hash: Set(token_hash),
            username: Set(username),
            created_at: Set(created_at),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
        }
        .insert(&self.write)
        .await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<session::Model>, DbErr> {
        session::Entity::find_by_id(token_hash.to_owned())
            .one(&self.read)
            .await
    }

    pub async fn revoke_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), DbErr> {
        if let Some(row) = session::Entity::find_by_id(token_hash.to_owned())
            .one(&self.write)
            .await?
        {
            let mut active: session::ActiveModel = row.into();
            active.revoked_at = Set(Some(at));
            active.update(&self.write).await?;
        }
        Ok(())
    }

    /// Stores a user's feed token, replacing an earlier one.
    pub async fn put_feed_token(
        &self,
        username: &str,
        token_hash: String,
        at: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        feed_token::Entity::insert(feed_token::ActiveModel {
            username: Set(username.to_owned()),
            token_hash: Set(token_hash),
            created_at: Set(at),
        })
        .on_conflict(
            OnConflict::column(feed_token::Column::Username)
                .update_columns([feed_token::Column::TokenHash, feed_token::Column::CreatedAt])
                .to_owned(),
        )
        .exec(&self.write)
        .await?;
        Ok(())
    }

    pub async fn delete_feed_token(&self, username: &str) -> Result<(), DbErr> {
        feed_token::Entity::delete_by_id(username.to_owned())
            .exec(&self.write)
            .await?;
        Ok(())
    }

    /// The owner of a feed token, if the token is current.
    pub async fn feed_token_owner(&self, token_hash: &str) -> Result<Option<String>, DbErr> {
        Ok(feed_token::Entity::find()
            .filter(feed_token::Column::TokenHash.eq(token_hash))
            .one(&self.read)
            .await?
            .map(|t| t.username))
    }
}
