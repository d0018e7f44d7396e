//! HTTP: one routes file per area (they do not import each other), the extractors, the
//! problem documents errors become, the middleware, and the OpenAPI document.

pub mod admin;
pub mod cases;
pub mod extract;
pub mod identity;
pub mod middleware;
pub mod notices;
pub mod openapi;
pub mod operations;
pub mod problem;
pub mod review;
pub mod webapp;
pub mod workflows;

pub use extract::{JSON_LIMIT, JsonBody, parse_json};
pub use middleware::{language_and_metrics, method_not_allowed, path_error, query_error};

use crate::state::AppState;
use actix_web::web;

/// The state as handlers receive it.
pub type Data = web::Data<AppState>;

/// A resource whose undeclared methods answer 405.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// Every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let api = web::scope("/api/v1")
        .configure(identity::configure)
        .configure(admin::configure)
        .configure(notices::configure)
        .configure(workflows::configure)
        .configure(cases::configure)
        .configure(review::configure);
    cfg.service(api)
        .configure(notices::configure_feed)
        .configure(operations::configure);
}
