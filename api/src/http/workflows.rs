//! Programme definitions: the list, one definition with its schemas, its diagram.

use super::{Data, resource};
use crate::error::{ApiError, Problem};
use crate::identity::Caller;
use crate::workflows::views::{self, WorkflowDetail, WorkflowSummary};
use actix_web::{HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/workflows").route(web::get().to(list_workflows)))
        .service(resource("/workflows/{key}").route(web::get().to(get_workflow)))
        .service(resource("/workflows/{key}/diagram").route(web::get().to(workflow_diagram)));
}

/// Workflows that new cases can start on.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<WorkflowSummary>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_workflows(state: Data, _caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(views::list(&state.ctx.registry))
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
    let wf = views::find(&state.ctx.registry, &path)?;
    Ok(HttpResponse::Ok().json(views::detail(wf)))
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
    let wf = views::find(&state.ctx.registry, &path)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(pilotflow_engine::diagram::mermaid(&wf.def)))
}
