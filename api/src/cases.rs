//! The case service: loads a case, asks `access` whether the caller may see it, asks the engine
//! what happens, and writes the new snapshot, the chained event and any idempotency record in
//! one transaction. Route handlers only translate HTTP to these calls.

use crate::access;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::history::{self, GENESIS};
use crate::registry::StoredWorkflow;
use crate::state::AppState;
use crate::store::entities::{
    case, case_assignment, case_deadline, case_event, case_form, document, idempotency_key,
};
use crate::store::{
    CasePages, CaseUpdate, CaseWrite, DeadlineWrite, PanelWrite, RunningDeadline, Transition,
    WriteError, write_deadlines,
};
use chrono::{DateTime, Utc};
use pilotflow_engine::{
    CaseSnapshot, DeadlineInstance, Definition, Engine, EventKind, FieldError, FormName, Outcome,
    UserId, deadline,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkflowRef {
    pub key: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StateRef {
    pub name: String,
    pub label: String,
    /// The parallel region this state belongs to; absent for the main lifecycle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadlineView {
    pub name: String,
    pub label: String,
    pub due: DateTime<Utc>,
    /// The due time in the workflow's time zone, for people.
    pub due_local: String,
    /// Whole days from now until the due time (negative once it has passed).
    pub days_left: i64,
    /// Actions refused once the deadline has passed.
    pub gates: Vec<String>,
    /// Roles that must act before it.
    pub responsible: Vec<String>,
    /// Years this due date was counted in Monday to Friday, for lack of holiday data.
    pub calendar_fallback_years: Vec<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActionRef {
    pub name: String,
    pub label: String,
    /// The input schema's path (see `GET /workflows/{key}` for the schema itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<String>,
}

/// A case as one caller sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    pub id: String,
    pub workflow: WorkflowRef,
    /// The main lifecycle state.
    pub state: String,
    pub state_label: String,
    /// Every state the case is in now: the main one and those of running regions.
    pub states: Vec<StateRef>,
    pub title: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub round: Option<i32>,
    /// `variables`, `regions` (the state of each parallel region) and `forms` (the names of
    /// the saved forms; each one's document is at `GET /cases/{id}/forms/{form}`).
    #[schema(value_type = Object)]
    pub data: Value,
    /// Pass it back in `If-Match` when acting.
    pub version: i64,
    pub deadlines: Vec<DeadlineView>,
    /// What this caller may do now.
    pub available_actions: Vec<ActionRef>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseSummary {
    pub id: String,
    pub workflow: WorkflowRef,
    pub state: String,
    pub state_label: String,
    pub title: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub round: Option<i32>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    /// Workflow key, e.g. `pilot-zone`.
    pub workflow: String,
    pub title: String,
    /// The applying unit; defaults to the caller's own unit.
    pub org_unit: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// The action's input, checked against its schema.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub input: Value,
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseFilter {
    pub workflow: Option<String>,
    pub state: Option<String>,
    pub org_unit: Option<String>,
    pub round: Option<i32>,
    /// Text contained in the title.
    pub q: Option<String>,
    /// Only cases with a running deadline already past (true), or with none (false).
    pub overdue: Option<bool>,
    /// From 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// 1 to 100; 20 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FormSaved {
    pub form: String,
    pub version: i64,
    /// What the saved draft still lacks; empty when it is complete.
    pub errors: Vec<crate::error::ProblemField>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PanelRequest {
    /// User names of the experts assigned to the case.
    pub experts: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub seq: i64,
    /// started, form_saved, assigned or action_taken.
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub at: DateTime<Utc>,
    pub comment: Option<String>,
    /// SHA-256 of the input the event carried.
    pub input_digest: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The last page a list may ask for (keeps offsets within what databases accept).
pub const MAX_PAGE: u64 = 1_000_000;

/// A checked page of a list: `page` from 1, `per_page` from 1 to 100.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: u64,
    pub per_page: u64,
}

impl Page {
    pub fn checked(
        page: Option<u64>,
        per_page: Option<u64>,
        default_per_page: u64,
    ) -> Result<Self, ApiError> {
        let per_page = per_page.unwrap_or(default_per_page);
        if !(1..=100).contains(&per_page) {
            return Err(ApiError::invalid(
                "/per_page",
                "每页条数应在 1 到 100 之间",
                "per_page must be between 1 and 100",
            ));
        }
        let page = page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(ApiError::invalid(
                "/page",
                format!("页码应在 1 到 {MAX_PAGE} 之间"),
                format!("page must be between 1 and {MAX_PAGE}"),
            ));
        }
        Ok(Self { page, per_page })
    }

    pub fn offset(self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// An idempotent request's key and the fingerprint of its body.
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

/// The answer to an action: fresh, or the stored answer of an earlier call with the same key.
pub enum ActionReply {
    Done(Box<CaseView>),
    Replayed(Value),
}

/// A loaded case with its definition.
pub(crate) struct Loaded {
    pub(crate) row: case::Model,
    pub(crate) snapshot: Arc<CaseSnapshot>,
    pub(crate) wf: StoredWorkflow,
}

/// Cases recently written by this process, at their current version, for the next write: an
/// action names the version it acts on (`If-Match`), and when that is the cached version the
/// case need not be read and parsed again; a write that names no version (saving a form,
/// setting a panel) starts from the cached case too. This is safe with several replicas
/// because every write is conditional on the version: a case changed elsewhere fails the
/// write with 409, or, when the request named no version, is read again and tried once more.
/// Reads (`GET`) always go to the database.
pub struct CaseCache(quick_cache::sync::Cache<String, Arc<CachedCase>>);

pub struct CachedCase {
    /// The row without its snapshot text (the parsed snapshot is beside it).
    row: case::Model,
    snapshot: Arc<CaseSnapshot>,
}

/// Enough for the cases busy at one moment (each holds its parsed forms, tens of kilobytes).
const CASE_CACHE_ENTRIES: usize = 512;

/// The cache's share for entries not yet used again. quick_cache puts a new entry there and
/// moves it on only if it is used before that part is full; its default share, 3 %, is 15
/// cases here, so in a burst of new cases each was gone before its first form save came and
/// had to be read and parsed again. A case is busy for a while after it is made, as the
/// district fills in its forms.
const NEW_ENTRIES_SHARE: f64 = 0.5;

impl Default for CaseCache {
    fn default() -> Self {
        Self(recent_first_cache(CASE_CACHE_ENTRIES))
    }
}

fn recent_first_cache<V: Clone>(entries: usize) -> quick_cache::sync::Cache<String, V> {
    use quick_cache::sync::{Cache, DefaultLifecycle};
    use quick_cache::{DefaultHashBuilder, OptionsBuilder, UnitWeighter};
    let options = OptionsBuilder::new()
        .estimated_items_capacity(entries)
        .weight_capacity(entries as u64)
        .hot_allocation(1.0 - NEW_ENTRIES_SHARE)
        .build();
    match options {
        Ok(options) => Cache::with_options(
            options,
            UnitWeighter,
            DefaultHashBuilder::default(),
            DefaultLifecycle::default(),
        ),
        // Refused only when a capacity is missing, and both are set above.
        Err(_) => Cache::new(entries),
    }
}

impl CaseCache {
    fn at_version(&self, id: &str, version: i64) -> Option<Arc<CachedCase>> {
        self.latest(id).filter(|c| c.row.version == version)
    }

    fn latest(&self, id: &str) -> Option<Arc<CachedCase>> {
        self.0.get(id)
    }

    fn put(&self, mut row: case::Model, snapshot: Arc<CaseSnapshot>) {
        row.snapshot = String::new();
        self.0
            .insert(row.id.clone(), Arc::new(CachedCase { row, snapshot }));
    }
}

pub struct CaseService<'a> {
    pub state: &'a AppState,
    /// The holiday calendar as it was when the request began.
    pub(crate) calendar: Arc<pilotflow_engine::Calendar>,
}

/// A case row's snapshot with its saved forms put back (`forms`: the case's `case_forms`
/// rows).
pub(crate) fn parse_snapshot(
    row: &case::Model,
    forms: Vec<case_form::Model>,
) -> Result<CaseSnapshot, ApiError> {
    let mut snapshot = parse_without_forms(row)?;
    for f in forms {
        let doc: Value = serde_json::from_str(&f.body).map_err(|e| {
            ApiError::internal(
                anyhow::Error::new(e).context(format!("case {} form {}", row.id, f.name)),
            )
        })?;
        snapshot.forms.insert(FormName::new(f.name), Arc::new(doc));
    }
    Ok(snapshot)
}

/// A case row's snapshot with no forms: for readers of its state, variables, panels and
/// sheets only. Firing actions or building the case page needs [`parse_snapshot`].
pub(crate) fn parse_without_forms(row: &case::Model) -> Result<CaseSnapshot, ApiError> {
    serde_json::from_str(&row.snapshot)
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context(format!("case {}", row.id))))
}

/// The snapshot as the case row stores it: without the forms, which are rows of their own
/// written when saved (see [`saved_form`]).
pub(crate) fn stored_snapshot(snapshot: &CaseSnapshot) -> Result<String, ApiError> {
    to_json(&snapshot.without_forms())
}

/// The form row a form save writes.
fn saved_form(
    case_id: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<Option<case_form::Model>, ApiError> {
    let EventKind::FormSaved { form, data } = &outcome.event.kind else {
        return Ok(None);
    };
    Ok(Some(case_form::Model {
        case_id: case_id.to_owned(),
        name: form.to_string(),
        body: to_json(data)?,
        saved_at: now,
    }))
}

/// The saved forms of every case `cases` selects, by case.
pub(crate) async fn forms_of_cases(
    db: &impl ConnectionTrait,
    cases: Condition,
) -> Result<HashMap<String, Vec<case_form::Model>>, sea_orm::DbErr> {
    let ids = Query::select()
        .column(case::Column::Id)
        .from(case::Entity)
        .cond_where(cases)
        .to_owned();
    let mut out: HashMap<String, Vec<case_form::Model>> = HashMap::new();
    for f in case_form::Entity::find()
        .filter(case_form::Column::CaseId.in_subquery(ids))
        .all(db)
        .await?
    {
        out.entry(f.case_id.clone()).or_default().push(f);
    }
    Ok(out)
}

/// A case's saved forms.
pub(crate) async fn forms_of(
    db: &impl ConnectionTrait,
    case_id: &str,
) -> Result<Vec<case_form::Model>, sea_orm::DbErr> {
    case_form::Entity::find()
        .filter(case_form::Column::CaseId.eq(case_id))
        .all(db)
        .await
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

fn state_label(def: &Definition, name: &str) -> String {
    def.state(name)
        .map(|s| s.label.clone())
        .unwrap_or_else(|| name.to_owned())
}

pub(crate) fn event_row(
    case_id: &str,
    outcome: &Outcome,
    comment: Option<String>,
    prev_hash: &str,
) -> Result<case_event::Model, ApiError> {
    let e = &outcome.event;
    let body = to_json(e)?;
    let seq = e.seq as i64;
    let (kind, action, from, to, input) = match &e.kind {
        EventKind::Started { vars, .. } => ("started", None, None, None, Cow::Owned(json!(vars))),
        EventKind::FormSaved { form, data } => (
            "form_saved",
            Some(form.to_string()),
            None,
            None,
            Cow::Borrowed(&**data),
        ),
        EventKind::Assigned { role, users } => (
            "assigned",
            Some(role.to_string()),
            None,
            None,
            Cow::Owned(json!(users)),
        ),
        EventKind::ActionTaken {
            action,
            input,
            from,
            to,
            ..
        } => (
            "action_taken",
            Some(action.to_string()),
            Some(from.to_string()),
            Some(to.to_string()),
            Cow::Borrowed(input),
        ),
        EventKind::SheetReopened {
            action,
            user,
            reason,
            from,
            to,
        } => (
            "sheet_reopened",
            Some(action.to_string()),
            Some(from.to_string()),
            Some(to.to_string()),
            Cow::Owned(json!({"expert": user, "reason": reason})),
        ),
        EventKind::Declined { role, reason } => (
            "declined",
            Some(role.to_string()),
            None,
            None,
            Cow::Owned(json!({"reason": reason})),
        ),
    };
    let hash = history::event_hash(prev_hash, case_id, seq, comment.as_deref(), &body);
    Ok(case_event::Model {
        case_id: case_id.to_owned(),
        seq,
        kind: kind.to_owned(),
        action,
        actor: e.actor.as_ref().map(|a| a.user.to_string()),
        actor_role: e.actor.as_ref().map(|a| a.role.to_string()),
        from_state: from,
        to_state: to,
        at: e.at,
        input_digest: history::digest_json(&input),
        comment,
        body,
        prev_hash: prev_hash.to_owned(),
        hash,
    })
}

fn event_active(m: case_event::Model) -> case_event::ActiveModel {
    case_event::ActiveModel {
        case_id: Set(m.case_id),
        seq: Set(m.seq),
        kind: Set(m.kind),
        action: Set(m.action),
        actor: Set(m.actor),
        actor_role: Set(m.actor_role),
        from_state: Set(m.from_state),
        to_state: Set(m.to_state),
        at: Set(m.at),
        input_digest: Set(m.input_digest),
        comment: Set(m.comment),
        body: Set(m.body),
        prev_hash: Set(m.prev_hash),
        hash: Set(m.hash),
    }
}

/// The rows for the deadlines running on a case (all pending), with their first notices.
pub(crate) fn deadline_rows(
    row: &case::Model,
    running: &[DeadlineInstance],
    now: DateTime<Utc>,
) -> Result<Vec<RunningDeadline>, ApiError> {
    running
        .iter()
        .map(|d| {
            let remind_days: Vec<u32> = d.reminders.iter().map(|r| r.days_before).collect();
            Ok(RunningDeadline {
                first_notice_at: deadline::first_notice_at(
                    d.due,
                    &remind_days,
                    !d.escalate_to.is_empty(),
                ),
                row: case_deadline::Model {
                    case_id: row.id.clone(),
                    name: d.name.to_string(),
                    label: d.label.clone(),
                    case_title: row.title.clone(),
                    workflow_key: row.workflow_key.clone(),
                    org_unit: row.org_unit.clone(),
                    parent_unit: row.parent_unit.clone(),
                    due: d.due,
                    status: "pending".to_owned(),
                    responsible: to_json(&d.responsible)?,
                    gates: to_json(&d.gates)?,
                    fallback_years: to_json(&d.calendar_fallback_years)?,
                    updated_at: now,
                    remind_days: to_json(&remind_days)?,
                    escalate_to: to_json(&d.escalate_to)?,
                },
            })
        })
        .collect()
}

/// Whether two sets of running deadlines differ in anything stored.
pub(crate) fn deadlines_changed(before: &[DeadlineInstance], after: &[DeadlineInstance]) -> bool {
    let same = |a: &DeadlineInstance, b: &DeadlineInstance| {
        a.name == b.name
            && a.due == b.due
            && a.responsible == b.responsible
            && a.gates == b.gates
            && a.calendar_fallback_years == b.calendar_fallback_years
            && a.reminders == b.reminders
            && a.escalate_to == b.escalate_to
    };
    before.len() != after.len() || before.iter().zip(after).any(|(a, b)| !same(a, b))
}

/// `If-Match` may be `5`, `"5"` or `W/"5"`.
pub fn parse_if_match(raw: &str) -> Option<i64> {
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

impl<'a> CaseService<'a> {
    pub fn new(state: &'a AppState) -> Self {
        Self {
            calendar: state.calendar(),
            state,
        }
    }

    pub(crate) fn engine<'d>(&'d self, def: &'d Definition) -> Engine<'d> {
        Engine::new(def, &self.calendar)
    }

    /// Loads a case the caller may see; anything else is "not found".
    pub(crate) async fn load_visible(&self, caller: &Caller, id: &str) -> Result<Loaded, ApiError> {
        let db = &self.state.store.read;
        let (row, forms) = tokio::try_join!(
            case::Entity::find_by_id(id.to_owned()).one(db),
            forms_of(db, id)
        )?;
        let row = row.ok_or_else(ApiError::case_not_found)?;
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
            Some(v) => self.state.cases.at_version(id, v),
            None => self.state.cases.latest(id),
        };
        if let Some(cached) = cached {
            return self.visible(caller, cached.row.clone(), Arc::clone(&cached.snapshot));
        }
        self.reload(caller, id).await
    }

    /// The case as the database has it, cached for the next write.
    async fn reload(&self, caller: &Caller, id: &str) -> Result<Loaded, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        self.state
            .cases
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
        if !access::can_see(caller, &self.state.units(), &row.org_unit, &snapshot) {
            return Err(ApiError::case_not_found());
        }
        let wf = self
            .state
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
        let units = self.state.units();
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
                days_left: crate::deadlines::days_left(d.due, now),
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
            self.state.clock.now(),
        ))
    }

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
            .state
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
        let units = self.state.units();
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
        let now = self.state.clock.now();
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
                "forbidden",
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
            .state
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
        self.state.cases.put(cached, Arc::new(outcome.snapshot));
        Ok(view)
    }

    pub async fn list(&self, caller: &Caller, f: CaseFilter) -> Result<CaseList, ApiError> {
        let Page { page, per_page } = Page::checked(f.page, f.per_page, 20)?;
        let mut cond = Condition::all();
        cond = cond.add(access::scope_condition(
            caller,
            case::Column::OrgUnit,
            case::Column::ParentUnit,
            case::Column::Id,
        ));
        if let Some(w) = f.workflow {
            cond = cond.add(case::Column::WorkflowKey.eq(w));
        }
        if let Some(s) = f.state {
            cond = cond.add(case::Column::State.eq(s));
        }
        if let Some(u) = f.org_unit {
            cond = cond.add(case::Column::OrgUnit.eq(u));
        }
        if let Some(r) = f.round {
            cond = cond.add(case::Column::Round.eq(r));
        }
        if let Some(overdue) = f.overdue {
            let late = case::Column::Id.in_subquery(
                Query::select()
                    .column(case_deadline::Column::CaseId)
                    .from(case_deadline::Entity)
                    .and_where(Expr::col(case_deadline::Column::Status).eq("pending"))
                    .and_where(Expr::col(case_deadline::Column::Due).lt(self.state.clock.now()))
                    .to_owned(),
            );
            cond = cond.add(if overdue { late } else { late.not() });
        }
        if let Some(q) = f.q.filter(|q| !q.trim().is_empty()) {
            let escaped = q
                .trim()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            cond = cond.add(
                Expr::col(case::Column::Title)
                    .like(sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')),
            );
        }
        let db = &self.state.store.read;
        let total = case::Entity::find().filter(cond.clone()).count(db).await?;
        let rows = case::Entity::find()
            .filter(cond)
            .order_by_desc(case::Column::CreatedAt)
            .order_by_asc(case::Column::Id)
            .offset((page - 1).saturating_mul(per_page))
            .limit(per_page)
            .all(db)
            .await?;
        let units = self.state.units();
        let items = rows
            .into_iter()
            .map(|r| {
                let label = self
                    .state
                    .registry
                    .version(&r.workflow_key, &r.workflow_version)
                    .map(|w| state_label(&w.def, &r.state))
                    .unwrap_or_else(|| r.state.clone());
                CaseSummary {
                    id: r.id,
                    workflow: WorkflowRef {
                        key: r.workflow_key,
                        version: r.workflow_version,
                    },
                    state_label: label,
                    state: r.state,
                    title: r.title,
                    org_unit_name: units.name(&r.org_unit),
                    org_unit: r.org_unit,
                    round: r.round,
                    version: r.version,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                }
            })
            .collect();
        Ok(CaseList {
            items,
            total,
            page,
            per_page,
        })
    }

    /// Returns the stored answer when this caller already used `key` for the same request.
    async fn replayed(
        &self,
        caller: &Caller,
        idem: &Idempotency,
    ) -> Result<Option<Value>, ApiError> {
        let found =
            idempotency_key::Entity::find_by_id((caller.username.clone(), idem.key.clone()))
                .one(&self.state.store.write)
                .await?;
        match found {
            None => Ok(None),
            Some(row) if row.request_hash == idem.request_hash => Ok(Some(
                serde_json::from_str(&row.response).map_err(ApiError::internal)?,
            )),
            Some(_) => Err(ApiError::new(
                "idempotency_key_reused",
                "该 Idempotency-Key 已用于另一个不同的请求",
                "this Idempotency-Key was already used for a different request",
            )),
        }
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
            && let Some(stored) = self.replayed(caller, idem).await?
        {
            return Ok(ActionReply::Replayed(stored));
        }
        let loaded = self.load_for_write(caller, id, if_match).await?;
        let Some(expected) = if_match else {
            return Err(ApiError::new(
                "if_match_required",
                "请在 If-Match 请求头中提供案件的当前版本号",
                "send the case's current version in the If-Match header",
            )
            .with("current_version", loaded.row.version));
        };
        if expected != loaded.row.version {
            // The same keyed request may have been applied since the first look.
            if let Some(idem) = &idem
                && let Some(stored) = self.replayed(caller, idem).await?
            {
                return Ok(ActionReply::Replayed(stored));
            }
            return Err(version_conflict(loaded.row.version));
        }
        let def = &loaded.wf.def;
        let units = self.state.units();
        let actor = access::actor(caller, &units, &loaded.row.org_unit);
        let now = self.state.clock.now();
        let fired = self
            .engine(def)
            .fire(&loaded.snapshot, &actor, action, &req.input, now);
        let outcome_label = match &fired {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        self.state
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
                    && let Some(stored) = self.replayed(caller, idem).await?
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
            self.state.cases.put(row, Arc::new(snap.clone()));
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
        let row = &loaded.row;
        let event = event_row(&row.id, outcome, comment, &row.head_hash)?;
        let head_hash = event.hash.clone();
        let snap = &outcome.snapshot;
        let update = CaseUpdate {
            id: row.id.clone(),
            expected_version: row.version,
            state: snap.state.to_string(),
            snapshot: stored_snapshot(snap)?,
            version: snap.version as i64,
            round: snap.round(),
            head_hash: event.hash.clone(),
            updated_at: now,
        };
        let idem_row = match idem {
            Some((caller, idem, view)) => Some(idempotency_key::Model {
                username: caller.username.clone(),
                key: idem.key.clone(),
                request_hash: idem.request_hash.clone(),
                status: 200,
                response: to_json(view)?,
                created_at: now,
            }),
            None => None,
        };
        let before = self.engine(&loaded.wf.def).deadlines(&loaded.snapshot);
        let deadlines = if deadlines_changed(&before, running) {
            Some(DeadlineWrite {
                active: deadline_rows(row, running, now)?,
                now,
            })
        } else {
            None
        };
        let document = document_row(&loaded.wf.def, &row.id, outcome, now);
        let number = document.as_ref().map(|d| d.number.clone());
        let written = self
            .state
            .store
            .apply_transition(Transition {
                case: CaseWrite::Update(update),
                event,
                idempotency: idem_row,
                deadlines,
                panel: panel_write(outcome),
                document,
                form: saved_form(&row.id, outcome, now)?,
            })
            .await;
        match written {
            Ok(applied) => Ok((applied, head_hash)),
            // A unique key taken first: the request's idempotency key (the same request sent
            // again: the caller answers from the stored reply) or the document number. Only
            // with both can either have collided; the stored reply tells which.
            Err(WriteError::UniqueViolation) => match (number, idem) {
                (None, Some(_)) => Ok((false, head_hash)),
                (Some(number), None) => Err(document_number_taken(&number)),
                (Some(number), Some((caller, idem, _))) => {
                    match self.replayed(caller, idem).await? {
                        Some(_) => Ok((false, head_hash)),
                        None => Err(document_number_taken(&number)),
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
            let units = self.state.units();
            let actor = access::actor(caller, &units, &loaded.row.org_unit);
            let now = self.state.clock.now();
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
                errors: field_errors(&outcome.form_errors),
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
    async fn unversioned_write<T>(
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

    /// Sets the experts of a case (the workflow's one `assigned` role).
    pub async fn set_panel(
        &self,
        caller: &Caller,
        id: &str,
        req: PanelRequest,
    ) -> Result<CaseView, ApiError> {
        self.unversioned_write(caller, id, async |loaded| {
            let def = &loaded.wf.def;
            let role = crate::review::panel_role(def)?;
            let pool = crate::review::pool(self.state, role.as_str()).await?;
            let mut users = BTreeSet::new();
            for (i, name) in req.experts.iter().enumerate() {
                if !pool.iter().any(|e| e.profile.username == *name) {
                    return Err(ApiError::invalid(
                        &format!("/experts/{i}"),
                        format!("「{name}」不是在册的评审专家"),
                        format!("`{name}` is not an active user with the role {role}"),
                    ));
                }
                users.insert(UserId::new(name.clone()));
            }
            let units = self.state.units();
            let actor = access::actor(caller, &units, &loaded.row.org_unit);
            let now = self.state.clock.now();
            let outcome =
                self.engine(def)
                    .assign(&loaded.snapshot, &actor, role.as_str(), users, now)?;
            self.check_recusal(&loaded, &req.experts, &pool)?;
            let running = self.engine(def).deadlines(&outcome.snapshot);
            if !self
                .commit(&loaded, &outcome, &running, None, now, None)
                .await?
            {
                return Ok(None);
            }
            Ok(Some(self.view_with(
                caller,
                &loaded.row,
                &outcome.snapshot,
                def,
                now,
                running,
            )))
        })
        .await
    }

    pub async fn history(&self, caller: &Caller, id: &str) -> Result<Vec<HistoryEntry>, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        let rows = case_event::Entity::find()
            .filter(case_event::Column::CaseId.eq(loaded.row.id))
            .order_by_asc(case_event::Column::Seq)
            .all(&self.state.store.read)
            .await?;
        // Blind review: an expert sees its own acts and the case's, never who else is on the
        // panel or what they did (panel changes, others' sheets, declines, reopened sheets).
        let blind = caller.role == crate::auth::Role::Expert;
        Ok(rows
            .into_iter()
            .filter(|e| {
                !blind
                    || e.actor.as_deref() == Some(caller.username.as_str())
                    || !(e.actor_role.as_deref() == Some(crate::auth::Role::Expert.as_str())
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
                    "form_not_saved",
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

/// Writes the running deadlines of every case when none are stored at all (a database from
/// before deadlines were kept); returns how many cases it wrote. Once any row exists this is
/// one indexed lookup, so a restart stays fast.
pub async fn backfill_deadlines(state: &AppState) -> Result<u64, ApiError> {
    let db = &state.store.write;
    if case_deadline::Entity::find().one(db).await?.is_some() {
        return Ok(0);
    }
    let mut written = 0;
    let calendar = state.calendar();
    let mut pages = CasePages::new(db);
    while let Some(batch) = pages.next().await? {
        let now = state.clock.now();
        for row in batch {
            let Some(wf) = state
                .registry
                .version(&row.workflow_key, &row.workflow_version)
            else {
                continue;
            };
            let forms = forms_of(db, &row.id).await?;
            let snapshot = parse_snapshot(&row, forms)?;
            let running = Engine::new(&wf.def, &calendar).deadlines(&snapshot);
            if running.is_empty() {
                continue;
            }
            let d = DeadlineWrite {
                active: deadline_rows(&row, &running, now)?,
                now,
            };
            write_deadlines(db, &row.id, &d).await?;
            written += 1;
        }
    }
    Ok(written)
}

/// Writes one case's transition inside an open transaction: the case row if it is still at
/// `expected_version` (false otherwise, with nothing written), its event, its panel rows when
/// the panel changed, and its deadlines when they did.
pub(crate) async fn write_in_txn(
    txn: &DatabaseTransaction,
    case_id: &str,
    expected_version: i64,
    outcome: &Outcome,
    update: CaseUpdate,
    event: case_event::Model,
    deadlines: Option<&DeadlineWrite>,
) -> Result<bool, ApiError> {
    let saved_at = update.updated_at;
    let updated = case::Entity::update_many()
        .col_expr(case::Column::State, Expr::value(update.state))
        .col_expr(case::Column::Snapshot, Expr::value(update.snapshot))
        .col_expr(case::Column::Version, Expr::value(update.version))
        .col_expr(case::Column::Round, Expr::value(update.round))
        .col_expr(case::Column::HeadHash, Expr::value(update.head_hash))
        .col_expr(case::Column::UpdatedAt, Expr::value(update.updated_at))
        .filter(case::Column::Id.eq(case_id))
        .filter(case::Column::Version.eq(expected_version))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(false);
    }
    event_active(event).insert(txn).await?;
    if let Some(panel) = panel_write(outcome) {
        write_assignments(txn, case_id, &panel).await?;
    }
    if let Some(form) = saved_form(case_id, outcome, saved_at)? {
        use sea_orm::sea_query::OnConflict;
        case_form::Entity::insert(case_form::ActiveModel::from(form))
            .on_conflict(
                OnConflict::columns([case_form::Column::CaseId, case_form::Column::Name])
                    .update_columns([case_form::Column::Body, case_form::Column::SavedAt])
                    .to_owned(),
            )
            .exec(txn)
            .await?;
    }
    if let Some(d) = deadlines {
        write_deadlines(txn, case_id, d).await?;
    }
    Ok(true)
}

/// The document row an action issued under a numbered document records, if it is one.
pub(crate) fn document_row(
    def: &Definition,
    case_id: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Option<document::Model> {
    let EventKind::ActionTaken { action, input, .. } = &outcome.event.kind else {
        return None;
    };
    let field = def
        .actions_named(action.as_str())
        .find_map(|a| a.document.as_ref())?;
    let number = input.get(field)?.as_str()?.trim().to_owned();
    Some(document::Model {
        workflow_key: def.key.clone(),
        year: document_year(&number),
        number,
        action: action.to_string(),
        case_ids: json!([case_id]).to_string(),
        issued_by: outcome
            .event
            .actor
            .as_ref()
            .map(|a| a.user.to_string())
            .unwrap_or_default(),
        issued_at: now,
    })
}

/// The year in a document number's 〔〕 (吉民发〔2026〕12号 → 2026).
pub fn document_year(number: &str) -> Option<i32> {
    let (_, rest) = number.split_once('〔')?;
    let (year, _) = rest.split_once('〕')?;
    year.parse().ok()
}

/// Records a document number; one that is already used is refused, naming it.
pub(crate) async fn insert_document(
    txn: &DatabaseTransaction,
    doc: document::Model,
) -> Result<(), ApiError> {
    let number = doc.number.clone();
    match document::ActiveModel::from(doc).insert(txn).await {
        Ok(_) => Ok(()),
        Err(e) if crate::store::is_unique_violation(&e) => Err(document_number_taken(&number)),
        Err(e) => Err(e.into()),
    }
}

fn document_number_taken(number: &str) -> ApiError {
    ApiError::new(
        "document_number_taken",
        format!("文号「{number}」已被使用,一个文号只能用于一次决定"),
        format!("document number `{number}` is already used by another decision"),
    )
    .with_errors(vec![FieldError {
        pointer: "/input/document_number".to_owned(),
        message: format!("文号「{number}」已被使用"),
        message_en: format!("document number `{number}` is already used"),
    }])
}

/// The panel a transition leaves, when it changed one.
fn panel_write(outcome: &Outcome) -> Option<PanelWrite> {
    let (EventKind::Assigned { role, .. } | EventKind::Declined { role, .. }) = &outcome.event.kind
    else {
        return None;
    };
    let users = outcome.snapshot.assignments.get(role);
    Some(PanelWrite {
        role: role.to_string(),
        users: users.into_iter().flatten().map(|u| u.to_string()).collect(),
    })
}

async fn write_assignments(
    txn: &DatabaseTransaction,
    case_id: &str,
    panel: &PanelWrite,
) -> Result<(), ApiError> {
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

pub(crate) fn version_conflict(current: i64) -> ApiError {
    ApiError::new(
        "version_conflict",
        "案件已被他人更新,请刷新后重试",
        "the case has changed since you loaded it; reload and try again",
    )
    .with("current_version", current)
}

pub fn field_errors(errors: &[FieldError]) -> Vec<crate::error::ProblemField> {
    errors
        .iter()
        .map(|e| crate::error::ProblemField {
            pointer: e.pointer.clone(),
            message: e.message.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The case cache of a server that has run a while: full of older cases, none used again.
    fn full_cache() -> quick_cache::sync::Cache<String, u32> {
        let cache = recent_first_cache(CASE_CACHE_ENTRIES);
        for i in 0..4 * CASE_CACHE_ENTRIES {
            cache.insert(format!("older {i}"), 0);
        }
        cache
    }

    /// A district makes its case, then saves its forms: in a burst, many other new cases come
    /// between the two, and the first must still be there for the form save.
    #[test]
    fn a_new_case_stays_cached_while_a_burst_of_new_cases_arrives() {
        let cache = full_cache();
        cache.insert("first".to_owned(), 0);
        for i in 1..=128 {
            cache.insert(format!("case {i}"), i);
        }
        assert_eq!(cache.get("first"), Some(0));
    }

    /// Cases used again are kept over a stream of new ones used once.
    #[test]
    fn cases_in_use_outlast_a_stream_of_cases_made_once() {
        let cache = full_cache();
        for i in 0..64 {
            cache.insert(format!("busy {i}"), i);
        }
        for round in 0..20 {
            for i in 0..64 {
                assert_eq!(cache.get(&format!("busy {i}")), Some(i), "round {round}");
            }
            for i in 0..100 {
                cache.insert(format!("once {round} {i}"), i);
            }
        }
    }
}
