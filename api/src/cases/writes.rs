//! The case service's writes: a new case, an action, a saved form. Each is conditional on the
//! version the case was read at; the case cache keeps the case as written for the next one.

use super::deadlines::deadline_rows;
use super::documents::{document_number_taken, document_row};
use super::events::event_row;
use super::history::GENESIS;
use super::service::{CaseService, Loaded};
use super::snapshots::stored_snapshot;
use super::transitions::{update_transition, version_conflict};
use super::views::{ActionRequest, CaseView, CreateCase, FormSaved};
use crate::error::{ApiError, ErrorCode, ProblemField};
use crate::idempotency::Idempotency;
use crate::identity::{Caller, access};
use crate::store::entities::case;
use crate::store::{CaseWrite, DeadlineWrite, Transition, WriteError};
use crate::support::to_json;
use chrono::{DateTime, Utc};
use pilotflow_engine::{DeadlineInstance, Outcome};
use serde_json::Value;
use std::sync::Arc;

/// The answer to an action: fresh, or the stored answer of an earlier call with the same key.
pub enum ActionReply {
    Done(Box<CaseView>),
    Replayed(Value),
}

impl CaseService<'_> {
    pub async fn create(&self, caller: &Caller, req: CreateCase) -> Result<CaseView, ApiError> {
        let title = req.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(ApiError::invalid(
                "/title",
                "标题不能为空,且不超过 200 字",
                "title must be 1 to 200 characters",
            ));
        }
        let wf = self
            .ctx
            .registry
            .current(&req.workflow)
            .cloned()
            .ok_or_else(|| {
                ApiError::invalid(
                    "/workflow",
                    format!("没有名为「{}」的业务流程", req.workflow),
                    format!("no workflow `{}`", req.workflow),
                )
            })?;
        let units = self.ctx.units();
        let unit_code = req.org_unit.unwrap_or_else(|| caller.org_unit.clone());
        let unit = match units.info(&unit_code) {
            Some(u) if access::can_see_unit(caller, &units, &unit_code) => u,
            _ => {
                return Err(ApiError::invalid(
                    "/org_unit",
                    format!("单位「{unit_code}」不存在或不在您的管辖范围内"),
                    format!("unit `{unit_code}` does not exist or is outside your jurisdiction"),
                ));
            }
        };
        let def = &wf.def;
        let now = self.ctx.clock.now();
        let outcome = self.engine(def).start(unit, Default::default(), now)?;
        // Whoever opens a case must hold a role that can move it out of its first state.
        let actor = access::actor(caller, &units, &unit_code);
        let may_open = def
            .actions
            .iter()
            .filter(|a| {
                a.from.contains(&def.initial) && a.to.as_ref().is_some_and(|t| *t != def.initial)
            })
            .flat_map(|a| a.roles.iter())
            .any(|r| self.engine(def).binds(&outcome.snapshot, &actor, r));
        if !may_open {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "您不能为该单位发起此项申报",
                "you may not open a case of this workflow for this unit",
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let event = event_row(&id, &outcome, None, GENESIS)?;
        let row = case::Model {
            id: id.clone(),
            workflow_key: def.key.clone(),
            workflow_version: def.version.to_string(),
            title,
            org_unit: unit_code.clone(),
            parent_unit: units.parent(&unit_code).map(str::to_owned),
            round: outcome.snapshot.round(),
            state: outcome.snapshot.state.to_string(),
            snapshot: stored_snapshot(&outcome.snapshot)?,
            version: outcome.snapshot.version as i64,
            head_hash: event.hash.clone(),
            created_by: caller.username.clone(),
            created_at: now,
            updated_at: now,
        };
        let running = self.engine(def).deadlines(&outcome.snapshot);
        let deadlines = DeadlineWrite {
            active: deadline_rows(&row, &running, now)?,
            now,
        };
        let view = self.view_with(caller, &row, &outcome.snapshot, def, now, running);
        // `put` drops the snapshot text; the parsed snapshot goes beside the row.
        let cached = row.clone();
        let written = self
            .ctx
            .store
            .apply_transition(Transition {
                case: CaseWrite::Insert(Box::new(row)),
                event,
                idempotency: None,
                deadlines: Some(deadlines),
                panel: None,
                document: None,
                form: None,
            })
            .await
            .map_err(ApiError::internal)?;
        if !written {
            return Err(ApiError::internal(anyhow::anyhow!(
                "new case {id} was not written"
            )));
        }
        // The forms are saved next, and they name no version.
        self.cache.put(cached, Arc::new(outcome.snapshot));
        Ok(view)
    }

    pub async fn act(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
        req: ActionRequest,
        if_match: Option<i64>,
        idem: Option<Idempotency>,
    ) -> Result<ActionReply, ApiError> {
        if let Some(idem) = &idem
            && let Some(stored) = idem.replayed(&self.ctx.store, &caller.username).await?
        {
            return Ok(ActionReply::Replayed(stored));
        }
        let loaded = self.load_for_write(caller, id, if_match).await?;
        let Some(expected) = if_match else {
            return Err(ApiError::new(
                ErrorCode::IfMatchRequired,
                "请在 If-Match 请求头中提供案件的当前版本号",
                "send the case's current version in the If-Match header",
            )
            .with("current_version", loaded.row.version));
        };
        if expected != loaded.row.version {
            // The same keyed request may have been applied since the first look.
            if let Some(idem) = &idem
                && let Some(stored) = idem.replayed(&self.ctx.store, &caller.username).await?
            {
                return Ok(ActionReply::Replayed(stored));
            }
            return Err(version_conflict(loaded.row.version));
        }
        let def = &loaded.wf.def;
        let units = self.ctx.units();
        let actor = access::actor(caller, &units, &loaded.row.org_unit);
        let now = self.ctx.clock.now();
        let fired = self
            .engine(def)
            .fire(&loaded.snapshot, &actor, action, &req.input, now);
        let outcome_label = match &fired {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        self.ctx
            .metrics
            .actions
            .with_label_values(&[def.key.as_str(), action, outcome_label])
            .inc();
        let outcome = fired?;
        let running = self.engine(def).deadlines(&outcome.snapshot);
        let mut view = self.view_with(
            caller,
            &loaded.row,
            &outcome.snapshot,
            def,
            now,
            running.clone(),
        );
        view.updated_at = now;
        let comment = req.comment.filter(|c| !c.trim().is_empty());
        match self
            .commit(
                &loaded,
                &outcome,
                &running,
                comment,
                now,
                idem.as_ref().map(|i| (caller, i, &view)),
            )
            .await?
        {
            true => Ok(ActionReply::Done(Box::new(view))),
            false => {
                if let Some(idem) = &idem
                    && let Some(stored) = idem.replayed(&self.ctx.store, &caller.username).await?
                {
                    return Ok(ActionReply::Replayed(stored));
                }
                Err(version_conflict(expected + 1))
            }
        }
    }

    /// Writes a fired outcome if the case is still at the version it was loaded at.
    /// Returns false when another request changed it first.
    pub(crate) async fn commit(
        &self,
        loaded: &Loaded,
        outcome: &Outcome,
        running: &[DeadlineInstance],
        comment: Option<String>,
        now: DateTime<Utc>,
        idem: Option<(&Caller, &Idempotency, &CaseView)>,
    ) -> Result<bool, ApiError> {
        let (applied, head_hash) = self
            .write_outcome(loaded, outcome, running, comment, now, idem)
            .await?;
        if applied {
            let snap = &outcome.snapshot;
            let mut row = loaded.row.clone();
            row.state = snap.state.to_string();
            row.version = snap.version as i64;
            row.round = snap.round();
            row.head_hash = head_hash;
            row.updated_at = now;
            self.cache.put(row, Arc::new(snap.clone()));
        }
        Ok(applied)
    }

    /// Returns whether the outcome was written, and the case's new head hash. `running` are
    /// the deadlines running on the outcome's snapshot.
    async fn write_outcome(
        &self,
        loaded: &Loaded,
        outcome: &Outcome,
        running: &[DeadlineInstance],
        comment: Option<String>,
        now: DateTime<Utc>,
        idem: Option<(&Caller, &Idempotency, &CaseView)>,
    ) -> Result<(bool, String), ApiError> {
        let before = self.engine(&loaded.wf.def).deadlines(&loaded.snapshot);
        let mut transition = update_transition(loaded, outcome, &before, running, comment, now)?;
        let head_hash = transition.event.hash.clone();
        if let Some((caller, idem, view)) = idem {
            transition.idempotency = Some(idem.record(&caller.username, to_json(view)?, now));
        }
        transition.document = document_row(&loaded.wf.def, &loaded.row.id, outcome, now);
        let number = transition.document.as_ref().map(|d| d.number.clone());
        // The input field the number came in, for the refusal's pointer.
        let field = transition
            .document
            .as_ref()
            .and_then(|d| {
                loaded
                    .wf
                    .def
                    .actions_named(&d.action)
                    .find_map(|a| a.document.clone())
            })
            .map_or_else(|| "/input".to_owned(), |f| format!("/input/{f}"));
        match self.ctx.store.apply_transition(transition).await {
            Ok(applied) => Ok((applied, head_hash)),
            // A unique key taken first: the request's idempotency key (the same request sent
            // again: the caller answers from the stored reply) or the document number. Only
            // with both can either have collided; the stored reply tells which.
            Err(WriteError::UniqueViolation) => match (number, idem) {
                (None, Some(_)) => Ok((false, head_hash)),
                (Some(number), None) => Err(document_number_taken(&number, &field)),
                (Some(number), Some((caller, idem, _))) => {
                    match idem.replayed(&self.ctx.store, &caller.username).await? {
                        Some(_) => Ok((false, head_hash)),
                        None => Err(document_number_taken(&number, &field)),
                    }
                }
                (None, None) => Err(ApiError::internal(WriteError::UniqueViolation)),
            },
            Err(e) => Err(ApiError::internal(e)),
        }
    }

    pub async fn save_form(
        &self,
        caller: &Caller,
        id: &str,
        form: &str,
        data: Value,
        if_match: Option<i64>,
    ) -> Result<FormSaved, ApiError> {
        // Shared by the snapshot, the event and a second try on a newer case: a form is
        // tens of kilobytes, and a burst holds hundreds of them at once.
        let data = Arc::new(data);
        let save = async |loaded: Loaded, data: Arc<Value>| {
            let units = self.ctx.units();
            let actor = access::actor(caller, &units, &loaded.row.org_unit);
            let now = self.ctx.clock.now();
            let outcome =
                self.engine(&loaded.wf.def)
                    .save_form(&loaded.snapshot, &actor, form, data, now)?;
            let running = self.engine(&loaded.wf.def).deadlines(&outcome.snapshot);
            if !self
                .commit(&loaded, &outcome, &running, None, now, None)
                .await?
            {
                return Ok(None);
            }
            Ok(Some(FormSaved {
                form: form.to_owned(),
                version: outcome.snapshot.version as i64,
                errors: ProblemField::list(&outcome.form_errors),
            }))
        };
        let Some(expected) = if_match else {
            return self
                .unversioned_write(caller, id, async |loaded| {
                    save(loaded, Arc::clone(&data)).await
                })
                .await;
        };
        let loaded = self.load_for_write(caller, id, if_match).await?;
        if expected != loaded.row.version {
            return Err(version_conflict(loaded.row.version));
        }
        save(loaded, data)
            .await?
            .ok_or_else(|| version_conflict(expected + 1))
    }

    /// A write for a request that names no version: on the cached case, and once more on the
    /// database's if the cached one was behind (`write` answers `None` when its write was
    /// refused at the version it started from).
    pub(crate) async fn unversioned_write<T>(
        &self,
        caller: &Caller,
        id: &str,
        write: impl AsyncFn(Loaded) -> Result<Option<T>, ApiError>,
    ) -> Result<T, ApiError> {
        let loaded = self.load_for_write(caller, id, None).await?;
        if let Some(done) = write(loaded).await? {
            return Ok(done);
        }
        let loaded = self.reload(caller, id).await?;
        let version = loaded.row.version;
        write(loaded)
            .await?
            .ok_or_else(|| version_conflict(version + 1))
    }
}
