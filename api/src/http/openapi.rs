//! The OpenAPI 3.1 document, built from the handlers' annotations.

use super::{admin, cases, identity, notices, operations, review, workflows};
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
        identity::login, identity::logout, identity::me,
        admin::org_units, admin::create_org_unit,
        admin::list_users, admin::create_user, admin::update_user,
        admin::clock, admin::get_clock, admin::advance_clock, admin::list_calendar, admin::upload_calendar_year,
        notices::upcoming_deadlines,
        workflows::list_workflows, workflows::get_workflow, workflows::workflow_diagram,
        cases::tasks, cases::create_case, cases::list_cases, cases::get_case,
        cases::get_form, cases::save_form, cases::act, review::set_panel, cases::history,
        cases::list_attachments, cases::upload_attachment, cases::download_attachment,
        notices::list_notifications, notices::read_notification,
        notices::read_all_notifications, notices::list_outbox,
        notices::retry_mail, notices::run_job, notices::issue_feed,
        notices::revoke_feed, notices::calendar_feed,
        review::expert_pool, review::declare_conflict, review::panel,
        review::decline, review::my_sheet, review::save_sheet,
        review::reopen, review::scores, review::bulk_panels,
        review::ranking, review::decide, review::zones,
        operations::healthz, operations::readyz, operations::metrics,
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
