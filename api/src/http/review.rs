//! Route handlers for expert review: the pool, panels (manual, bulk, declined seats), score
//! sheets (drafts, reopening), scores and the ranking, decisions under documents, the zones.

use super::extract::{Admin, JsonBody};
use super::{Data, resource};
use crate::cases::CaseView;
use crate::error::{ApiError, Problem};
use crate::identity::Caller;
use crate::review::{
    self, BulkPanelReport, BulkPanelRequest, CaseScores, ConflictRequest, DecisionReport,
    DecisionRequest, DeclineRequest, ExpertPool, PanelRequest, PanelView, PoolEntry, Ranking,
    RankingQuery, ReopenRequest, SheetView, ZoneList, ZoneQuery, exports,
};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/cases/{id}/panel")
            .route(web::put().to(set_panel))
            .route(web::get().to(panel)),
    )
    .service(resource("/experts").route(web::get().to(expert_pool)))
    .service(resource("/experts/{username}/conflicts").route(web::post().to(declare_conflict)))
    .service(resource("/cases/{id}/panel/decline").route(web::post().to(decline)))
    .service(
        resource("/cases/{id}/reviews/{action}/sheet")
            .route(web::get().to(my_sheet))
            .route(web::put().to(save_sheet)),
    )
    .service(resource("/cases/{id}/reviews/{action}/reopen").route(web::post().to(reopen)))
    .service(resource("/cases/{id}/scores").route(web::get().to(scores)))
    .service(resource("/rounds/{year}/panels").route(web::post().to(bulk_panels)))
    .service(resource("/rounds/{year}/ranking").route(web::get().to(ranking)))
    .service(resource("/decisions").route(web::post().to(decide)))
    .service(resource("/zones").route(web::get().to(zones)));
}

/// The experts, with affiliation, fields of expertise, declared conflicts and current load
/// (provincial admin).
#[utoipa::path(get, path = "/api/v1/experts", tag = "review", security(("bearer" = [])),
    responses(
        (status = 200, body = ExpertPool),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn expert_pool(state: Data, _admin: Admin) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(review::expert_pool(&state.ctx).await?))
}

/// Declare an expert's conflict of interest with a unit (the expert, or the province): the
/// expert is never assigned to that unit's cases, nor, for a city, its districts'.
#[utoipa::path(post, path = "/api/v1/experts/{username}/conflicts", tag = "review", security(("bearer" = [])),
    params(("username" = String, Path)),
    request_body = ConflictRequest,
    responses(
        (status = 200, body = PoolEntry),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn declare_conflict(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ConflictRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(
        HttpResponse::Ok()
            .json(review::declare_conflict(&state.ctx, &caller, &path, body.0).await?),
    )
}

/// The case's panel for the province: members and their sheets, declined seats and the
/// eligible replacements.
#[utoipa::path(get, path = "/api/v1/cases/{id}/panel", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = PanelView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn panel(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.review_service().panel(&caller, &path).await?))
}

/// An assigned expert steps down from the case (with `conflict`, a conflict of interest with
/// the applying unit, kept for later assignments).
#[utoipa::path(post, path = "/api/v1/cases/{id}/panel/decline", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = DeclineRequest,
    responses(
        (status = 200, description = "stepped down", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decline(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<DeclineRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        state
            .review_service()
            .decline(&caller, &path, body.0)
            .await?,
    ))
}

/// The caller's own score sheet for a review: the submitted one, else the draft.
#[utoipa::path(get, path = "/api/v1/cases/{id}/reviews/{action}/sheet", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path), ("action" = String, Path, description = "the review, e.g. score")),
    responses(
        (status = 200, body = SheetView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_sheet(
    state: Data,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    Ok(HttpResponse::Ok().json(
        state
            .review_service()
            .my_sheet(&caller, &id, &action)
            .await?,
    ))
}

/// Save a draft of the caller's score sheet (the body is the sheet): answers what it still
/// lacks, saves anyway. Submitting is `POST …/actions/{action}`, once.
#[utoipa::path(put, path = "/api/v1/cases/{id}/reviews/{action}/sheet", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path), ("action" = String, Path, description = "the review, e.g. score")),
    request_body(content = Object, description = "the score sheet"),
    responses(
        (status = 200, body = SheetView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn save_sheet(
    state: Data,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    Ok(HttpResponse::Ok().json(
        state
            .review_service()
            .save_sheet(&caller, &id, &action, body.0)
            .await?,
    ))
}

/// Take an expert's submitted sheet back so it can be submitted again (provincial admin,
/// with a reason kept in the history); a completed review opens again.
#[utoipa::path(post, path = "/api/v1/cases/{id}/reviews/{action}/reopen", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path), ("action" = String, Path, description = "the review, e.g. score")),
    request_body = ReopenRequest,
    responses(
        (status = 200, body = CaseView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reopen(
    state: Data,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<ReopenRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let view: CaseView = state
        .review_service()
        .reopen(&caller, &id, &action, body.0)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScoresQuery {
    /// The review (default: the workflow's first, e.g. `score`).
    pub action: Option<String>,
}

/// Each sheet of the case's review, the aggregate and its flags (the province).
#[utoipa::path(get, path = "/api/v1/cases/{id}/scores", tag = "review", security(("bearer" = [])),
    params(("id" = String, Path), ScoresQuery),
    responses(
        (status = 200, body = CaseScores),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn scores(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<ScoresQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        state
            .review_service()
            .scores(&caller, &path, query.action.as_deref())
            .await?,
    ))
}

/// Assign panels to every case of the round waiting in review (provincial admin): N experts
/// each, loads balanced (max − min ≤ 1 where recusal allows), recusal kept, areas matched.
#[utoipa::path(post, path = "/api/v1/rounds/{year}/panels", tag = "review", security(("bearer" = [])),
    params(("year" = i32, Path, description = "the round, e.g. 2027")),
    request_body = BulkPanelRequest,
    responses(
        (status = 200, body = BulkPanelReport),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bulk_panels(
    state: Data,
    path: web::Path<i32>,
    body: JsonBody<BulkPanelRequest>,
    Admin(caller): Admin,
) -> Result<HttpResponse, ApiError> {
    let report = state
        .review_service()
        .bulk_panels(&caller, path.into_inner(), body.0)
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The round's ranking by aggregate score (provincial admin): JSON, or `format=csv` /
/// `format=xlsx` with Chinese headings for the meeting papers.
#[utoipa::path(get, path = "/api/v1/rounds/{year}/ranking", tag = "review", security(("bearer" = [])),
    params(("year" = i32, Path, description = "the round, e.g. 2027"), RankingQuery),
    responses(
        (status = 200, body = Ranking, description = "JSON, CSV (text/csv) or xlsx"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ranking(
    state: Data,
    path: web::Path<i32>,
    query: web::Query<RankingQuery>,
    _admin: Admin,
) -> Result<HttpResponse, ApiError> {
    let year = path.into_inner();
    let q = query.into_inner();
    let format = q.format.clone().unwrap_or_else(|| "json".to_owned());
    if !matches!(format.as_str(), "json" | "csv" | "xlsx") {
        return Err(ApiError::invalid(
            "/format",
            "格式应为 json、csv 或 xlsx",
            "format must be json, csv or xlsx",
        ));
    }
    let r = review::ranking(&state.ctx, year, &q).await?;
    let name = format!("{}-{year}-ranking", r.workflow);
    Ok(match format.as_str() {
        "csv" => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ))
            .body(exports::ranking_csv(&r)?),
        "xlsx" => {
            let title = state
                .ctx
                .registry
                .current(&r.workflow)
                .map(|w| w.def.title.zh.clone())
                .unwrap_or_default();
            HttpResponse::Ok()
                .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.xlsx\""),
                ))
                .body(exports::ranking_xlsx(&r, &format!("{title}评审排名"))?)
        }
        _ => HttpResponse::Ok().json(r),
    })
}

/// Decide several cases under one numbered document, all or nothing: each must accept the
/// action (`confirm` or `reject`), and the document number is used by this decision only.
#[utoipa::path(post, path = "/api/v1/decisions", tag = "review", security(("bearer" = [])),
    request_body = DecisionRequest,
    responses(
        (status = 200, body = DecisionReport),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide(
    state: Data,
    caller: Caller,
    body: JsonBody<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.review_service().decide(&caller, body.0).await?))
}

/// The programmes' public listings (名录): confirmed and titled zones with their document
/// numbers, dates and national recommendation, for anyone signed in.
#[utoipa::path(get, path = "/api/v1/zones", tag = "review", security(("bearer" = [])),
    params(ZoneQuery),
    responses(
        (status = 200, body = ZoneList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn zones(
    state: Data,
    _caller: Caller,
    query: web::Query<ZoneQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(review::zones(&state.ctx, query.into_inner()).await?))
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
    let view = state
        .review_service()
        .set_panel(&caller, &path, body.0)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
