//! The case service: loads a case, asks `identity::access` whether the caller may see it,
//! asks the engine what happens, and has the store write the new snapshot, the chained event
//! and whatever else the transition changed, in one write. Reads are here; the writes are in
//! `writes.rs`, the list in `list.rs`.

use super::cache::CaseCache;
use super::snapshots::parse_snapshot;
use super::views::{
    ActionRef, CaseView, DeadlineView, HistoryEntry, StateRef, WorkflowRef, state_label,
};
use crate::context::Context;
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Caller, Role, access};
use crate::store::entities::case;
use crate::support::days_left;
use crate::workflows::StoredWorkflow;
use chrono::{DateTime, Utc};
use pilotflow_engine::{Calendar, CaseSnapshot, DeadlineInstance, Definition, Engine, deadline};
use serde_json::{Value, json};
use std::sync::Arc;

/// A loaded case with its definition.
pub(crate) struct Loaded {
    pub(crate) row: case::Model,
    pub(crate) snapshot: Arc<CaseSnapshot>,
    pub(crate) wf: StoredWorkflow,
}
/// Cases as one request sees them: loading (visible to the caller or not found), viewing,
/// creating, listing, firing actions and saving forms, each write conditional on the version
/// the case was read at.
pub struct CaseService<'a> {
    pub ctx: &'a Context,
    pub(crate) cache: &'a CaseCache,
    /// The holiday calendar as it was when the request began.
    calendar: Arc<Calendar>,
}

impl<'a> CaseService<'a> {
    pub fn new(ctx: &'a Context, cache: &'a CaseCache) -> Self {
        Self {
            calendar: ctx.calendar(),
            ctx,
            cache,
        }
    }

    pub(crate) fn engine<'d>(&'d self, def: &'d Definition) -> Engine<'d> {
        Engine::new(def, &self.calendar)
    }

    /// Loads a case the caller may see; anything else is "not found".
    pub(crate) async fn load_visible(&self, caller: &Caller, id: &str) -> Result<Loaded, ApiError> {
        let (row, forms) = self
            .ctx
            .store
            .case_with_forms(id)
            .await?
            .ok_or_else(ApiError::case_not_found)?;
        let snapshot = Arc::new(parse_snapshot(&row, forms)?);
        self.visible(caller, row, snapshot)
    }

    /// For a write at `version`: the cached case if it is at that version, else the database's.
    /// With no version named, whatever version is cached: if the case has moved on since, the
    /// write is refused at that version and [`Self::unversioned_write`] tries once more on the
    /// database's.
    pub(crate) async fn load_for_write(
        &self,
        caller: &Caller,
        id: &str,
        version: Option<i64>,
    ) -> Result<Loaded, ApiError> {
        let cached = match version {
            Some(v) => self.cache.at_version(id, v),
            None => self.cache.latest(id),
        };
        if let Some(cached) = cached {
            return self.visible(caller, cached.row.clone(), Arc::clone(&cached.snapshot));
        }
        self.reload(caller, id).await
    }

    /// The case as the database has it, cached for the next write.
    pub(crate) async fn reload(&self, caller: &Caller, id: &str) -> Result<Loaded, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        self.cache
            .put(loaded.row.clone(), Arc::clone(&loaded.snapshot));
        Ok(loaded)
    }

    /// A case already read and parsed, if the caller may see it.
    pub(crate) fn load_parsed(
        &self,
        caller: &Caller,
        row: case::Model,
        snapshot: Arc<CaseSnapshot>,
    ) -> Result<Loaded, ApiError> {
        self.visible(caller, row, snapshot)
    }

    fn visible(
        &self,
        caller: &Caller,
        row: case::Model,
        snapshot: Arc<CaseSnapshot>,
    ) -> Result<Loaded, ApiError> {
        if !access::can_see(caller, &self.ctx.units(), &row.org_unit, &snapshot) {
            return Err(ApiError::case_not_found());
        }
        let wf = self
            .ctx
            .registry
            .version(&row.workflow_key, &row.workflow_version)
            .cloned()
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!(
                    "case {} names workflow {} {} which is not loaded",
                    row.id,
                    row.workflow_key,
                    row.workflow_version
                ))
            })?;
        Ok(Loaded { row, snapshot, wf })
    }

    pub(crate) fn view(
        &self,
        caller: &Caller,
        row: &case::Model,
        snapshot: &CaseSnapshot,
        def: &Definition,
        now: DateTime<Utc>,
    ) -> CaseView {
        let running = self.engine(def).deadlines(snapshot);
        self.view_with(caller, row, snapshot, def, now, running)
    }

    /// The view, given the deadlines running on `snapshot` (when the caller has them already).
    pub(crate) fn view_with(
        &self,
        caller: &Caller,
        row: &case::Model,
        snapshot: &CaseSnapshot,
        def: &Definition,
        now: DateTime<Utc>,
        running: Vec<DeadlineInstance>,
    ) -> CaseView {
        let units = self.ctx.units();
        let engine = self.engine(def);
        let actor = access::actor(caller, &units, &row.org_unit);
        let states = snapshot
            .current_states(def)
            .into_iter()
            .map(|s| StateRef {
                label: state_label(def, s.as_str()),
                region: def
                    .state(s.as_str())
                    .and_then(|st| st.region.as_ref().map(|r| r.to_string())),
                name: s.to_string(),
            })
            .collect();
        let deadlines = running
            .into_iter()
            .map(|d| DeadlineView {
                days_left: days_left(d.due, now),
                due_local: deadline::local_text(def.timezone, d.due),
                name: d.name.to_string(),
                label: d.label,
                due: d.due,
                gates: d.gates.iter().map(|g| g.to_string()).collect(),
                responsible: d.responsible.iter().map(|r| r.to_string()).collect(),
                calendar_fallback_years: d.calendar_fallback_years,
            })
            .collect();
        let available_actions = engine
            .available_actions(snapshot, &actor, now)
            .into_iter()
            .map(|a| ActionRef {
                name: a.name.to_string(),
                label: a.label,
                input_schema: a.input,
            })
            .collect();
        CaseView {
            id: row.id.clone(),
            workflow: WorkflowRef {
                key: row.workflow_key.clone(),
                version: row.workflow_version.clone(),
            },
            state: snapshot.state.to_string(),
            state_label: state_label(def, snapshot.state.as_str()),
            states,
            title: row.title.clone(),
            org_unit: row.org_unit.clone(),
            org_unit_name: units.name(&row.org_unit),
            round: snapshot.round(),
            data: json!({
                "variables": snapshot.vars,
                // Names only: a plan runs to many kilobytes; GET …/forms/{form} has the text.
                "forms": snapshot.forms.keys().collect::<Vec<_>>(),
                "regions": snapshot.regions,
            }),
            version: snapshot.version as i64,
            deadlines,
            available_actions,
            created_by: row.created_by.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<CaseView, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        Ok(self.view(
            caller,
            &loaded.row,
            &loaded.snapshot,
            &loaded.wf.def,
            self.ctx.clock.now(),
        ))
    }

    pub async fn history(&self, caller: &Caller, id: &str) -> Result<Vec<HistoryEntry>, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        let rows = self.ctx.store.events_of(&loaded.row.id).await?;
        // Blind review: an expert sees its own acts and the case's, never who else is on the
        // panel or what they did (panel changes, others' sheets, declines, reopened sheets).
        let blind = caller.role == Role::Expert;
        Ok(rows
            .into_iter()
            .filter(|e| {
                !blind
                    || e.actor.as_deref() == Some(caller.username.as_str())
                    || !(e.actor_role.as_deref() == Some(Role::Expert.as_str())
                        || matches!(e.kind.as_str(), "assigned" | "sheet_reopened"))
            })
            .map(|e| HistoryEntry {
                seq: e.seq,
                kind: e.kind,
                actor: e.actor,
                role: e.actor_role,
                action: e.action,
                from: e.from_state,
                to: e.to_state,
                at: e.at,
                comment: e.comment,
                input_digest: e.input_digest,
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect())
    }

    /// The saved document of one form.
    pub async fn form(&self, caller: &Caller, id: &str, form: &str) -> Result<Value, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        if !loaded.wf.def.forms.contains_key(form) {
            return Err(pilotflow_engine::EngineError::UnknownForm {
                form: pilotflow_engine::FormName::new(form),
            }
            .into());
        }
        loaded
            .snapshot
            .forms
            .get(form)
            .map(|doc| Value::clone(doc))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::FormNotSaved,
                    "该表单尚未填写",
                    "this form has not been saved yet",
                )
            })
    }

    /// The case if the caller may see it (attachments and other case-scoped reads).
    pub async fn check_visible(&self, caller: &Caller, id: &str) -> Result<case::Model, ApiError> {
        Ok(self.load_visible(caller, id).await?.row)
    }
}
