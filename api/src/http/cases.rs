//! Cases: open, list, read, save a form, act, the history, and the case's attachments.

use super::extract::{IdempotencyKey, IfMatch, JsonBody, parse_json};
use super::{Data, resource};
use crate::cases::attachments::{self, AttachmentInfo};
use crate::cases::{
    self, ActionReply, ActionRequest, CaseFilter, CaseList, CaseView, CreateCase, FormSaved,
    HistoryEntry, TaskFilter, TaskList,
};
use crate::error::{ApiError, Problem};
use crate::idempotency::Idempotency;
use crate::identity::{Caller, access};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::Value;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/tasks").route(web::get().to(tasks)))
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
        .service(resource("/cases/{id}/history").route(web::get().to(history)))
        .service(
            resource("/cases/{id}/attachments")
                .route(web::get().to(list_attachments))
                .route(web::post().to(upload_attachment)),
        )
        .service(
            resource("/cases/{id}/attachments/{aid}").route(web::get().to(download_attachment)),
        );
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
    let view = state.case_service().create(&caller, body.0).await?;
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
    Ok(HttpResponse::Ok().json(cases::list(&state.ctx, &caller, query.into_inner()).await?))
}

/// The caller's to-do list (待办): cases in its scope on which it can act now, the soonest
/// deadline first, each with that deadline and the actions offered.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "cases", security(("bearer" = [])),
    params(TaskFilter),
    responses(
        (status = 200, body = TaskList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn tasks(
    state: Data,
    caller: Caller,
    query: web::Query<TaskFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        state
            .case_service()
            .tasks(&caller, query.into_inner())
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
    let view = state.case_service().get(&caller, &path).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", view.version)))
        .json(view))
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
    Ok(HttpResponse::Ok().json(state.case_service().form(&caller, &id, &form).await?))
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
    path: web::Path<(String, String)>,
    body: JsonBody<Value>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, form) = path.into_inner();
    let saved = state
        .case_service()
        .save_form(&caller, &id, &form, body.0, if_match.0)
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
    path: web::Path<(String, String)>,
    body: web::Bytes,
    if_match: IfMatch,
    idempotency_key: IdempotencyKey,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let expected = if_match.0;
    let request: ActionRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ActionRequest::default()
    } else {
        parse_json(&body)?
    };
    let idem = match &idempotency_key.0 {
        None => None,
        Some(key) => Some(Idempotency::new(
            key,
            &[
                id.as_bytes(),
                action.as_bytes(),
                &expected.unwrap_or(-1).to_be_bytes(),
                &body,
            ],
        )?),
    };
    let reply = state
        .case_service()
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
    Ok(HttpResponse::Ok().json(state.case_service().history(&caller, &path).await?))
}

/// The case's attachments.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Vec<AttachmentInfo>, headers(
            ("X-Max-Upload-Bytes" = u64, description = "the largest file an upload may carry"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_attachments(
    state: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let case = state.case_service().check_visible(&caller, &path).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "X-Max-Upload-Bytes",
            state.ctx.settings.max_upload_bytes.to_string(),
        ))
        .json(attachments::list(&state.ctx, &case.id).await?))
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
    let case = state.case_service().check_visible(&caller, &path).await?;
    if !access::may_attach(&caller) {
        return Err(ApiError::forbidden());
    }
    let limit = state.ctx.settings.max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Multipart framing adds a little; anything far above the limit is refused unread.
    if declared.is_some_and(|n| n > limit + 64 * 1024) {
        return Err(attachments::too_large(limit));
    }
    let info = receive_upload(
        &state,
        &caller,
        &case.id,
        Multipart::new(req.headers(), payload),
    )
    .await?;
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
    let case = state.case_service().check_visible(&caller, &id).await?;
    let (row, bytes) = attachments::read(&state.ctx, &case.id, &aid).await?;
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

/// The upload's `file` field, handed to the case's attachments (other fields are skipped).
async fn receive_upload(
    state: &AppState,
    caller: &Caller,
    case_id: &str,
    mut multipart: Multipart,
) -> Result<AttachmentInfo, ApiError> {
    while let Some(field) = multipart.next().await {
        let field = field.map_err(|_| attachments::no_file())?;
        if field.name() != Some("file") {
            continue;
        }
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .unwrap_or("attachment")
            .to_owned();
        return attachments::receive(&state.ctx, caller, case_id, &filename, field).await;
    }
    Err(attachments::no_file())
}
