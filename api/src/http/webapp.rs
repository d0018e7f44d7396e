//! The web application: `web/dist`, built by Vite and committed, inside the binary (read from
//! disk in debug builds, so a rebuilt UI shows without recompiling). Hashed assets are cached
//! for good, `index.html` is revalidated every time, and any other GET outside the service's
//! own paths answers `index.html`, so the application's own routes (`/cases/…`) load on a
//! reload or from a link in a mail.

use crate::error::ApiError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../web/dist"]
struct WebDist;

/// Paths the service answers itself: a miss under them is a JSON 404, never the application.
const SERVICE_PATHS: [&str; 6] = [
    "/api",
    "/docs",
    "/metrics",
    "/healthz",
    "/readyz",
    "/calendar.ics",
];

/// Only this origin's scripts, styles, images, fonts and connections: the intranet has no
/// CDN. Scripts may not be inline, but may be compiled (`'unsafe-eval'`): Ajv turns each
/// form's JSON Schema, which arrives at run time, into a checking function. Styles may be
/// inline (Element Plus, and the `<style>` in the diagram's SVG).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
     frame-ancestors 'none'";

fn is_service_path(path: &str) -> bool {
    SERVICE_PATHS.iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// What no route serves: the application's files and routes for a GET, else 404.
pub async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    if !(req.method() == Method::GET || req.method() == Method::HEAD) || is_service_path(path) {
        return Err(ApiError::not_found());
    }
    let name = path.trim_start_matches('/');
    let (name, file) = match WebDist::get(name).filter(|_| !name.is_empty()) {
        Some(file) => (name, file),
        // An application route (or `/`): the page that routes it.
        None => match WebDist::get("index.html") {
            Some(file) => ("index.html", file),
            None => return Err(ApiError::not_found()),
        },
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut answer = HttpResponse::build(if unchanged {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    });
    answer
        .insert_header((header::ETAG, etag))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, cache_control(name)));
    if name.ends_with(".html") {
        answer.insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ));
        answer.insert_header((header::REFERRER_POLICY, "same-origin"));
    }
    if unchanged {
        return Ok(answer.finish());
    }
    Ok(answer
        .content_type(file.metadata.mimetype())
        .body(file.data.into_owned()))
}

/// Vite names every built asset by its content's hash: a changed file is a new name.
fn cache_control(name: &str) -> &'static str {
    if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_own_paths_are_never_the_application() {
        for path in [
            "/api",
            "/api/v1/nope",
            "/docs/",
            "/metrics",
            "/calendar.ics",
        ] {
            assert!(is_service_path(path), "{path}");
        }
        for path in ["/", "/cases/1", "/apiary", "/docsx", "/tasks"] {
            assert!(!is_service_path(path), "{path}");
        }
    }

    #[test]
    fn hashed_assets_are_kept_and_pages_revalidated() {
        assert_eq!(
            cache_control("assets/index-3f9a.js"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control("index.html"), "no-cache");
        assert_eq!(cache_control("favicon.svg"), "no-cache");
    }
}
