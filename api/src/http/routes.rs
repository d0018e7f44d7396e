//! Route handlers: each translates HTTP to one call of a service and back.

use super::{JsonBody, method_not_allowed};
use crate::access;
use crate::admin::{self, NewOrgUnit, NewUser, OrgUnitNode, UserPatch, UserView};
use crate::attachments::{self, AttachmentInfo};
use crate::auth::{self, Caller, LoginRequest, LoginResponse, Token};
use crate::cases::{
    ActionReply, ActionRequest, CaseFilter, CaseList, CaseService, CaseView, CreateCase, FormSaved,
    HistoryEntry, Idempotency, PanelRequest, parse_if_match,
};
use crate::deadlines::{self, DeadlineFilter, DeadlineList};
use crate::error::{ApiError, Problem};
use crate::holidays::{self, CalendarYearUpload, CalendarYearView};
use crate::state::AppState;
use crate::workflows::{self, WorkflowDetail, WorkflowSummary};
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Route, web};
use serde_json::Value;
use sha2::{Digest, Sha256};

type Data = web::Data<AppState>;

/// A resource whose undeclared methods answer 405.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let api = web::scope("/api/v1")
        .service(resource("/auth/login").route(web::post().to(login)))
        .service(resource("/auth/logout").route(web::post().to(logout)))
        .service(resource("/me").route(web::get().to(me)))
        .service(
            resource("/org-units")
                .route(web::get().to(org_units))
                .route(web::post().to(create_org_unit)),
        )
        .service(
            resource("/users")
                .route(web::get().to(list_users))
                .route(web::post().to(create_user)),
        )
        .service(
            resource("/users/{username}").route(
                Route::new()
                    .method(actix_web::http::Method::PATCH)
                    .to(update_user),
            ),
        )
        .service(
            resource("/admin/clock")
                .route(web::get().to(get_clock))
                .route(web::post().to(advance_clock)),
        )
        .service(resource("/deadlines").route(web::get().to(upcoming_deadlines)))
        .service(resource("/calendar").route(web::get().to(list_calendar)))
        .service(resource("/calendar/{year}").route(web::put().to(upload_calendar_year)))
        .service(resource("/workflows").route(web::get().to(list_workflows)))
        .service(resource("/workflows/{key}").route(web::get().to(get_workflow)))
        .service(resource("/workflows/{key}/diagram").route(web::get().to(workflow_diagram)))
        .service(
            resource("/cases")
                .route(web::get().to(list_cases))
                .route(web::post().to(create_case)),
        )
        .service(resource("/cases/{id}").route(web::get().to(get_case)))
        .service(
            resource("/cases/{id}/forms/{form}")
                .route(web::get().to(get_form))
                .route(web::put().to(save_form)),
        )
        .service(resource("/cases/{id}/actions/{action}").route(web::post().to(act)))
        .service(
            resource("/cases/{id}/panel")
                .route(web::put().to(set_panel))
                .route(web::get().to(super::review_routes::panel)),
        )
        .service(resource("/cases/{id}/history").route(web::get().to(history)))
        .service(
            resource("/cases/{id}/attachments")
                .route(web::get().to(list_attachments))
                .route(web::post().to(upload_attachment)),
        )
        .service(
            resource("/cases/{id}/attachments/{aid}").route(web::get().to(download_attachment)),
        )
        .configure(super::notice_routes::configure_api)
        .configure(super::review_routes::configure_api);
    cfg.service(api)
        .service(
            resource("/calendar.ics").route(web::get().to(super::notice_routes::calendar_feed)),
        )
        .service(resource("/healthz").route(web::get().to(healthz)))
        .service(resource("/readyz").route(web::get().to(readyz)))
        .service(resource("/metrics").route(web::get().to(metrics)));
}

fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Sign in; answers a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "wrong user name or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed attempts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    state: Data,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let out = auth::login(&state, body.0, &client_address(&req)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Revoke the token of this request.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "signed out"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(state: Data, _caller: Caller, token: Token) -> Result<HttpResponse, ApiError> {
    auth::logout(&state, &token.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = Caller),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(caller)
}

/// The jurisdiction tree.
#[utoipa::path(get, path = "/api/v1/org-units", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<OrgUnitNode>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn org_units(state: Data, _caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(admin::tree(&state.units()))
}

/// Add an org unit (provincial admin).
#[utoipa::path(post, path = "/api/v1/org-units", tag = "admin", security(("bearer" = [])),
    request_body = NewOrgUnit,
    responses(
        (status = 201, body = OrgUnitNode),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the code exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_org_unit(
    state: Data,
    caller: Caller,
    body: JsonBody<NewOrgUnit>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let unit = admin::create_org_unit(&state, body.0).await?;
    Ok(HttpResponse::Created().json(unit))
}

/// Every user (provincial admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<UserView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_users(state: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(admin::list_users(&state).await?))
}

/// Create a user (provincial admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", security(("bearer" = [])),
    request_body = NewUser,
    responses(
        (status = 201, body = UserView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the user name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_user(
    state: Data,
    caller: Caller,
    body: JsonBody<NewUser>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let user = admin::create_user(&state, body.0).await?;
    Ok(HttpResponse::Created().json(user))
}

/// Change a user: name, mail, unit, role, password or whether it may sign in (provincial admin).
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path)),
    request_body = UserPatch,
    responses(
        (status = 200, body = UserView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_user(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let user = admin::update_user(&state, &path.into_inner(), body.0).await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockAdvance {
    /// An ISO 8601 duration: `P10D`, `PT2H`, `P1M`.
    #[schema(example = "P10D")]
    pub advance: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ClockState {
    /// Always `simulated` (the system clock has no such path).
    pub mode: String,
    pub now: chrono::DateTime<chrono::Utc>,
    /// The time in Asia/Shanghai.
    pub now_local: String,
}

fn simulated_clock(state: &AppState, caller: &Caller) -> Result<ClockState, ApiError> {
    if state.clock.mode() == crate::clock::ClockMode::System {
        return Err(ApiError::not_found());
    }
    caller.require_admin()?;
    let now = state.clock.now();
    Ok(ClockState {
        mode: "simulated".to_owned(),
        now,
        now_local: pilotflow_engine::deadline::local_text(chrono_tz::Asia::Shanghai, now),
    })
}

/// The rehearsal clock (simulated mode only; 404 with the system clock).
#[utoipa::path(get, path = "/api/v1/admin/clock", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = ClockState),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "the service runs on the system clock", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_clock(state: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(simulated_clock(&state, &caller)?))
}

/// Move the rehearsal clock forward (provincial admin; simulated mode only).
#[utoipa::path(post, path = "/api/v1/admin/clock", tag = "admin", security(("bearer" = [])),
    request_body = ClockAdvance,
    responses(
        (status = 200, body = ClockState),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "the service runs on the system clock", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn advance_clock(
    state: Data,
    caller: Caller,
    body: JsonBody<ClockAdvance>,
) -> Result<HttpResponse, ApiError> {
    simulated_clock(&state, &caller)?;
    state.clock.advance(&body.0.advance).map_err(|e| {
        ApiError::invalid(
            "/advance",
            format!(
                "「{}」不是可用的时长,请写成 ISO 8601 形式,如 P10D(10 天)、PT2H(2 小时)",
                body.0.advance
            ),
            e.to_string(),
        )
    })?;
    Ok(HttpResponse::Ok().json(simulated_clock(&state, &caller)?))
}

/// Running deadlines within the caller's scope due within a window (and those already past),
/// soonest first.
#[utoipa::path(get, path = "/api/v1/deadlines", tag = "cases", security(("bearer" = [])),
    params(DeadlineFilter),
    responses(
        (status = 200, body = DeadlineList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upcoming_deadlines(
    state: Data,
    caller: Caller,
    query: web::Query<DeadlineFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(deadlines::upcoming(&state, &caller, query.into_inner()).await?))
}

/// The holiday data by year (法定节假日 and 调休) that working-day deadlines use.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<CalendarYearView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_calendar(state: Data, _caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(holidays::list(&state.store).await?))
}

/// Store or replace one year's holidays and make-up working days (provincial admin); deadlines
/// use it at once.
#[utoipa::path(put, path = "/api/v1/calendar/{year}", tag = "admin", security(("bearer" = [])),
    params(("year" = i32, Path, example = 2027)),
    request_body = CalendarYearUpload,
    responses(
        (status = 200, body = CalendarYearView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload_calendar_year(
    state: Data,
    caller: Caller,
    path: web::Path<i32>,
    body: JsonBody<CalendarYearUpload>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let year = holidays::upload(&state, &caller.username, path.into_inner(), body.0).await?;
    Ok(HttpResponse::Ok().json(year))
}

/// Workflows that new cases can start on.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<WorkflowSummary>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_workflows(state: Data, _caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(workflows::list(&state.registry))
}

/// A workflow's states, forms and actions, with each action's input schema.
#[utoipa::path(get, path = "/api/v1/workflows/{key}", tag = "workflows", security(("bearer" = [])),
    params(("key" = String, Path, example = "pilot-zone")),
    responses(
        (status = 200, body = WorkflowDetail),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_workflow(
    state: Data,
    _caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let wf = workflows::find(&state.registry, &path)?;
    Ok(HttpResponse::Ok().json(workflows::detail(wf)))
}

/// The lifecycle as a Mermaid `stateDiagram-v2`.
#[utoipa::path(get, path = "/api/v1/workflows/{key}/diagram", tag = "workflows", security(("bearer" = [])),
    params(("key" = String, Path, example = "pilot-zone")),
    responses(
        (status = 200, body = String, content_type = "text/plain"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn workflow_diagram(
    state: Data,
    _caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let wf = workflows::find(&state.registry, &path)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(pilotflow_engine::diagram::mermaid(&wf.def)))
}

/// Open a case in its initial state.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])),
    request_body = CreateCase,
    responses(
        (status = 201, body = CaseView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "bad input, or the unit may not apply", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_case(
    state: Data,
    caller: Caller,
    body: JsonBody<CreateCase>,
) -> Result<HttpResponse, ApiError> {
    let view = CaseService::new(&state).create(&caller, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/cases/{}", view.id)))
        .insert_header((header::ETAG, format!("\"{}\"", view.version)))
        .json(view))
}

/// Cases the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])),
    params(CaseFilter),
    responses(
        (status = 200, body = CaseList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_cases(
    state: Data,
    caller: Caller,
    query: web::Query<CaseFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        CaseService::new(&state)
            .list(&caller, query.into_inner())
            .await?,
    ))
}

/// One case, with its deadlines and what the caller may do now.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = CaseView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such case, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_case(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = CaseService::new(&state).get(&caller, &path).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", view.version)))
        .json(view))
}

fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    match req.headers().get(header::IF_MATCH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(parse_if_match)
            .map(Some)
            .ok_or_else(|| {
                ApiError::new(
                    "malformed_request",
                    "If-Match 请求头应为案件版本号(整数)",
                    "If-Match must be the case version (an integer)",
                )
            }),
    }
}

/// The saved document of one form.
#[utoipa::path(get, path = "/api/v1/cases/{id}/forms/{form}", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path), ("form" = String, Path, example = "experiment_plan")),
    responses(
        (status = 200, description = "the form's JSON document", body = Object),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such case or form, or not saved yet", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_form(
    state: Data,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, form) = path.into_inner();
    Ok(HttpResponse::Ok().json(CaseService::new(&state).form(&caller, &id, &form).await?))
}

/// Save a draft of one form; answers what it still lacks.
#[utoipa::path(put, path = "/api/v1/cases/{id}/forms/{form}", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path), ("form" = String, Path, example = "experiment_plan"),
        ("If-Match" = Option<String>, Header, description = "the case version the draft was edited from")),
    request_body(content = Object, description = "the form's JSON document"),
    responses(
        (status = 200, body = FormSaved),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn save_form(
    state: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let (id, form) = path.into_inner();
    let saved = CaseService::new(&state)
        .save_form(&caller, &id, &form, body.0, if_match(&req)?)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", saved.version)))
        .json(saved))
}

/// Take an action. `If-Match` must carry the case version; `Idempotency-Key` makes a retry safe.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions/{action}", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path), ("action" = String, Path, example = "submit"),
        ("If-Match" = String, Header, description = "the case version"),
        ("Idempotency-Key" = Option<String>, Header, description = "repeat a request safely: the same key answers the first result")),
    request_body = ActionRequest,
    responses(
        (status = 200, body = CaseView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "the caller may not take this action", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "stale version, or the action is not available now", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "input, guard or deadline refused", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn act(
    state: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let expected = if_match(&req)?;
    let request: ActionRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ActionRequest::default()
    } else {
        super::parse_json(&body)?
    };
    let idem = match req.headers().get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200);
            let key = key.ok_or_else(|| {
                ApiError::new(
                    "malformed_request",
                    "Idempotency-Key 应为 1 到 200 个可见字符",
                    "Idempotency-Key must be 1 to 200 visible characters",
                )
            })?;
            let mut h = Sha256::new();
            for part in [
                id.as_bytes(),
                action.as_bytes(),
                &expected.unwrap_or(-1).to_be_bytes(),
                &body,
            ] {
                h.update((part.len() as u64).to_be_bytes());
                h.update(part);
            }
            Some(Idempotency {
                key: key.to_owned(),
                request_hash: hex::encode(h.finalize()),
            })
        }
    };
    let reply = CaseService::new(&state)
        .act(&caller, &id, &action, request, expected, idem)
        .await?;
    Ok(match reply {
        ActionReply::Done(view) => HttpResponse::Ok()
            .insert_header((header::ETAG, format!("\"{}\"", view.version)))
            .json(view),
        ActionReply::Replayed(stored) => HttpResponse::Ok()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(stored),
    })
}

/// Set the experts assigned to a case (provincial admin).
#[utoipa::path(put, path = "/api/v1/cases/{id}/panel", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = PanelRequest,
    responses(
        (status = 200, body = CaseView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_panel(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<PanelRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = CaseService::new(&state)
        .set_panel(&caller, &path, body.0)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Every event of the case, in order, each chained to the previous by its hash.
#[utoipa::path(get, path = "/api/v1/cases/{id}/history", tag = "cases", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Vec<HistoryEntry>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn history(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CaseService::new(&state).history(&caller, &path).await?))
}

/// The case's attachments.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Vec<AttachmentInfo>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_attachments(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let case = CaseService::new(&state)
        .check_visible(&caller, &path)
        .await?;
    Ok(HttpResponse::Ok().json(attachments::list(&state, &case.id).await?))
}

/// Upload a file (multipart field `file`): PDF, DOC/DOCX, XLS/XLSX, OFD, JPG or PNG, judged by
/// content.
#[utoipa::path(post, path = "/api/v1/cases/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = attachments::Upload, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = AttachmentInfo),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload_attachment(
    state: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let case = CaseService::new(&state)
        .check_visible(&caller, &path)
        .await?;
    if !access::may_attach(&caller) {
        return Err(ApiError::forbidden());
    }
    let limit = state.settings.max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Multipart framing adds a little; anything far above the limit is refused unread.
    if declared.is_some_and(|n| n > limit + 64 * 1024) {
        return Err(attachments::too_large(limit));
    }
    let multipart = Multipart::new(req.headers(), payload);
    let info = attachments::receive(&state, &caller, &case.id, multipart).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/cases/{}/attachments/{}", case.id, info.id),
        ))
        .json(info))
}

/// Download an attachment.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments/{aid}", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path), ("aid" = String, Path)),
    responses(
        (status = 200, description = "the file", content_type = "application/octet-stream"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn download_attachment(
    state: Data,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, aid) = path.into_inner();
    let case = CaseService::new(&state).check_visible(&caller, &id).await?;
    let (row, bytes) = attachments::read(&state, &case.id, &aid).await?;
    let encoded =
        percent_encoding::utf8_percent_encode(&row.filename, percent_encoding::NON_ALPHANUMERIC);
    Ok(HttpResponse::Ok()
        .content_type(row.content_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename*=UTF-8''{encoded}"),
        ))
        .insert_header(("X-Content-SHA256", row.sha256.as_str()))
        .body(bytes))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "alive", body = String, content_type = "text/plain")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database is reachable.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "ready", body = String, content_type = "text/plain"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(state: Data) -> Result<HttpResponse, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(HttpResponse::Ok().content_type("text/plain").body("ready")),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            Err(ApiError::new(
                "unavailable",
                "数据库暂不可用",
                "the database is not reachable",
            ))
        }
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(state: Data) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
