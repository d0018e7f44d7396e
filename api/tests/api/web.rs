//! What the web application stands on: its files at `/` with their cache rules and policy, the
//! history-routing fallback, the cookie session with its origin check, the to-do list, the
//! clock for everyone, and the facts of a definition the screens are drawn from.

use crate::harness::{Backend, DEFAULT_DEMO_PASSWORD, on_each_backend, spawn_app};
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, ETAG, IF_NONE_MATCH, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn the_application_is_served_at_the_root_with_its_cache_rules(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = app.send(app.client.get(app.url("/"))).await;
    assert_eq!(root.status, StatusCode::OK);
    assert!(
        root.content_type.starts_with("text/html"),
        "{}",
        root.content_type
    );
    assert!(root.text.contains("<div id=\"app\""), "{}", root.text);
    assert_eq!(root.headers[CACHE_CONTROL], "no-cache");
    let policy = root.headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");

    // The application's own routes load the same page (a reload, a link in a mail).
    for route in ["/todo", "/cases/some-case", "/cases/some-case/print"] {
        let page = app.send(app.client.get(app.url(route))).await;
        assert_eq!(page.status, StatusCode::OK, "{route}");
        assert_eq!(page.text, root.text, "{route}");
    }

    // A hashed asset named by the page is kept for good.
    let asset = root
        .text
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("the page names its script");
    let script = app.send(app.client.get(app.url(asset))).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(
        script.content_type.contains("javascript"),
        "{}",
        script.content_type
    );
    assert_eq!(
        script.headers[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );

    // Asked again with its tag, the page is not sent again.
    let tag = root.headers[ETAG].clone();
    let again = app
        .send(app.client.get(app.url("/")).header(IF_NONE_MATCH, tag))
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    // The service's own paths never fall back to the page.
    for path in [
        "/api/v1/no-such-thing",
        "/api/nope",
        "/metrics/x",
        "/calendar.ics/x",
    ] {
        app.send(app.client.get(app.url(path)))
            .await
            .assert_problem(404, "not_found");
    }
    app.send(app.client.post(app.url("/todo")))
        .await
        .assert_problem(404, "not_found");
}
on_each_backend!(the_application_is_served_at_the_root_with_its_cache_rules);

/// Signs in for a cookie session; answers the cookie (`name=value`) and the answer.
async fn cookie_login(app: &crate::harness::TestApp, user: &str) -> (String, Value) {
    let answer = app
        .send(app.client.post(app.url("/api/v1/auth/login")).json(&json!({
            "username": user, "password": DEFAULT_DEMO_PASSWORD, "session": "cookie"
        })))
        .await;
    let body = answer.assert_ok().clone();
    let set = answer.headers[SET_COOKIE].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Secure"), "http is not https: {set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("pf_session=pf_"), "{cookie}");
    (cookie, body)
}

async fn a_browser_session_is_a_cookie_its_pages_cannot_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let (cookie, body) = cookie_login(&app, "d220102").await;
    assert!(
        body.get("token").is_none(),
        "no token for page scripts: {body}"
    );
    assert_eq!(body["user"]["username"], "d220102");
    let with_cookie = |method: Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .header("cookie", cookie.clone())
    };
    let me = app.send(with_cookie(Method::GET, "/api/v1/me")).await;
    assert_eq!(me.assert_ok()["username"], "d220102");

    // A change riding on the cookie must come from the service's own pages.
    let new_case = json!({"workflow": "pilot-zone", "title": "南关区申报(浏览器)"});
    app.send(with_cookie(Method::POST, "/api/v1/cases").json(&new_case))
        .await
        .assert_problem(403, "csrf_failed");
    app.send(
        with_cookie(Method::POST, "/api/v1/cases")
            .header("origin", "http://evil.example")
            .json(&new_case),
    )
    .await
    .assert_problem(403, "csrf_failed");
    let made = app
        .send(
            with_cookie(Method::POST, "/api/v1/cases")
                .header("origin", app.base.clone())
                .json(&new_case),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    // A bearer token cannot be sent by another site's page: no origin needed.
    let token = app.token("d220102").await;
    let by_token = app
        .send(
            app.client
                .post(app.url("/api/v1/cases"))
                .bearer_auth(token)
                .json(&new_case),
        )
        .await;
    assert_eq!(by_token.status, StatusCode::CREATED, "{}", by_token.text);

    // Signing out revokes the session and clears the cookie.
    let out = app
        .send(with_cookie(Method::POST, "/api/v1/auth/logout").header("origin", app.base.clone()))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    let cleared = out.headers[SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("pf_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    app.send(with_cookie(Method::GET, "/api/v1/me"))
        .await
        .assert_problem(401, "unauthenticated");
}
on_each_backend!(a_browser_session_is_a_cookie_its_pages_cannot_read);

async fn the_to_do_list_holds_what_each_caller_can_do_now(backend: Backend) {
    let app = spawn_app(backend).await;
    let draft = app.drafted("南关区申报(草稿)").await;
    let sent = app.submitted("南关区申报(已报市州)").await;
    let tasks = |user: &'static str| {
        let app = &app;
        async move { app.get(user, "/api/v1/tasks").await }
    };

    let district = tasks("d220102").await;
    let items = district.assert_ok()["items"].as_array().unwrap().clone();
    assert_eq!(district.body["total"], 1, "{}", district.text);
    assert_eq!(items[0]["id"], draft.as_str());
    assert_eq!(items[0]["available_actions"][0]["name"], "submit");
    assert_eq!(items[0]["next_deadline"]["name"], "application_cutoff");
    assert!(items[0]["next_deadline"]["days_left"].is_i64());
    assert_eq!(items[0]["org_unit_name"], "南关区");

    // The city may act on both: forward or return the one sent to it, and set its internal
    // cutoff on the draft. Same deadline: the one changed last comes first.
    let city = tasks("c220100").await;
    assert_eq!(city.assert_ok()["total"], 2, "{}", city.text);
    assert_eq!(city.body["items"][0]["id"], sent.as_str());
    assert_eq!(city.body["items"][1]["id"], draft.as_str());
    assert_eq!(
        city.body["items"][1]["available_actions"],
        json!([{"name": "set_city_cutoff", "label": "设定市州内部截止日期",
                "input_schema": "pilot-zone/city_cutoff.schema.json"}])
    );
    let offered: Vec<&str> = city.body["items"][0]["available_actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(
        offered.contains(&"forward") && offered.contains(&"return"),
        "{offered:?}"
    );

    // Another district, and an expert on no panel, have nothing to do.
    for user in ["d220103", "expert01"] {
        assert_eq!(tasks(user).await.assert_ok()["total"], 0, "{user}");
    }
    // Pages and filters are checked like the case list's.
    let paged = app.get("d220102", "/api/v1/tasks?page=2&per_page=1").await;
    assert_eq!(paged.assert_ok()["items"], json!([]));
    assert_eq!(paged.body["total"], 1);
    app.get("d220102", "/api/v1/tasks?per_page=0")
        .await
        .assert_problem(422, "validation_failed");
    let other = app.get("d220102", "/api/v1/tasks?workflow=none").await;
    assert_eq!(other.assert_ok()["total"], 0);
    app.send(app.client.get(app.url("/api/v1/tasks")))
        .await
        .assert_problem(401, "unauthenticated");
}
on_each_backend!(the_to_do_list_holds_what_each_caller_can_do_now);

async fn everyone_signed_in_reads_the_clock_and_the_screens_facts(backend: Backend) {
    let app = spawn_app(backend).await;
    let clock = app.get("d220102", "/api/v1/clock").await;
    assert_eq!(clock.assert_ok()["mode"], "system");
    assert!(
        clock.body["now_local"].as_str().unwrap().len() == 19,
        "{}",
        clock.text
    );
    app.send(app.client.get(app.url("/api/v1/clock")))
        .await
        .assert_problem(401, "unauthenticated");

    let wf = app.get("d220102", "/api/v1/workflows/pilot-zone").await;
    let actions = wf.assert_ok()["actions"].as_array().unwrap();
    let action = |name: &str| actions.iter().find(|a| a["name"] == name).unwrap();
    assert_eq!(action("confirm")["document"], "document_number");
    assert_eq!(action("submit")["document"], Value::Null);
    assert_eq!(action("score")["review"], true);
    assert_eq!(action("forward")["review"], false);
    let listing = &wf.body["listing"];
    assert!(!listing["label"].as_str().unwrap().is_empty(), "{listing}");
    let fields = listing["fields"].as_array().unwrap();
    for field in fields {
        let variable = wf.body["variables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == *field)
            .unwrap_or_else(|| panic!("{field} is a variable"));
        assert!(!variable["label"].as_str().unwrap().is_empty());
    }

    // The upload limit is told before anyone picks a file.
    let case = app.drafted("南关区申报(附件)").await;
    let files = app
        .get("d220102", &format!("/api/v1/cases/{case}/attachments"))
        .await;
    assert_eq!(
        files.headers["x-max-upload-bytes"].to_str().unwrap(),
        app.settings.max_upload_bytes.to_string()
    );
}
on_each_backend!(everyone_signed_in_reads_the_clock_and_the_screens_facts);
