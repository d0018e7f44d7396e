//! A case's panel: who sits on it and how far their sheets are, the experts who could step
//! in, setting the panel with recusal kept, and an expert stepping down.

use super::ReviewService;
use super::lookup::{ensure_assigner, panel_role, recusal_error, review_action, review_case};
use super::pool::{PoolExpert, open_loads, pool};
use crate::cases::{CaseView, Loaded, version_conflict};
use crate::error::ApiError;
use crate::identity::{Caller, access};
use crate::store::entities::expert_conflict;
use chrono::{DateTime, Utc};
use pilotflow_engine::UserId;
use pilotflow_engine::definition::Action;
use pilotflow_engine::review;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PanelRequest {
    /// User names of the experts assigned to the case.
    pub experts: Vec<String>,
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

impl ReviewService<'_> {
    /// The panel of a case for the province: members and the state of their sheets, who
    /// declined, and who could step in.
    pub async fn panel(&self, caller: &Caller, id: &str) -> Result<PanelView, ApiError> {
        let loaded = self.cases.load_visible(caller, id).await?;
        ensure_assigner(&self.cases, caller, &loaded)?;
        let def = &loaded.wf.def;
        let role = panel_role(def)?;
        let now = self.ctx().clock.now();
        let units = self.ctx().units();
        let experts = pool(self.ctx(), role.as_str()).await?;
        let on_panel: BTreeSet<&str> = loaded
            .snapshot
            .assignments
            .get(&role)
            .into_iter()
            .flatten()
            .map(UserId::as_str)
            .collect();
        let drafts: BTreeSet<(String, String)> = self
            .ctx()
            .store
            .review_drafts(id)
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
        let declined = self
            .ctx()
            .store
            .events_of_kind(id, "declined")
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
        let case = review_case(&self.cases, &loaded, action, now);
        let loads = open_loads(self.ctx(), &role).await?;
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

    /// Sets the experts of a case (the workflow's one `assigned` role).
    pub async fn set_panel(
        &self,
        caller: &Caller,
        id: &str,
        req: PanelRequest,
    ) -> Result<CaseView, ApiError> {
        self.cases
            .unversioned_write(caller, id, async |loaded| {
                let def = &loaded.wf.def;
                let role = panel_role(def)?;
                let pool = pool(self.ctx(), role.as_str()).await?;
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
                let units = self.ctx().units();
                let actor = access::actor(caller, &units, &loaded.row.org_unit);
                let now = self.ctx().clock.now();
                let outcome = self.cases.engine(def).assign(
                    &loaded.snapshot,
                    &actor,
                    role.as_str(),
                    users,
                    now,
                )?;
                self.check_recusal(&loaded, &req.experts, &pool)?;
                let running = self.cases.engine(def).deadlines(&outcome.snapshot);
                if !self
                    .cases
                    .commit(&loaded, &outcome, &running, None, now, None)
                    .await?
                {
                    return Ok(None);
                }
                Ok(Some(self.cases.view_with(
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

    /// Refuses a panel with anyone who must recuse themselves from this case.
    fn check_recusal(
        &self,
        loaded: &Loaded,
        experts: &[String],
        pool: &[PoolExpert],
    ) -> Result<(), ApiError> {
        let Ok(action) = review_action(&loaded.wf.def, None) else {
            return Ok(());
        };
        let case = review_case(&self.cases, loaded, action, self.ctx().clock.now());
        for (i, name) in experts.iter().enumerate() {
            if let Some(e) = pool.iter().find(|e| e.profile.username == *name)
                && let Some(why) = review::recusal(&e.profile, &case)
            {
                return Err(recusal_error(
                    &self.ctx().units(),
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
        let loaded = self.cases.load_visible(caller, id).await?;
        let actor = access::actor(caller, &self.ctx().units(), &loaded.row.org_unit);
        let now = self.ctx().clock.now();
        let outcome = self.cases.engine(&loaded.wf.def).decline(
            &loaded.snapshot,
            &actor,
            &req.reason,
            now,
        )?;
        let running = self
            .cases
            .engine(&loaded.wf.def)
            .deadlines(&outcome.snapshot);
        if !self
            .cases
            .commit(&loaded, &outcome, &running, None, now, None)
            .await?
        {
            return Err(version_conflict(loaded.row.version + 1));
        }
        if req.conflict {
            self.ctx()
                .store
                .put_expert_conflict(
                    expert_conflict::Model {
                        username: caller.username.clone(),
                        org_unit: loaded.row.org_unit.clone(),
                        reason: req.reason.trim().to_owned(),
                        declared_at: now,
                    },
                    false,
                )
                .await?;
        }
        Ok(json!({"case_id": id, "declined": caller.username}))
    }
}
