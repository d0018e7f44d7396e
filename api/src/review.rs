//! Expert review through the service: the expert pool, panels with recusal (回避), bulk
//! assignment for a round, private drafts of score sheets, reopening a sheet, each case's
//! scores for the province, the round's ranking (JSON, CSV, xlsx), decisions under numbered
//! documents (several cases in one call, all or nothing) and the public zone listing.
//!
//! The rules are the engine's (`pilotflow_engine::review`, `Engine::{assign, fire, reopen,
//! decline}`); this module gathers what they need from the store and writes what they decide.

use crate::auth::{Caller, Role};
use crate::cases::{
    CaseService, CaseView, Loaded, deadline_rows, deadlines_changed, document_row, event_row,
    forms_of_cases, insert_document, parse_snapshot, parse_without_forms, stored_snapshot, to_json,
    version_conflict, write_in_txn,
};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::{case, case_event, expert_conflict, review_draft, user};
use crate::store::{CaseUpdate, DeadlineWrite};
use chrono::{DateTime, Utc};
use pilotflow_engine::definition::{Action, Binding};
use pilotflow_engine::review::{self, Aggregate, Expert, Recusal, ReviewCase};
use pilotflow_engine::{CaseSnapshot, Definition, FieldError, Outcome, RoleName, UserId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// The collect action with scoring named `name`, or the workflow's first one.
fn review_action<'d>(def: &'d Definition, name: Option<&str>) -> Result<&'d Action, ApiError> {
    def.actions
        .iter()
        .filter(|a| a.scoring.is_some())
        .find(|a| name.is_none_or(|n| a.name == n))
        .ok_or_else(|| match name {
            Some(n) => ApiError::new(
                "no_review",
                format!("「{n}」不是该业务流程的评审环节"),
                format!("`{n}` is not a scored review of this workflow"),
            ),
            None => ApiError::new(
                "no_review",
                "该业务流程没有专家评审环节",
                "this workflow has no scored review",
            ),
        })
}

/// The workflow's assigned role (its experts).
pub(crate) fn panel_role(def: &Definition) -> Result<RoleName, ApiError> {
    def.roles
        .iter()
        .find(|(_, r)| r.binding == Binding::Assigned)
        .map(|(name, _)| name.clone())
        .ok_or_else(|| {
            ApiError::new(
                "no_panel",
                "该业务流程没有需要指派的专家角色",
                "this workflow has no assigned role",
            )
        })
}

/// An expert of the pool, with what recusal and assignment need.
#[derive(Debug, Clone)]
pub struct PoolExpert {
    pub profile: Expert,
    pub display_name: String,
}

/// Every active expert with the given role, with affiliations and declared conflicts.
/// Its two reads go at once: each is a hand-off to a connection's thread, and under load
/// every hand-off waits its turn for a core.
pub(crate) async fn pool(state: &AppState, role: &str) -> Result<Vec<PoolExpert>, ApiError> {
    let db = &state.store.read;
    let units = state.units();
    let (declared, users) = tokio::try_join!(
        expert_conflict::Entity::find().all(db),
        user::Entity::find()
            .filter(user::Column::Role.eq(role))
            .filter(user::Column::Active.eq(true))
            .order_by_asc(user::Column::Username)
            .all(db),
    )?;
    let mut conflicts: HashMap<String, BTreeSet<String>> = HashMap::new();
    for c in declared {
        conflicts.entry(c.username).or_default().insert(c.org_unit);
    }
    Ok(users
        .into_iter()
        .map(|u| PoolExpert {
            profile: Expert {
                affiliation_parent: units.parent(&u.org_unit).map(str::to_owned),
                conflicts: conflicts.remove(&u.username).unwrap_or_default(),
                expertise: serde_json::from_str(&u.expertise).unwrap_or_default(),
                affiliation: u.org_unit,
                username: u.username,
            },
            display_name: u.display_name,
        })
        .collect())
}

fn review_case(
    svc: &CaseService<'_>,
    loaded: &Loaded,
    action: &Action,
    now: DateTime<Utc>,
) -> ReviewCase {
    let units = svc.state.units();
    ReviewCase {
        id: loaded.row.id.clone(),
        unit: loaded.row.org_unit.clone(),
        unit_parent: units.parent(&loaded.row.org_unit).map(str::to_owned),
        topics: svc
            .engine(&loaded.wf.def)
            .review_topics(&loaded.snapshot, action, now),
    }
}

/// The refusal for a panel member who must recuse themselves.
fn recusal_error(
    state: &AppState,
    pointer: &str,
    expert: &Expert,
    case: &ReviewCase,
    why: &Recusal,
) -> ApiError {
    let units = state.units();
    let zh = why.message_zh(
        &expert.username,
        &units.name(&expert.affiliation),
        &units.name(&case.unit),
    );
    ApiError::new(
        "recusal_required",
        zh.clone(),
        format!(
            "expert `{}` must recuse themselves from this case ({why:?})",
            expert.username
        ),
    )
    .with_errors(vec![FieldError {
        pointer: pointer.to_owned(),
        message: zh,
        message_en: format!("`{}` must recuse themselves", expert.username),
    }])
    .with("expert", expert.username.clone())
    .with(
        "reason",
        serde_json::to_value(why)
            .ok()
            .and_then(|v| v.get("reason").cloned())
            .unwrap_or_default(),
    )
}

/// Whether the caller may assign the workflow's experts on this case (the province).
fn ensure_assigner(
    svc: &CaseService<'_>,
    caller: &Caller,
    loaded: &Loaded,
) -> Result<(), ApiError> {
    let def = &loaded.wf.def;
    let role = panel_role(def)?;
    let actor = crate::access::actor(caller, &svc.state.units(), &loaded.row.org_unit);
    let engine = svc.engine(def);
    let may = def.roles.get(&role).is_some_and(|r| {
        r.assigned_by
            .iter()
            .any(|by| engine.binds(&loaded.snapshot, &actor, by))
    });
    if may {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PanelMember {
    pub username: String,
    pub display_name: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub expertise: Vec<String>,
    /// `pending` (nothing yet), `draft` (saved, not submitted) or `submitted`, for each
    /// scored review of the case now open or done.
    pub sheets: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Replacement {
    pub username: String,
    pub display_name: String,
    pub org_unit_name: String,
    /// Experiment areas shared with the case.
    pub shared_topics: usize,
    /// Cases the expert reviews now (open reviews).
    pub load: usize,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeclinedSeat {
    pub username: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PanelView {
    pub case_id: String,
    pub members: Vec<PanelMember>,
    /// Experts who stepped down, with their reasons.
    pub declined: Vec<DeclinedSeat>,
    /// Eligible experts not on the panel, least busy and best matched first.
    pub replacements: Vec<Replacement>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// Why the expert steps down (shown to the province).
    pub reason: String,
    /// Whether this is a conflict of interest with the applying unit: then the expert is
    /// never assigned to that unit's cases again.
    #[serde(default)]
    pub conflict: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    /// The expert whose submitted sheet is taken back.
    pub expert: String,
    /// Why (kept in the case's history).
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SheetView {
    pub action: String,
    /// `draft` or `submitted`.
    pub status: String,
    #[schema(value_type = Object)]
    pub sheet: Value,
    /// What a draft still lacks (empty once complete).
    pub errors: Vec<crate::error::ProblemField>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Open reviews each expert sits on now, by user name (cases in a review state).
async fn open_loads(state: &AppState, role: &RoleName) -> Result<HashMap<String, usize>, ApiError> {
    let mut loads = HashMap::new();
    let rows = case::Entity::find().all(&state.store.read).await?;
    for row in rows {
        let Some(wf) = state
            .registry
            .version(&row.workflow_key, &row.workflow_version)
        else {
            continue;
        };
        let reviewing = wf
            .def
            .actions
            .iter()
            .filter(|a| a.scoring.is_some())
            .any(|a| a.from.iter().any(|s| s.as_str() == row.state));
        if !reviewing {
            continue;
        }
        let snapshot = parse_without_forms(&row)?;
        for u in snapshot.assignments.get(role).into_iter().flatten() {
            *loads.entry(u.to_string()).or_insert(0) += 1;
        }
    }
    Ok(loads)
}

/// When each user last submitted each collect action of a case.
async fn submission_times(
    state: &AppState,
    case_id: &str,
) -> Result<HashMap<(String, String), DateTime<Utc>>, ApiError> {
    let mut times = HashMap::new();
    for e in case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::Kind.eq("action_taken"))
        .order_by_asc(case_event::Column::Seq)
        .all(&state.store.read)
        .await?
    {
        if let (Some(action), Some(actor)) = (e.action, e.actor) {
            times.insert((action, actor), e.at);
        }
    }
    Ok(times)
}

impl CaseService<'_> {
    /// The panel of a case for the province: members and the state of their sheets, who
    /// declined, and who could step in.
    pub async fn panel(&self, caller: &Caller, id: &str) -> Result<PanelView, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        ensure_assigner(self, caller, &loaded)?;
        let def = &loaded.wf.def;
        let role = panel_role(def)?;
        let now = self.state.clock.now();
        let units = self.state.units();
        let experts = pool(self.state, role.as_str()).await?;
        let on_panel: BTreeSet<&str> = loaded
            .snapshot
            .assignments
            .get(&role)
            .into_iter()
            .flatten()
            .map(UserId::as_str)
            .collect();
        let drafts: BTreeSet<(String, String)> = review_draft::Entity::find()
            .filter(review_draft::Column::CaseId.eq(id))
            .all(&self.state.store.read)
            .await?
            .into_iter()
            .map(|d| (d.action, d.username))
            .collect();
        let reviews: Vec<&Action> = def
            .actions
            .iter()
            .filter(|a| {
                a.scoring.is_some()
                    && a.from
                        .iter()
                        .any(|s| loaded.snapshot.entered.contains_key(s))
            })
            .collect();
        let members = experts
            .iter()
            .filter(|e| on_panel.contains(e.profile.username.as_str()))
            .map(|e| PanelMember {
                sheets: reviews
                    .iter()
                    .map(|a| {
                        let name = &e.profile.username;
                        let submitted = loaded
                            .snapshot
                            .collected
                            .get(&a.name)
                            .is_some_and(|m| m.contains_key(name.as_str()));
                        let status = if submitted {
                            "submitted"
                        } else if drafts.contains(&(a.name.to_string(), name.clone())) {
                            "draft"
                        } else {
                            "pending"
                        };
                        (a.name.to_string(), status.to_owned())
                    })
                    .collect(),
                username: e.profile.username.clone(),
                display_name: e.display_name.clone(),
                org_unit_name: units.name(&e.profile.affiliation),
                org_unit: e.profile.affiliation.clone(),
                expertise: e.profile.expertise.iter().cloned().collect(),
            })
            .collect();
        let declined = case_event::Entity::find()
            .filter(case_event::Column::CaseId.eq(id))
            .filter(case_event::Column::Kind.eq("declined"))
            .order_by_asc(case_event::Column::Seq)
            .all(&self.state.store.read)
            .await?
            .into_iter()
            .map(|e| DeclinedSeat {
                reason: serde_json::from_str::<Value>(&e.body)
                    .ok()
                    .and_then(|b| b.pointer("/kind/reason")?.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                username: e.actor.unwrap_or_default(),
                at: e.at,
            })
            .collect();
        let action = review_action(def, None)?;
        let case = review_case(self, &loaded, action, now);
        let loads = open_loads(self.state, &role).await?;
        let mut replacements: Vec<Replacement> = experts
            .iter()
            .filter(|e| !on_panel.contains(e.profile.username.as_str()))
            .filter(|e| review::recusal(&e.profile, &case).is_none())
            .map(|e| Replacement {
                username: e.profile.username.clone(),
                display_name: e.display_name.clone(),
                org_unit_name: units.name(&e.profile.affiliation),
                shared_topics: review::shared_topics(&e.profile, &case),
                load: loads.get(&e.profile.username).copied().unwrap_or(0),
            })
            .collect();
        replacements.sort_by(|a, b| {
            (a.load, std::cmp::Reverse(a.shared_topics), &a.username).cmp(&(
                b.load,
                std::cmp::Reverse(b.shared_topics),
                &b.username,
            ))
        });
        Ok(PanelView {
            case_id: id.to_owned(),
            members,
            declined,
            replacements,
        })
    }

    /// Refuses a panel with anyone who must recuse themselves from this case.
    pub(crate) fn check_recusal(
        &self,
        loaded: &Loaded,
        experts: &[String],
        pool: &[PoolExpert],
    ) -> Result<(), ApiError> {
        let Ok(action) = review_action(&loaded.wf.def, None) else {
            return Ok(());
        };
        let case = review_case(self, loaded, action, self.state.clock.now());
        for (i, name) in experts.iter().enumerate() {
            if let Some(e) = pool.iter().find(|e| e.profile.username == *name)
                && let Some(why) = review::recusal(&e.profile, &case)
            {
                return Err(recusal_error(
                    self.state,
                    &format!("/experts/{i}"),
                    &e.profile,
                    &case,
                    &why,
                ));
            }
        }
        Ok(())
    }

    /// An assigned expert steps down from a case; with `conflict`, the applying unit goes on
    /// the expert's declared conflicts.
    pub async fn decline(
        &self,
        caller: &Caller,
        id: &str,
        req: DeclineRequest,
    ) -> Result<Value, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        let actor = crate::access::actor(caller, &self.state.units(), &loaded.row.org_unit);
        let now = self.state.clock.now();
        let outcome =
            self.engine(&loaded.wf.def)
                .decline(&loaded.snapshot, &actor, &req.reason, now)?;
        let running = self.engine(&loaded.wf.def).deadlines(&outcome.snapshot);
        if !self
            .commit(&loaded, &outcome, &running, None, now, None)
            .await?
        {
            return Err(version_conflict(loaded.row.version + 1));
        }
        if req.conflict {
            expert_conflict::Entity::insert(expert_conflict::ActiveModel {
                username: Set(caller.username.clone()),
                org_unit: Set(loaded.row.org_unit.clone()),
                reason: Set(req.reason.trim().to_owned()),
                declared_at: Set(now),
            })
            .on_conflict(
                OnConflict::columns([
                    expert_conflict::Column::Username,
                    expert_conflict::Column::OrgUnit,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&self.state.store.write)
            .await?;
        }
        Ok(json!({"case_id": id, "declined": caller.username}))
    }

    /// The province takes an expert's submitted sheet back; the sheet becomes that expert's
    /// draft again.
    pub async fn reopen(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
        req: ReopenRequest,
    ) -> Result<CaseView, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        let def = &loaded.wf.def;
        let actor = crate::access::actor(caller, &self.state.units(), &loaded.row.org_unit);
        let now = self.state.clock.now();
        let user = UserId::new(req.expert.clone());
        let sheet = loaded
            .snapshot
            .collected
            .get(action)
            .and_then(|m| m.get(&user))
            .cloned();
        let outcome =
            self.engine(def)
                .reopen(&loaded.snapshot, &actor, action, &user, &req.reason, now)?;
        let running = self.engine(def).deadlines(&outcome.snapshot);
        if !self
            .commit(&loaded, &outcome, &running, None, now, None)
            .await?
        {
            return Err(version_conflict(loaded.row.version + 1));
        }
        if let Some(sheet) = sheet {
            save_draft(self.state, id, action, &req.expert, &sheet, now).await?;
        }
        Ok(self.view_with(caller, &loaded.row, &outcome.snapshot, def, now, running))
    }

    /// The caller's own sheet: submitted, else its draft.
    pub async fn my_sheet(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
    ) -> Result<SheetView, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        let a = review_action(&loaded.wf.def, Some(action))?;
        if let Some(sheet) = loaded
            .snapshot
            .collected
            .get(&a.name)
            .and_then(|m| m.get(caller.username.as_str()))
        {
            let times = submission_times(self.state, id).await?;
            return Ok(SheetView {
                action: action.to_owned(),
                status: "submitted".to_owned(),
                sheet: sheet.clone(),
                errors: Vec::new(),
                updated_at: times
                    .get(&(action.to_owned(), caller.username.clone()))
                    .copied(),
            });
        }
        let draft = review_draft::Entity::find_by_id((
            id.to_owned(),
            action.to_owned(),
            caller.username.clone(),
        ))
        .one(&self.state.store.read)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                "form_not_saved",
                "您尚未填写该评分表",
                "you have no sheet for this review yet",
            )
        })?;
        let sheet: Value = serde_json::from_str(&draft.data).map_err(ApiError::internal)?;
        Ok(SheetView {
            action: action.to_owned(),
            status: "draft".to_owned(),
            errors: sheet_errors(a, &sheet),
            sheet,
            updated_at: Some(draft.updated_at),
        })
    }

    /// Saves the caller's draft sheet (assigned, review open, not yet submitted); answers
    /// what it still lacks.
    pub async fn save_sheet(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
        sheet: Value,
    ) -> Result<SheetView, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        let a = review_action(&loaded.wf.def, Some(action))?;
        let actor = crate::access::actor(caller, &self.state.units(), &loaded.row.org_unit);
        let now = self.state.clock.now();
        let offered = self
            .engine(&loaded.wf.def)
            .available_actions(&loaded.snapshot, &actor, now)
            .into_iter()
            .any(|x| x.name == a.name);
        if !offered {
            let submitted = loaded
                .snapshot
                .collected
                .get(&a.name)
                .is_some_and(|m| m.contains_key(caller.username.as_str()));
            return Err(if submitted {
                pilotflow_engine::EngineError::AlreadySubmitted {
                    action: a.name.clone(),
                }
                .into()
            } else {
                ApiError::new(
                    "review_closed",
                    "该评审当前未开放,或您不是本案评审专家",
                    "this review is not open to you now",
                )
            });
        }
        save_draft(self.state, id, action, &caller.username, &sheet, now).await?;
        Ok(SheetView {
            action: action.to_owned(),
            status: "draft".to_owned(),
            errors: sheet_errors(a, &sheet),
            sheet,
            updated_at: Some(now),
        })
    }

    /// Each sheet of a case's review, the aggregate and its flags, for the province.
    pub async fn scores(
        &self,
        caller: &Caller,
        id: &str,
        action: Option<&str>,
    ) -> Result<CaseScores, ApiError> {
        let loaded = self.load_visible(caller, id).await?;
        ensure_assigner(self, caller, &loaded)?;
        let def = &loaded.wf.def;
        let a = review_action(def, action)?;
        let people: HashMap<String, String> = user::Entity::find()
            .filter(user::Column::Role.eq(Role::Expert.as_str()))
            .all(&self.state.store.read)
            .await?
            .into_iter()
            .map(|u| (u.username, u.display_name))
            .collect();
        let times = submission_times(self.state, id).await?;
        let (summary, sheets) = summarise(def, a, &loaded.snapshot);
        Ok(CaseScores {
            case_id: id.to_owned(),
            action: a.name.to_string(),
            rubric: a
                .scoring
                .as_ref()
                .map(|s| s.rubric.criteria.clone())
                .unwrap_or_default(),
            sheets: sheets
                .into_iter()
                .map(|(expert, sheet, score)| SheetScore {
                    display_name: people.get(&expert).cloned().unwrap_or_default(),
                    submitted_at: times.get(&(a.name.to_string(), expert.clone())).copied(),
                    expert,
                    score,
                    sheet,
                })
                .collect(),
            summary,
        })
    }
}

fn sheet_errors(action: &Action, sheet: &Value) -> Vec<crate::error::ProblemField> {
    action
        .input
        .as_ref()
        .map(|s| crate::cases::field_errors(&s.errors(sheet)))
        .unwrap_or_default()
}

async fn save_draft(
    state: &AppState,
    case_id: &str,
    action: &str,
    username: &str,
    sheet: &Value,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    review_draft::Entity::insert(review_draft::ActiveModel {
        case_id: Set(case_id.to_owned()),
        action: Set(action.to_owned()),
        username: Set(username.to_owned()),
        data: Set(to_json(sheet)?),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            review_draft::Column::CaseId,
            review_draft::Column::Action,
            review_draft::Column::Username,
        ])
        .update_columns([review_draft::Column::Data, review_draft::Column::UpdatedAt])
        .to_owned(),
    )
    .exec_without_returning(&state.store.write)
    .await?;
    Ok(())
}

/// One case's review as the province reads it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewSummary {
    #[schema(value_type = Object)]
    pub aggregate: Aggregate,
    /// Experts on the panel.
    pub assigned: usize,
    /// Of them, sheets submitted.
    pub submitted: usize,
    /// The collection is complete (all assigned, or the quorum).
    pub complete: bool,
    /// `dispersed` (spread beyond the threshold), `incomplete`.
    pub flags: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SheetScore {
    pub expert: String,
    pub display_name: String,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The sheet's score under the review's method.
    pub score: Option<f64>,
    #[schema(value_type = Object)]
    pub sheet: Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseScores {
    pub case_id: String,
    pub action: String,
    #[schema(value_type = Vec<Object>)]
    pub rubric: Vec<review::Criterion>,
    pub sheets: Vec<SheetScore>,
    #[serde(flatten)]
    pub summary: ReviewSummary,
}

/// The review's summary and each sheet (expert, sheet, score), by the engine's rules.
fn summarise(
    def: &Definition,
    action: &Action,
    snapshot: &CaseSnapshot,
) -> (ReviewSummary, Vec<(String, Value, Option<f64>)>) {
    let Some(scoring) = &action.scoring else {
        return (
            ReviewSummary {
                aggregate: review::aggregate(
                    &review::Scoring {
                        method: review::Method::Mean,
                        dispersion: None,
                        rubric: review::Rubric {
                            criteria: Vec::new(),
                        },
                    },
                    &[],
                ),
                assigned: 0,
                submitted: 0,
                complete: false,
                flags: Vec::new(),
            },
            Vec::new(),
        );
    };
    let sheets: Vec<(String, Value, Option<f64>)> = snapshot
        .collected
        .get(&action.name)
        .into_iter()
        .flatten()
        .map(|(user, sheet)| {
            (
                user.to_string(),
                sheet.clone(),
                review::sheet_score(&scoring.rubric, scoring.method, sheet),
            )
        })
        .collect();
    let scores: Vec<f64> = sheets.iter().filter_map(|(_, _, s)| *s).collect();
    let aggregate = review::aggregate(scoring, &scores);
    let assigned = action
        .roles
        .iter()
        .filter_map(|r| snapshot.assignments.get(r))
        .map(BTreeSet::len)
        .sum();
    let complete = match action.collect {
        Some(pilotflow_engine::definition::Completion::All) => {
            assigned > 0 && sheets.len() >= assigned
        }
        Some(pilotflow_engine::definition::Completion::Quorum(n)) => sheets.len() >= n as usize,
        None => false,
    };
    let _ = def;
    let mut flags = Vec::new();
    if aggregate.dispersed {
        flags.push("dispersed".to_owned());
    }
    if !complete {
        flags.push("incomplete".to_owned());
    }
    (
        ReviewSummary {
            aggregate,
            assigned,
            submitted: sheets.len(),
            complete,
            flags,
        },
        sheets,
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RankingQuery {
    pub workflow: String,
    /// The scored review (default: the workflow's first, e.g. `score`).
    pub action: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RankingEntry {
    pub rank: Option<u32>,
    pub case_id: String,
    pub title: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub city_name: String,
    pub state: String,
    pub state_label: String,
    pub score: Option<f64>,
    #[serde(flatten)]
    pub summary: ReviewSummary,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ranking {
    pub workflow: String,
    pub action: String,
    pub round: i32,
    pub method: String,
    pub items: Vec<RankingEntry>,
}

/// The round's cases that reached the review, by aggregate score (highest first).
pub async fn ranking(
    state: &AppState,
    caller: &Caller,
    year: i32,
    q: &RankingQuery,
) -> Result<Ranking, ApiError> {
    caller.require_admin()?;
    let wf = crate::workflows::find(&state.registry, &q.workflow)?.clone();
    let action_name = review_action(&wf.def, q.action.as_deref())?
        .name
        .to_string();
    let units = state.units();
    let rows = case::Entity::find()
        .filter(case::Column::WorkflowKey.eq(q.workflow.clone()))
        .filter(case::Column::Round.eq(year))
        .order_by_asc(case::Column::Id)
        .all(&state.store.read)
        .await?;
    let mut items = Vec::new();
    let mut method = String::new();
    for row in rows {
        let Some(case_wf) = state
            .registry
            .version(&row.workflow_key, &row.workflow_version)
        else {
            continue;
        };
        let def = &case_wf.def;
        let Ok(action) = review_action(def, Some(&action_name)) else {
            continue;
        };
        let snapshot = parse_without_forms(&row)?;
        if !action.from.iter().any(|s| snapshot.entered.contains_key(s)) {
            continue;
        }
        let (summary, _) = summarise(def, action, &snapshot);
        if method.is_empty() {
            method = action
                .scoring
                .as_ref()
                .map(|s| s.method.label_zh().to_owned())
                .unwrap_or_default();
        }
        let city = units.parent(&row.org_unit).unwrap_or_default().to_owned();
        items.push(RankingEntry {
            rank: None,
            score: summary.aggregate.score,
            case_id: row.id,
            title: row.title,
            org_unit_name: units.name(&row.org_unit),
            city_name: units.name(&city),
            org_unit: row.org_unit,
            state_label: def
                .state(&row.state)
                .map(|s| s.label.clone())
                .unwrap_or_default(),
            state: row.state,
            summary,
        });
    }
    let ranks = review::rank(&items.iter().map(|i| i.score).collect::<Vec<_>>());
    for (item, rank) in items.iter_mut().zip(ranks) {
        item.rank = rank;
    }
    items.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, &a.case_id).cmp(&(b.rank.is_none(), b.rank, &b.case_id))
    });
    Ok(Ranking {
        workflow: q.workflow.clone(),
        action: action_name,
        round: year,
        method,
        items,
    })
}

/// The column headings of the ranking's CSV and xlsx, for the province's meeting papers.
pub const RANKING_HEADERS: [&str; 11] = [
    "排名",
    "申报单位",
    "所属市州",
    "案件名称",
    "综合得分",
    "已提交评分表",
    "应提交评分表",
    "计分评分表",
    "最高最低分差",
    "标记",
    "当前状态",
];

fn ranking_cells(e: &RankingEntry) -> [String; 11] {
    let flags: Vec<&str> = e
        .summary
        .flags
        .iter()
        .map(|f| match f.as_str() {
            "dispersed" => "分差较大",
            "incomplete" => "评审未完成",
            other => other,
        })
        .collect();
    [
        e.rank.map(|r| r.to_string()).unwrap_or_default(),
        e.org_unit_name.clone(),
        e.city_name.clone(),
        e.title.clone(),
        e.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
        e.summary.submitted.to_string(),
        e.summary.assigned.to_string(),
        e.summary.aggregate.counted.to_string(),
        e.summary
            .aggregate
            .spread
            .map(|s| format!("{s:.2}"))
            .unwrap_or_default(),
        flags.join("、"),
        e.state_label.clone(),
    ]
}

/// CSV with a byte-order mark, so that Excel and WPS read the Chinese correctly.
pub fn ranking_csv(r: &Ranking) -> Result<Vec<u8>, ApiError> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(RANKING_HEADERS)
        .map_err(ApiError::internal)?;
    for e in &r.items {
        out.write_record(ranking_cells(e))
            .map_err(ApiError::internal)?;
    }
    out.into_inner()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))
}

/// The ranking as an xlsx workbook: a title row, the headings, one row per case.
pub fn ranking_xlsx(r: &Ranking, title: &str) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let bold = Format::new().set_bold();
    let x = |e: rust_xlsxwriter::XlsxError| ApiError::internal(e);
    sheet.set_name(format!("{}年度排名", r.round)).map_err(x)?;
    sheet
        .write_string_with_format(
            0,
            0,
            format!("{title}({}年度,{})", r.round, r.method),
            &bold,
        )
        .map_err(x)?;
    for (c, h) in RANKING_HEADERS.iter().enumerate() {
        sheet
            .write_string_with_format(1, c as u16, *h, &bold)
            .map_err(x)?;
    }
    for (i, e) in r.items.iter().enumerate() {
        let row = i as u32 + 2;
        let cells = ranking_cells(e);
        for (c, v) in cells.iter().enumerate() {
            let numeric = matches!(c, 0 | 4 | 5 | 6 | 7 | 8);
            match (numeric, v.parse::<f64>()) {
                (true, Ok(n)) => sheet.write_number(row, c as u16, n).map_err(x)?,
                _ => sheet.write_string(row, c as u16, v).map_err(x)?,
            };
        }
    }
    sheet.set_column_width(3, 36).map_err(x)?;
    book.save_to_buffer().map_err(x)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkPanelRequest {
    pub workflow: String,
    /// The scored review (default: the workflow's first).
    pub action: Option<String>,
    /// Experts per case (default: the review's `panel_size`).
    pub experts_per_case: Option<usize>,
    /// Also reassign cases that already have a panel (default: only those without).
    #[serde(default)]
    pub replace: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkPanelCase {
    pub case_id: String,
    pub title: String,
    pub org_unit_name: String,
    pub experts: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkPanelReport {
    pub round: i32,
    pub experts_per_case: usize,
    pub cases: Vec<BulkPanelCase>,
    /// Open reviews per expert afterwards.
    pub loads: BTreeMap<String, usize>,
}

/// Assigns panels to every case of the round waiting in the review: balanced, recusal kept,
/// areas matched where possible; all cases are written in one transaction.
pub async fn bulk_panels(
    state: &AppState,
    caller: &Caller,
    year: i32,
    req: BulkPanelRequest,
) -> Result<BulkPanelReport, ApiError> {
    caller.require_admin()?;
    let wf = crate::workflows::find(&state.registry, &req.workflow)?.clone();
    let action = review_action(&wf.def, req.action.as_deref())?;
    let role = panel_role(&wf.def)?;
    let per_case = req
        .experts_per_case
        .or(action.panel_size.map(|n| n as usize))
        .unwrap_or(3);
    if !(1..=50).contains(&per_case) {
        return Err(ApiError::invalid(
            "/experts_per_case",
            "每个案件的评审专家人数应在 1 到 50 之间",
            "experts_per_case must be between 1 and 50",
        ));
    }
    let svc = CaseService::new(state);
    let now = state.clock.now();
    let round = Condition::all()
        .add(case::Column::WorkflowKey.eq(req.workflow.clone()))
        .add(case::Column::Round.eq(year));
    let db = &state.store.read;
    let (rows, mut forms) = tokio::try_join!(
        case::Entity::find()
            .filter(round.clone())
            .order_by_asc(case::Column::Id)
            .all(db),
        forms_of_cases(db, round.clone())
    )?;
    let mut waiting: Vec<Loaded> = Vec::new();
    for row in rows {
        let case_forms = forms.remove(&row.id).unwrap_or_default();
        let snapshot = Arc::new(parse_snapshot(&row, case_forms)?);
        let loaded = match svc.load_parsed(caller, row, snapshot) {
            Ok(l) => l,
            Err(_) => continue,
        };
        let open = action
            .from
            .iter()
            .any(|s| loaded.snapshot.is_in(&loaded.wf.def, s));
        let has_panel = loaded
            .snapshot
            .assignments
            .get(&role)
            .is_some_and(|u| !u.is_empty());
        if open && (req.replace || !has_panel) {
            waiting.push(loaded);
        }
    }
    let experts = pool(state, role.as_str()).await?;
    let mut loads = open_loads(state, &role).await?;
    for l in &waiting {
        for u in l.snapshot.assignments.get(&role).into_iter().flatten() {
            if let Some(n) = loads.get_mut(u.as_str()) {
                *n = n.saturating_sub(1);
            }
        }
    }
    let cases: Vec<ReviewCase> = waiting
        .iter()
        .map(|l| review_case(&svc, l, action, now))
        .collect();
    let profiles: Vec<Expert> = experts.iter().map(|e| e.profile.clone()).collect();
    let base: Vec<usize> = profiles
        .iter()
        .map(|e| loads.get(&e.username).copied().unwrap_or(0))
        .collect();
    let panels =
        review::assign_panels(&cases, &profiles, per_case, &base).map_err(|e| match e {
            review::AssignError::TooFewEligible {
                case,
                eligible,
                needed,
            } => {
                let title = waiting
                    .iter()
                    .find(|l| l.row.id == case)
                    .map(|l| l.row.title.clone())
                    .unwrap_or_default();
                ApiError::new(
                    "too_few_experts",
                    format!("「{title}」只有 {eligible} 名无需回避的专家,不足每案 {needed} 名"),
                    format!("case {case} has {eligible} eligible experts, {needed} are needed"),
                )
                .with("case_id", case)
            }
        })?;
    let actor_for = |l: &Loaded| crate::access::actor(caller, &state.units(), &l.row.org_unit);
    let mut writes = Vec::new();
    for (l, panel) in waiting.iter().zip(&panels.panels) {
        let users: BTreeSet<UserId> = panel
            .iter()
            .map(|&e| UserId::new(profiles[e].username.clone()))
            .collect();
        let outcome =
            svc.engine(&l.wf.def)
                .assign(&l.snapshot, &actor_for(l), role.as_str(), users, now)?;
        writes.push(outcome);
    }
    write_batch(&svc, &waiting, &writes, None, now).await?;
    let units = state.units();
    Ok(BulkPanelReport {
        round: year,
        experts_per_case: per_case,
        cases: waiting
            .iter()
            .zip(&panels.panels)
            .map(|(l, panel)| BulkPanelCase {
                case_id: l.row.id.clone(),
                title: l.row.title.clone(),
                org_unit_name: units.name(&l.row.org_unit),
                experts: panel
                    .iter()
                    .map(|&e| profiles[e].username.clone())
                    .collect(),
            })
            .collect(),
        loads: profiles
            .iter()
            .zip(&panels.loads)
            .map(|(e, n)| (e.username.clone(), *n))
            .collect(),
    })
}

/// Writes the outcomes of several cases (and a document) in one transaction: all or none.
async fn write_batch(
    svc: &CaseService<'_>,
    loaded: &[Loaded],
    outcomes: &[Outcome],
    document: Option<crate::store::entities::document::Model>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let txn = svc.state.store.write.begin().await?;
    if let Some(doc) = document {
        insert_document(&txn, doc).await?;
    }
    for (l, outcome) in loaded.iter().zip(outcomes) {
        let engine = svc.engine(&l.wf.def);
        let before = engine.deadlines(&l.snapshot);
        let running = engine.deadlines(&outcome.snapshot);
        let deadlines = if deadlines_changed(&before, &running) {
            Some(DeadlineWrite {
                active: deadline_rows(&l.row, &running, now)?,
                now,
            })
        } else {
            None
        };
        let event = event_row(&l.row.id, outcome, None, &l.row.head_hash)?;
        let snap = &outcome.snapshot;
        let update = CaseUpdate {
            id: l.row.id.clone(),
            expected_version: l.row.version,
            state: snap.state.to_string(),
            snapshot: stored_snapshot(snap)?,
            version: snap.version as i64,
            round: snap.round(),
            head_hash: event.hash.clone(),
            updated_at: now,
        };
        if !write_in_txn(
            &txn,
            &l.row.id,
            l.row.version,
            outcome,
            update,
            event,
            deadlines.as_ref(),
        )
        .await?
        {
            txn.rollback().await?;
            return Err(version_conflict(l.row.version + 1).with("case_id", l.row.id.clone()));
        }
    }
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionCase {
    pub id: String,
    /// The version the decision was prepared on (as `If-Match` for one case).
    pub version: i64,
    /// This case's own input (e.g. the reasons of a rejection), over the shared one.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub input: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub workflow: String,
    /// `confirm` or `reject` (an action issued under a numbered document).
    pub action: String,
    /// The document number (文号), used by this decision only.
    pub document_number: String,
    /// Input shared by every case (e.g. `decided_on`, `remarks`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub input: Value,
    pub cases: Vec<DecisionCase>,
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionReport {
    pub document_number: String,
    pub action: String,
    pub cases: Vec<CaseView>,
}

/// Several cases decided under one document: each must accept the action, or none changes.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    req: DecisionRequest,
) -> Result<DecisionReport, ApiError> {
    let wf = crate::workflows::find(&state.registry, &req.workflow)?.clone();
    let field = wf
        .def
        .actions_named(&req.action)
        .find_map(|a| a.document.clone())
        .ok_or_else(|| {
            ApiError::invalid(
                "/action",
                format!("「{}」不是以文件发布的决定", req.action),
                format!("`{}` is not issued under a document", req.action),
            )
        })?;
    if req.cases.is_empty() {
        return Err(ApiError::invalid(
            "/cases",
            "请至少列出一个案件",
            "list at least one case",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, c) in req.cases.iter().enumerate() {
        if !seen.insert(c.id.as_str()) {
            return Err(ApiError::invalid(
                &format!("/cases/{i}/id"),
                "同一案件列出了两次",
                "the same case is listed twice",
            ));
        }
    }
    let svc = CaseService::new(state);
    let now = state.clock.now();
    let mut loaded = Vec::new();
    let mut outcomes = Vec::new();
    let mut problems = Vec::new();
    for (i, c) in req.cases.iter().enumerate() {
        let l = match svc.load_visible(caller, &c.id).await {
            Ok(l) => l,
            Err(e) => {
                problems.push(case_problem(i, &c.id, &e.message_zh(), &e.message_en()));
                continue;
            }
        };
        if l.row.version != c.version {
            problems.push(case_problem(
                i,
                &c.id,
                &format!("案件已被他人更新(当前版本 {}),请刷新后重试", l.row.version),
                &format!(
                    "the case is at version {}, not {}",
                    l.row.version, c.version
                ),
            ));
            continue;
        }
        let mut input = req.input.clone();
        if !input.is_object() {
            input = json!({});
        }
        if let (Some(map), Some(own)) = (input.as_object_mut(), c.input.as_object()) {
            for (k, v) in own {
                map.insert(k.clone(), v.clone());
            }
        }
        if let Some(map) = input.as_object_mut() {
            map.insert(field.clone(), Value::from(req.document_number.trim()));
        }
        let actor = crate::access::actor(caller, &state.units(), &l.row.org_unit);
        match svc
            .engine(&l.wf.def)
            .fire(&l.snapshot, &actor, &req.action, &input, now)
        {
            Ok(outcome) => {
                outcomes.push(outcome);
                loaded.push(l);
            }
            Err(e) => {
                let e = ApiError::from(e);
                problems.push(case_problem(i, &c.id, &e.message_zh(), &e.message_en()));
            }
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::new(
            "decision_refused",
            format!("{} 个案件不能按此决定办理,所有案件均未改动", problems.len()),
            format!(
                "{} of the cases cannot take this decision; none was changed",
                problems.len()
            ),
        )
        .with_errors(problems));
    }
    let first = outcomes
        .first()
        .zip(loaded.first())
        .and_then(|(o, l)| document_row(&l.wf.def, &l.row.id, o, now));
    let document = first.map(|mut d| {
        d.case_ids = json!(loaded.iter().map(|l| l.row.id.clone()).collect::<Vec<_>>()).to_string();
        d
    });
    write_batch(&svc, &loaded, &outcomes, document, now).await?;
    let mut views = Vec::new();
    // Cached copies of these cases are at their old versions, so no later write uses them.
    for (l, o) in loaded.iter().zip(&outcomes) {
        let mut view = svc.view(caller, &l.row, &o.snapshot, &l.wf.def, now);
        view.updated_at = now;
        views.push(view);
    }
    let _ = req.comment;
    Ok(DecisionReport {
        document_number: req.document_number.trim().to_owned(),
        action: req.action,
        cases: views,
    })
}

fn case_problem(i: usize, id: &str, zh: &str, en: &str) -> FieldError {
    FieldError {
        pointer: format!("/cases/{i}"),
        message: format!("案件 {id}:{zh}"),
        message_en: format!("case {id}: {en}"),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ZoneQuery {
    /// Default: every workflow with a listing.
    pub workflow: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Zone {
    pub case_id: String,
    pub workflow: String,
    pub title: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub city_name: String,
    pub state: String,
    /// The listing's status for the state (e.g. 实验中, 已授牌).
    pub status: String,
    /// The listing's fields (document number, dates, national recommendation).
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ZoneList {
    pub items: Vec<Zone>,
}

/// The public listing (名录) of every workflow that declares one, for anyone signed in.
pub async fn zones(state: &AppState, q: ZoneQuery) -> Result<ZoneList, ApiError> {
    let units = state.units();
    let mut items = Vec::new();
    for wf in state.registry.current_all() {
        if q.workflow.as_ref().is_some_and(|w| *w != wf.def.key) {
            continue;
        }
        let Some(listing) = &wf.def.listing else {
            continue;
        };
        let listed: Vec<String> = listing.states.iter().map(|(s, _)| s.to_string()).collect();
        let rows = case::Entity::find()
            .filter(case::Column::WorkflowKey.eq(wf.def.key.clone()))
            .filter(case::Column::State.is_in(listed))
            .order_by_asc(case::Column::OrgUnit)
            .all(&state.store.read)
            .await?;
        for row in rows {
            let Some(case_wf) = state
                .registry
                .version(&row.workflow_key, &row.workflow_version)
            else {
                continue;
            };
            let Some(case_listing) = &case_wf.def.listing else {
                continue;
            };
            let Some((_, status)) = case_listing
                .states
                .iter()
                .find(|(s, _)| s.as_str() == row.state)
            else {
                continue;
            };
            let snapshot = parse_without_forms(&row)?;
            let city = units.parent(&row.org_unit).unwrap_or_default().to_owned();
            items.push(Zone {
                case_id: row.id,
                workflow: row.workflow_key,
                title: row.title,
                org_unit_name: units.name(&row.org_unit),
                city_name: units.name(&city),
                org_unit: row.org_unit,
                state: row.state,
                status: status.clone(),
                fields: case_listing
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            f.clone(),
                            snapshot.vars.get(f).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .collect(),
            });
        }
    }
    Ok(ZoneList { items })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PoolEntry {
    pub username: String,
    pub display_name: String,
    pub org_unit: String,
    pub org_unit_name: String,
    pub expertise: Vec<String>,
    /// Units the expert declared a conflict with.
    pub conflicts: Vec<String>,
    /// Open reviews the expert sits on.
    pub load: usize,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExpertPool {
    /// The fields of expertise the workflows match on (key → label).
    pub fields: BTreeMap<String, String>,
    pub experts: Vec<PoolEntry>,
}

/// The expert pool for the province: affiliations, fields, conflicts and current load.
pub async fn expert_pool(state: &AppState, caller: &Caller) -> Result<ExpertPool, ApiError> {
    caller.require_admin()?;
    pool_entries(state).await
}

async fn pool_entries(state: &AppState) -> Result<ExpertPool, ApiError> {
    let units = state.units();
    let role = RoleName::new(Role::Expert.as_str());
    let loads = open_loads(state, &role).await?;
    Ok(ExpertPool {
        fields: state
            .registry
            .current_all()
            .flat_map(|w| w.def.expertise.clone())
            .collect(),
        experts: pool(state, role.as_str())
            .await?
            .into_iter()
            .map(|e| PoolEntry {
                load: loads.get(&e.profile.username).copied().unwrap_or(0),
                org_unit_name: units.name(&e.profile.affiliation),
                username: e.profile.username,
                display_name: e.display_name,
                org_unit: e.profile.affiliation,
                expertise: e.profile.expertise.into_iter().collect(),
                conflicts: e.profile.conflicts.into_iter().collect(),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictRequest {
    /// The unit the expert has a conflict of interest with.
    pub org_unit: String,
    pub reason: String,
}

/// Records a declared conflict of interest: by the expert, or by the province for it.
pub async fn declare_conflict(
    state: &AppState,
    caller: &Caller,
    username: &str,
    req: ConflictRequest,
) -> Result<PoolEntry, ApiError> {
    if caller.role != Role::ProvincialAdmin && caller.username != username {
        return Err(ApiError::forbidden());
    }
    if state.units().get(&req.org_unit).is_none() {
        return Err(ApiError::invalid(
            "/org_unit",
            format!("单位「{}」不存在", req.org_unit),
            format!("no unit `{}`", req.org_unit),
        ));
    }
    if req.reason.trim().chars().count() < 2 {
        return Err(ApiError::invalid(
            "/reason",
            "请说明利益冲突的情况",
            "give the reason",
        ));
    }
    let role = RoleName::new(Role::Expert.as_str());
    let experts = pool(state, role.as_str()).await?;
    if !experts.iter().any(|e| e.profile.username == username) {
        return Err(ApiError::new(
            "user_not_found",
            format!("「{username}」不是在册的评审专家"),
            format!("`{username}` is not an active expert"),
        ));
    }
    expert_conflict::Entity::insert(expert_conflict::ActiveModel {
        username: Set(username.to_owned()),
        org_unit: Set(req.org_unit.clone()),
        reason: Set(req.reason.trim().to_owned()),
        declared_at: Set(state.clock.now()),
    })
    .on_conflict(
        OnConflict::columns([
            expert_conflict::Column::Username,
            expert_conflict::Column::OrgUnit,
        ])
        .update_column(expert_conflict::Column::Reason)
        .to_owned(),
    )
    .exec_without_returning(&state.store.write)
    .await?;
    pool_entries(state)
        .await?
        .experts
        .into_iter()
        .find(|e| e.username == username)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("expert vanished")))
}
