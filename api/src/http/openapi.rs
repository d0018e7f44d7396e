//! The OpenAPI 3.1 document, built from the handlers' annotations.

use super::{notice_routes, review_routes, routes};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pilotflow",
        description = "Workflow engine for government pilot programmes. Errors are RFC 9457 \
            problem documents with a stable `code`; `detail` is Chinese unless \
            `Accept-Language: en`.",
    ),
    paths(
        routes::login, routes::logout, routes::me,
        routes::org_units, routes::create_org_unit,
        routes::list_users, routes::create_user, routes::update_user,
        routes::get_clock, routes::advance_clock, routes::list_calendar, routes::upload_calendar_year,
        routes::upcoming_deadlines,
        routes::list_workflows, routes::get_workflow, routes::workflow_diagram,
        routes::create_case, routes::list_cases, routes::get_case,
        routes::get_form, routes::save_form, routes::act, routes::set_panel, routes::history,
        routes::list_attachments, routes::upload_attachment, routes::download_attachment,
        notice_routes::list_notifications, notice_routes::read_notification,
        notice_routes::read_all_notifications, notice_routes::list_outbox,
        notice_routes::retry_mail, notice_routes::run_job, notice_routes::issue_feed,
        notice_routes::revoke_feed, notice_routes::calendar_feed,
        review_routes::expert_pool, review_routes::declare_conflict, review_routes::panel,
        review_routes::decline, review_routes::my_sheet, review_routes::save_sheet,
        review_routes::reopen, review_routes::scores, review_routes::bulk_panels,
        review_routes::ranking, review_routes::decide, review_routes::zones,
        routes::healthz, routes::readyz, routes::metrics,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "sign in and out"),
        (name = "admin", description = "users and org units (provincial admin)"),
        (name = "workflows", description = "programme definitions"),
        (name = "cases", description = "applications and their lifecycle"),
        (name = "attachments", description = "files of a case"),
        (name = "notifications", description = "reminders in the app and the calendar feed"),
        (name = "review", description = "expert panels, score sheets, ranking, decisions and zones"),
        (name = "operations", description = "health and metrics"),
    )
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
