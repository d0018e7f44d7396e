//! The administrator's resources: org units, users, the rehearsal clock and the holiday
//! calendar.

use super::extract::{Admin, JsonBody};
use super::{Data, resource};
use crate::admin::holidays::{self, CalendarYearUpload, CalendarYearView};
use crate::admin::units::{self, NewOrgUnit, OrgUnitNode};
use crate::admin::users::{self, NewUser, UserPatch, UserView};
use crate::clock::ClockMode;
use crate::error::{ApiError, Problem};
use crate::identity::Caller;
use crate::state::AppState;
use actix_web::{HttpResponse, Route, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
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
    .service(resource("/clock").route(web::get().to(clock)))
    .service(
        resource("/admin/clock")
            .route(web::get().to(get_clock))
            .route(web::post().to(advance_clock)),
    )
    .service(resource("/calendar").route(web::get().to(list_calendar)))
    .service(resource("/calendar/{year}").route(web::put().to(upload_calendar_year)));
}

/// The jurisdiction tree.
#[utoipa::path(get, path = "/api/v1/org-units", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<OrgUnitNode>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn org_units(state: Data, _caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(units::tree(&state.ctx.units()))
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
    body: JsonBody<NewOrgUnit>,
    _admin: Admin,
) -> Result<HttpResponse, ApiError> {
    let unit = units::create_org_unit(&state.ctx, body.0).await?;
    Ok(HttpResponse::Created().json(unit))
}

/// Every user (provincial admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<UserView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_users(state: Data, _admin: Admin) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(users::list_users(&state.ctx).await?))
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
    body: JsonBody<NewUser>,
    _admin: Admin,
) -> Result<HttpResponse, ApiError> {
    let user = users::create_user(&state.ctx, body.0).await?;
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
    path: web::Path<String>,
    body: JsonBody<UserPatch>,
    _admin: Admin,
) -> Result<HttpResponse, ApiError> {
    let user = users::update_user(&state.ctx, &state.sessions, &path.into_inner(), body.0).await?;
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
    /// `simulated` (the rehearsal clock) or `system`; `/admin/clock` answers only the
    /// rehearsal clock.
    pub mode: String,
    pub now: chrono::DateTime<chrono::Utc>,
    /// The time in Asia/Shanghai.
    pub now_local: String,
}

/// The clock's mode and time now.
fn clock_state(state: &AppState) -> ClockState {
    let now = state.ctx.clock.now();
    ClockState {
        mode: match state.ctx.clock.mode() {
            ClockMode::System => "system",
            ClockMode::Simulated => "simulated",
        }
        .to_owned(),
        now,
        now_local: pilotflow_engine::deadline::local_text(chrono_tz::Asia::Shanghai, now),
    }
}

/// The rehearsal clock for the administrator: 404 on the system clock, then 403 for anyone
/// else (in that order).
fn simulated_clock(state: &AppState, caller: Caller) -> Result<ClockState, ApiError> {
    if state.ctx.clock.mode() == ClockMode::System {
        return Err(ApiError::not_found());
    }
    Admin::check(caller)?;
    Ok(clock_state(state))
}

/// The service's time and whether it is the rehearsal clock (演练模式), for everyone signed
/// in: the web application shows a banner while the clock is simulated.
#[utoipa::path(get, path = "/api/v1/clock", tag = "operations", security(("bearer" = [])),
    responses(
        (status = 200, body = ClockState),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn clock(state: Data, _caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(clock_state(&state))
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
    Ok(HttpResponse::Ok().json(simulated_clock(&state, caller)?))
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
    simulated_clock(&state, caller.clone())?;
    state.ctx.clock.advance(&body.0.advance).map_err(|e| {
        ApiError::invalid(
            "/advance",
            format!(
                "「{}」不是可用的时长,请写成 ISO 8601 形式,如 P10D(10 天)、PT2H(2 小时)",
                body.0.advance
            ),
            e.to_string(),
        )
    })?;
    Ok(HttpResponse::Ok().json(simulated_clock(&state, caller)?))
}

/// The holiday data by year (法定节假日 and 调休) that working-day deadlines use.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<CalendarYearView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_calendar(state: Data, _caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(holidays::list(&state.ctx.store).await?))
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
    path: web::Path<i32>,
    body: JsonBody<CalendarYearUpload>,
    Admin(caller): Admin,
) -> Result<HttpResponse, ApiError> {
    let year = holidays::upload(&state.ctx, &caller.username, path.into_inner(), body.0).await?;
    Ok(HttpResponse::Ok().json(year))
}
