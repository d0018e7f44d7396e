//! Signing in and out, tokens, the throttling of failed logins, the admin's management of users
//! and org units, the demo data, and English problem details — on SQLite and PostgreSQL.

use crate::harness::{
    Answer, Backend, DEFAULT_DEMO_PASSWORD, Secret, TestApp, on_each_backend, spawn_app,
    spawn_app_with,
};
use reqwest::Method;
use serde_json::{Value, json};

/// An app whose throttle stays out of the way of tests that fail a few logins on purpose.
async fn lenient_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| s.login_max_failures = 1000).await
}

async fn me_with(app: &TestApp, token: &str) -> Answer {
    app.send(app.client.get(app.url("/api/v1/me")).bearer_auth(token))
        .await
}

async fn post_as(app: &TestApp, user: &str, path: &str, body: Value) -> Answer {
    app.call(user, Method::POST, path, Some(body)).await
}

async fn patch_user(app: &TestApp, user: &str, target: &str, body: Value) -> Answer {
    app.call(
        user,
        Method::PATCH,
        &format!("/api/v1/users/{target}"),
        Some(body),
    )
    .await
}

fn token_of(a: &Answer) -> String {
    a.assert_ok()["token"].as_str().expect("token").to_owned()
}

// ---------------------------------------------------------------------------------------------
// Login, /me, logout

async fn login_answers_a_token_and_me_shows_the_user(backend: Backend) {
    let app = lenient_app(backend).await;

    let ok = app.login_raw("admin", DEFAULT_DEMO_PASSWORD).await;
    assert_eq!(ok.status, 200, "{backend:?} {}", ok.text);
    let token = token_of(&ok);
    assert!(token.starts_with("pf_") && token.len() > 60, "{token}");
    assert!(ok.body["expires_at"].is_string(), "{}", ok.text);
    assert_eq!(ok.body["user"]["username"], "admin");
    assert_eq!(ok.body["user"]["role"], "provincial_admin");
    assert_eq!(ok.body["user"]["org_unit"], "220000");
    assert!(
        ok.body["user"].get("password_hash").is_none(),
        "{}",
        ok.text
    );

    let me = me_with(&app, &token).await;
    let body = me.assert_ok();
    assert_eq!(body["username"], "admin");
    assert_eq!(body["role"], "provincial_admin");
    assert_eq!(body["org_unit"], "220000");
    assert_eq!(body["email"], "admin@pilotflow.test");

    let district = app.login_raw("d220102", DEFAULT_DEMO_PASSWORD).await;
    let me = me_with(&app, &token_of(&district)).await;
    assert_eq!(me.body["username"], "d220102", "{}", me.text);
    assert_eq!(me.body["role"], "applicant");
    assert_eq!(me.body["org_unit"], "220102");

    // The scheme name is case-insensitive.
    let lower = app
        .send(
            app.client
                .get(app.url("/api/v1/me"))
                .header("Authorization", format!("bearer {token}")),
        )
        .await;
    assert_eq!(lower.assert_ok()["username"], "admin");
}
on_each_backend!(login_answers_a_token_and_me_shows_the_user);

async fn wrong_credentials_malformed_logins_and_missing_tokens_are_refused(backend: Backend) {
    let app = lenient_app(backend).await;
    let token = token_of(&app.login_raw("admin", DEFAULT_DEMO_PASSWORD).await);

    // Wrong password and unknown user answer the same, so user names do not leak.
    let wrong = app.login_raw("admin", "not-the-password").await;
    wrong.assert_problem(401, "login_failed");
    assert!(wrong.body.get("token").is_none());
    let unknown = app.login_raw("nobody", DEFAULT_DEMO_PASSWORD).await;
    unknown.assert_problem(401, "login_failed");
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.body["detail"], "用户名或密码错误");
    // A user name differing only in case is another (unknown) user.
    app.login_raw("ADMIN", DEFAULT_DEMO_PASSWORD)
        .await
        .assert_problem(401, "login_failed");

    // Malformed bodies.
    let garbled = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body("{\"username\": \"admin\""),
        )
        .await;
    garbled.assert_problem(400, "malformed_request");
    let missing = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .json(&json!({"username": "admin"})),
        )
        .await;
    missing.assert_problem(422, "validation_failed");

    // No token, a garbage token, another scheme.
    let none = app.send(app.client.get(app.url("/api/v1/me"))).await;
    none.assert_problem(401, "unauthenticated");
    me_with(&app, "pf_garbage")
        .await
        .assert_problem(401, "unauthenticated");
    me_with(&app, "")
        .await
        .assert_problem(401, "unauthenticated");
    let basic = app
        .send(
            app.client
                .get(app.url("/api/v1/me"))
                .header("Authorization", format!("Basic {token}")),
        )
        .await;
    basic.assert_problem(401, "unauthenticated");
    // Protected resources other than /me refuse too.
    app.send(app.client.get(app.url("/api/v1/cases")))
        .await
        .assert_problem(401, "unauthenticated");
    app.send(app.client.get(app.url("/api/v1/org-units")))
        .await
        .assert_problem(401, "unauthenticated");
}
on_each_backend!(wrong_credentials_malformed_logins_and_missing_tokens_are_refused);

async fn logout_revokes_only_that_token(backend: Backend) {
    let app = lenient_app(backend).await;
    let first = token_of(&app.login_raw("c220100", DEFAULT_DEMO_PASSWORD).await);
    let second = token_of(&app.login_raw("c220100", DEFAULT_DEMO_PASSWORD).await);
    assert_ne!(first, second);
    me_with(&app, &first).await.assert_ok();

    let out = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/logout"))
                .bearer_auth(&first),
        )
        .await;
    assert_eq!(out.status, 204, "{backend:?} {}", out.text);
    assert!(out.text.is_empty(), "{}", out.text);

    me_with(&app, &first)
        .await
        .assert_problem(401, "unauthenticated");
    // Logging out again with the revoked token is refused as well.
    app.send(
        app.client
            .post(app.url("/api/v1/auth/logout"))
            .bearer_auth(&first),
    )
    .await
    .assert_problem(401, "unauthenticated");
    // Logout without a token.
    app.send(app.client.post(app.url("/api/v1/auth/logout")))
        .await
        .assert_problem(401, "unauthenticated");
    // The user's other session is untouched.
    assert_eq!(
        me_with(&app, &second).await.assert_ok()["username"],
        "c220100"
    );
}
on_each_backend!(logout_revokes_only_that_token);

async fn an_expired_token_is_refused(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.token_ttl_hours = 0).await;
    let login = app.login_raw("admin", DEFAULT_DEMO_PASSWORD).await;
    let token = token_of(&login);
    me_with(&app, &token)
        .await
        .assert_problem(401, "unauthenticated");
}
on_each_backend!(an_expired_token_is_refused);

// ---------------------------------------------------------------------------------------------
// Throttling of failed logins (keys: `user:<name>` and `addr:<client ip>`, each with its own
// limit; the tests call from 127.0.0.1 unless they pick another loopback address)

fn assert_throttled(a: &Answer, window_seconds: i64) {
    a.assert_problem(429, "too_many_attempts");
    let wait = a.body["retry_after_seconds"]
        .as_i64()
        .unwrap_or_else(|| panic!("retry_after_seconds in {}", a.text));
    assert!((1..=window_seconds).contains(&wait), "{wait} {}", a.text);
    assert!(a.body.get("token").is_none());
}

async fn five_failures_lock_the_user_but_not_the_office(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.settings.login_max_failures, 5);
    assert_eq!(app.settings.login_window_minutes, 15);
    // A session opened before the lock-out keeps working.
    let admin = app.token("admin").await;

    for _ in 0..5 {
        app.login_raw("d220102", "wrong-password")
            .await
            .assert_problem(401, "login_failed");
    }
    // Now even the right password is refused, without being checked.
    let blocked = app.login_raw("d220102", DEFAULT_DEMO_PASSWORD).await;
    assert_throttled(&blocked, 15 * 60);
    assert!(
        blocked.body["detail"]
            .as_str()
            .unwrap()
            .contains("分钟后再试"),
        "{}",
        blocked.text
    );
    let english = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("Accept-Language", "en")
                .json(&json!({"username": "d220102", "password": DEFAULT_DEMO_PASSWORD})),
        )
        .await;
    assert_throttled(&english, 15 * 60);
    assert!(
        english.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("too many failed sign-ins"),
        "{}",
        english.text
    );

    // The address limit is higher (offices share one address): a colleague still signs in.
    assert_eq!(app.settings.login_max_failures_per_address, 50);
    token_of(&app.login_raw("c220100", DEFAULT_DEMO_PASSWORD).await);

    // Existing tokens are not affected.
    assert_eq!(me_with(&app, &admin).await.assert_ok()["username"], "admin");
}
on_each_backend!(five_failures_lock_the_user_but_not_the_office);

/// Signs in from another loopback address (the service keys the throttle by the peer address).
async fn login_from(app: &TestApp, ip: [u8; 4], username: &str, password: &str) -> Answer {
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .unwrap();
    app.send(
        client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password})),
    )
    .await
}

async fn throttling_counts_per_user_and_per_address(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.login_max_failures = 3;
        s.login_max_failures_per_address = 3;
    })
    .await;
    let (a, b, c, d) = (
        [127, 0, 0, 2],
        [127, 0, 0, 3],
        [127, 0, 0, 4],
        [127, 0, 0, 5],
    );

    // Three failures for d220102 from address A lock the user name everywhere ...
    for _ in 0..3 {
        login_from(&app, a, "d220102", "wrong-password")
            .await
            .assert_problem(401, "login_failed");
    }
    assert_throttled(
        &login_from(&app, b, "d220102", DEFAULT_DEMO_PASSWORD).await,
        15 * 60,
    );
    // ... and address A for every user name, while other users from B are unaffected.
    assert_throttled(
        &login_from(&app, a, "c220100", DEFAULT_DEMO_PASSWORD).await,
        15 * 60,
    );
    token_of(&login_from(&app, b, "c220100", DEFAULT_DEMO_PASSWORD).await);

    // Failures of different user names add up on the address.
    login_from(&app, c, "ccbs", "wrong")
        .await
        .assert_problem(401, "login_failed");
    login_from(&app, c, "c220200", "wrong")
        .await
        .assert_problem(401, "login_failed");
    // Below the limit the right password works and clears ccbs's own count, but not the
    // address count: one more failure by anybody (an unknown user here) locks address C.
    token_of(&login_from(&app, c, "ccbs", DEFAULT_DEMO_PASSWORD).await);
    login_from(&app, c, "nobody", "whatever")
        .await
        .assert_problem(401, "login_failed");
    assert_throttled(
        &login_from(&app, c, "ccbs", DEFAULT_DEMO_PASSWORD).await,
        15 * 60,
    );
    assert_throttled(
        &login_from(&app, c, "c220300", DEFAULT_DEMO_PASSWORD).await,
        15 * 60,
    );
    // From elsewhere ccbs (cleared) and c220200 (one failure) still sign in.
    token_of(&login_from(&app, d, "ccbs", DEFAULT_DEMO_PASSWORD).await);
    token_of(&login_from(&app, d, "c220200", DEFAULT_DEMO_PASSWORD).await);
}
on_each_backend!(throttling_counts_per_user_and_per_address);

/// Unknown user names are counted like known ones.
async fn unknown_user_names_are_throttled_like_known_ones(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login_max_failures = 2).await;
    let (a, b) = ([127, 0, 0, 2], [127, 0, 0, 3]);
    for _ in 0..2 {
        login_from(&app, a, "ghost", "x")
            .await
            .assert_problem(401, "login_failed");
    }
    assert_throttled(&login_from(&app, b, "ghost", "x").await, 15 * 60);
}
on_each_backend!(unknown_user_names_are_throttled_like_known_ones);

/// With a window of zero minutes nothing is ever blocked.
async fn a_window_of_zero_minutes_blocks_nothing(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.login_max_failures = 1;
        s.login_window_minutes = 0;
    })
    .await;
    for _ in 0..3 {
        app.login_raw("admin", "wrong")
            .await
            .assert_problem(401, "login_failed");
    }
    token_of(&app.login_raw("admin", DEFAULT_DEMO_PASSWORD).await);
}
on_each_backend!(a_window_of_zero_minutes_blocks_nothing);

// ---------------------------------------------------------------------------------------------
// Users

fn new_user(username: &str) -> Value {
    json!({
        "username": username,
        "display_name": "张三",
        "email": format!("{username}@example.cn"),
        "password": "s3cret-passw0rd",
        "role": "applicant",
        "org_unit": "220102",
    })
}

async fn users_of(app: &TestApp) -> Vec<Value> {
    app.get("admin", "/api/v1/users")
        .await
        .assert_ok()
        .as_array()
        .expect("array")
        .clone()
}

/// The demo users: admin, one per city, one per county, twelve experts.
async fn the_admin_lists_the_demo_users(backend: Backend) {
    let app = lenient_app(backend).await;
    let users = users_of(&app).await;
    assert_eq!(users.len(), 1 + 10 + 60 + 12, "{backend:?}");
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "listed by user name");
    let mut expected = vec![
        "admin".to_owned(),
        "c220100".to_owned(),
        "ccbs".to_owned(),
        "d220102".to_owned(),
    ];
    expected.extend((1..=12).map(|n| format!("expert{n:02}")));
    for name in &expected {
        assert!(names.contains(&name.as_str()), "{name} missing: {names:?}");
    }
    for u in &users {
        assert_eq!(
            u["email"],
            format!("{}@pilotflow.test", u["username"].as_str().unwrap()),
            "{u}"
        );
        assert_eq!(u["active"], true, "{u}");
        assert!(u.get("password_hash").is_none(), "{u}");
    }
    let find = |name: &str| {
        users
            .iter()
            .find(|u| u["username"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    assert_eq!(find("admin")["role"], "provincial_admin");
    assert_eq!(find("c220100")["role"], "municipal_reviewer");
    assert_eq!(find("ccbs")["role"], "municipal_reviewer");
    assert_eq!(find("ccbs")["org_unit"], "CBS");
    assert_eq!(find("d220102")["role"], "applicant");
    assert_eq!(find("d220102")["org_unit"], "220102");
    assert_eq!(find("expert01")["role"], "expert");
    assert_eq!(users.iter().filter(|u| u["role"] == "expert").count(), 12);
}
on_each_backend!(the_admin_lists_the_demo_users);

async fn only_the_provincial_admin_manages_users(backend: Backend) {
    let app = lenient_app(backend).await;
    for who in ["d220102", "c220100", "expert01"] {
        app.get(who, "/api/v1/users")
            .await
            .assert_problem(403, "forbidden");
        post_as(&app, who, "/api/v1/users", new_user("sneaky"))
            .await
            .assert_problem(403, "forbidden");
        patch_user(&app, who, "d220103", json!({"active": false}))
            .await
            .assert_problem(403, "forbidden");
    }
    // The refused requests created nobody and changed nobody.
    let users = users_of(&app).await;
    assert_eq!(users.len(), 83);
    assert!(!users.iter().any(|u| u["username"] == "sneaky"));
    let d220103 = users.iter().find(|u| u["username"] == "d220103").unwrap();
    assert_eq!(d220103["active"], true);
}
on_each_backend!(only_the_provincial_admin_manages_users);

async fn the_admin_manages_users(backend: Backend) {
    let app = lenient_app(backend).await;

    // Create a user, who can then sign in.
    let created = post_as(&app, "admin", "/api/v1/users", new_user("zhangsan")).await;
    assert_eq!(created.status, 201, "{backend:?} {}", created.text);
    assert_eq!(created.body["username"], "zhangsan");
    assert_eq!(created.body["display_name"], "张三");
    assert_eq!(created.body["email"], "zhangsan@example.cn");
    assert_eq!(created.body["role"], "applicant");
    assert_eq!(created.body["org_unit"], "220102");
    assert_eq!(created.body["active"], true);
    assert!(created.body.get("password").is_none());
    assert!(created.body.get("password_hash").is_none());
    let login = app.login_raw("zhangsan", "s3cret-passw0rd").await;
    let token = token_of(&login);
    assert_eq!(login.body["user"]["role"], "applicant");
    let me = me_with(&app, &token).await;
    assert_eq!(me.assert_ok()["username"], "zhangsan");
    assert_eq!(me.body["org_unit"], "220102");
    assert_eq!(me.body["display_name"], "张三");
    assert_eq!(users_of(&app).await.len(), 84);

    // The user name is taken.
    let mut again = new_user("zhangsan");
    again["email"] = json!("other@example.cn");
    post_as(&app, "admin", "/api/v1/users", again)
        .await
        .assert_problem(409, "already_exists");
    post_as(&app, "admin", "/api/v1/users", new_user("d220102"))
        .await
        .assert_problem(409, "already_exists");

    // Invalid input points at the offending member.
    let cases: Vec<(&str, Value, &str)> = vec![
        ("username", json!("Zhang San"), "/username"),
        ("username", json!("a"), "/username"),
        ("username", json!("x".repeat(41)), "/username"),
        ("username", json!("李四"), "/username"),
        ("display_name", json!("   "), "/display_name"),
        ("email", json!("not-an-email"), "/email"),
        ("email", json!("someone@localhost"), "/email"),
        ("email", json!("@example.cn"), "/email"),
        ("email", json!("a b@example.cn"), "/email"),
        ("password", json!("short"), "/password"),
        ("password", json!("1234567"), "/password"),
        ("org_unit", json!("999999"), "/org_unit"),
        ("role", json!("superuser"), "/role"),
        ("email", json!(42), "/email"),
    ];
    for (field, value, pointer) in cases {
        let mut body = new_user("lisi");
        body[field] = value.clone();
        let a = post_as(&app, "admin", "/api/v1/users", body).await;
        a.assert_problem(422, "validation_failed");
        assert_eq!(
            a.pointers(),
            [pointer],
            "{backend:?} {field}={value}: {}",
            a.text
        );
    }
    // Seven characters are too few; eight (counted as characters, not bytes) are enough.
    let mut body = new_user("wangwu");
    body["password"] = json!("密码密码密码密码");
    let a = post_as(&app, "admin", "/api/v1/users", body).await;
    assert_eq!(a.status, 201, "{}", a.text);
    token_of(&app.login_raw("wangwu", "密码密码密码密码").await);
    // Unknown members are refused.
    let mut body = new_user("zhaoliu");
    body["is_admin"] = json!(true);
    post_as(&app, "admin", "/api/v1/users", body)
        .await
        .assert_problem(422, "validation_failed");
    // A missing member is refused.
    let mut body = new_user("zhaoliu");
    body.as_object_mut().unwrap().remove("password");
    post_as(&app, "admin", "/api/v1/users", body)
        .await
        .assert_problem(422, "validation_failed");
    // None of the refused requests created anybody.
    let after = users_of(&app).await;
    assert_eq!(after.len(), 85);
    assert!(!after.iter().any(|u| u["username"] == "lisi"));
    assert!(!after.iter().any(|u| u["username"] == "zhaoliu"));

    // Deactivating a user: its tokens stop working and it cannot sign in.
    let off = patch_user(&app, "admin", "zhangsan", json!({"active": false})).await;
    assert_eq!(off.assert_ok()["active"], false);
    assert_eq!(off.body["username"], "zhangsan");
    me_with(&app, &token)
        .await
        .assert_problem(401, "unauthenticated");
    app.login_raw("zhangsan", "s3cret-passw0rd")
        .await
        .assert_problem(401, "login_failed");
    let listed = users_of(&app).await;
    let row = listed.iter().find(|u| u["username"] == "zhangsan").unwrap();
    assert_eq!(row["active"], false);
    // ... and reactivating lets it in again.
    patch_user(&app, "admin", "zhangsan", json!({"active": true}))
        .await
        .assert_ok();
    token_of(&app.login_raw("zhangsan", "s3cret-passw0rd").await);

    // Deactivating a demo user.
    patch_user(&app, "admin", "d220103", json!({"active": false}))
        .await
        .assert_ok();
    app.login_raw("d220103", DEFAULT_DEMO_PASSWORD)
        .await
        .assert_problem(401, "login_failed");

    // Changing the password, the unit and the role.
    let changed = patch_user(
        &app,
        "admin",
        "zhangsan",
        json!({"password": "new-passw0rd", "org_unit": "220100", "role": "municipal_reviewer",
               "display_name": "张三丰", "email": "zsf@example.cn"}),
    )
    .await;
    let body = changed.assert_ok();
    assert_eq!(body["org_unit"], "220100");
    assert_eq!(body["role"], "municipal_reviewer");
    assert_eq!(body["display_name"], "张三丰");
    assert_eq!(body["email"], "zsf@example.cn");
    app.login_raw("zhangsan", "s3cret-passw0rd")
        .await
        .assert_problem(401, "login_failed");
    let login = app.login_raw("zhangsan", "new-passw0rd").await;
    assert_eq!(login.assert_ok()["user"]["org_unit"], "220100");
    assert_eq!(login.body["user"]["role"], "municipal_reviewer");

    // Invalid patches.
    let patches: Vec<(Value, &str)> = vec![
        (json!({"email": "nope"}), "/email"),
        (json!({"password": "short"}), "/password"),
        (json!({"org_unit": "999999"}), "/org_unit"),
        (json!({"role": "superuser"}), "/role"),
        (json!({"display_name": " "}), "/display_name"),
        (json!({"active": "no"}), "/active"),
    ];
    for (patch, pointer) in patches {
        let a = patch_user(&app, "admin", "zhangsan", patch.clone()).await;
        a.assert_problem(422, "validation_failed");
        assert_eq!(a.pointers(), [pointer], "{patch}: {}", a.text);
    }
    patch_user(&app, "admin", "nobody", json!({"active": false}))
        .await
        .assert_problem(404, "user_not_found");
    // A refused patch changed nothing.
    let still = app.login_raw("zhangsan", "new-passw0rd").await;
    assert_eq!(still.assert_ok()["user"]["email"], "zsf@example.cn");
}
on_each_backend!(the_admin_manages_users);

// ---------------------------------------------------------------------------------------------
// Org units

fn count_level(node: &Value, level: &str) -> usize {
    usize::from(node["level"] == level)
        + node["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| count_level(c, level))
            .sum::<usize>()
}

fn find_unit<'a>(node: &'a Value, code: &str) -> Option<&'a Value> {
    if node["code"] == code {
        return Some(node);
    }
    node["children"]
        .as_array()?
        .iter()
        .find_map(|c| find_unit(c, code))
}

async fn org_units_form_the_jilin_tree(backend: Backend) {
    let app = lenient_app(backend).await;
    let tree = app.get("d220102", "/api/v1/org-units").await;
    let roots = tree.assert_ok().as_array().unwrap().clone();
    assert_eq!(roots.len(), 1, "{backend:?} {}", tree.text);
    let root = &roots[0];
    assert_eq!(root["code"], "220000");
    assert_eq!(root["name"], "吉林省");
    assert_eq!(root["level"], "province");
    let cities = root["children"].as_array().unwrap();
    assert_eq!(cities.len(), 10);
    assert!(cities.iter().all(|c| c["level"] == "city"));
    let city_codes: Vec<&str> = cities.iter().map(|c| c["code"].as_str().unwrap()).collect();
    for code in [
        "220100", "220200", "220300", "220400", "220500", "220600", "220700", "220800", "222400",
        "CBS",
    ] {
        assert!(city_codes.contains(&code), "{code} in {city_codes:?}");
    }
    let cbs = find_unit(root, "CBS").unwrap();
    assert_eq!(cbs["name"], "长白山管委会");
    assert_eq!(count_level(root, "county"), 60);
    assert_eq!(count_level(root, "city"), 10);
    let changchun = find_unit(root, "220100").unwrap();
    assert_eq!(changchun["name"], "长春市");
    let nanguan = find_unit(root, "220102").unwrap();
    assert_eq!(nanguan["name"], "南关区");
    assert!(
        changchun["children"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "220102")
    );
    let jilin_city = find_unit(root, "220200").unwrap();
    assert!(
        jilin_city["children"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "220202")
    );
    // Exactly one national zone: 长白朝鲜族自治县.
    let changbai = find_unit(root, "220623").unwrap();
    assert_eq!(changbai["national_zone"], true);
    assert_eq!(changbai["level"], "county");
    assert_eq!(
        find_unit(root, "220600").unwrap()["children"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["code"] == "220623")
            .count(),
        1
    );
    fn zones(node: &Value) -> usize {
        usize::from(node["national_zone"] == true)
            + node["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(zones)
                .sum::<usize>()
    }
    assert_eq!(zones(root), 1);
    // Every user sees the same tree.
    let as_expert = app.get("expert07", "/api/v1/org-units").await;
    assert_eq!(as_expert.assert_ok(), &Value::Array(roots.clone()));
}
on_each_backend!(org_units_form_the_jilin_tree);

async fn the_admin_adds_org_units(backend: Backend) {
    let app = lenient_app(backend).await;

    // The admin adds a county under 长春市; it then appears in the tree.
    let unit = json!({"code": "220199", "name": "长春新区", "level": "county",
                      "parent_code": "220100"});
    let created = post_as(&app, "admin", "/api/v1/org-units", unit.clone()).await;
    assert_eq!(created.status, 201, "{backend:?} {}", created.text);
    assert_eq!(created.body["code"], "220199");
    assert_eq!(created.body["name"], "长春新区");
    assert_eq!(created.body["level"], "county");
    assert_eq!(created.body["national_zone"], false);
    assert_eq!(created.body["children"], json!([]));
    let tree = app.get("c220100", "/api/v1/org-units").await;
    let root = &tree.assert_ok()[0];
    let changchun = find_unit(root, "220100").unwrap();
    let added = changchun["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "220199")
        .unwrap_or_else(|| panic!("new county missing: {changchun}"));
    assert_eq!(added["name"], "长春新区");
    assert_eq!(count_level(root, "county"), 61);
    // A user can be placed in the new unit.
    let mut body = new_user("xinqu");
    body["org_unit"] = json!("220199");
    let a = post_as(&app, "admin", "/api/v1/users", body).await;
    assert_eq!(a.status, 201, "{}", a.text);

    // The code exists.
    post_as(&app, "admin", "/api/v1/org-units", unit.clone())
        .await
        .assert_problem(409, "already_exists");
    post_as(
        &app,
        "admin",
        "/api/v1/org-units",
        json!({"code": "220102", "name": "重复", "level": "county", "parent_code": "220100"}),
    )
    .await
    .assert_problem(409, "already_exists");
    // Non-admins may not.
    for who in ["c220100", "d220102", "expert01"] {
        let mut other = unit.clone();
        other["code"] = json!("220198");
        post_as(&app, who, "/api/v1/org-units", other)
            .await
            .assert_problem(403, "forbidden");
    }
    // Invalid units.
    let invalid: Vec<(Value, &str)> = vec![
        (
            json!({"code": "22-01", "name": "x", "level": "county", "parent_code": "220100"}),
            "/code",
        ),
        (
            json!({"code": "", "name": "x", "level": "county", "parent_code": "220100"}),
            "/code",
        ),
        (
            json!({"code": "220197", "name": " ", "level": "county", "parent_code": "220100"}),
            "/name",
        ),
        (
            json!({"code": "220197", "name": "x", "level": "province", "parent_code": "220100"}),
            "/level",
        ),
        (
            json!({"code": "220197", "name": "x", "level": "village", "parent_code": "220100"}),
            "/level",
        ),
        (
            json!({"code": "220197", "name": "x", "level": "county", "parent_code": "999999"}),
            "/parent_code",
        ),
        // The tree keeps its three levels: counties under cities, cities under the province.
        (
            json!({"code": "220197", "name": "x", "level": "county", "parent_code": "220102"}),
            "/parent_code",
        ),
        (
            json!({"code": "220197", "name": "x", "level": "county", "parent_code": "220000"}),
            "/parent_code",
        ),
        (
            json!({"code": "220197", "name": "x", "level": "city", "parent_code": "220100"}),
            "/parent_code",
        ),
    ];
    for (body, pointer) in invalid {
        let a = post_as(&app, "admin", "/api/v1/org-units", body.clone()).await;
        a.assert_problem(422, "validation_failed");
        assert_eq!(a.pointers(), [pointer], "{body}: {}", a.text);
    }
    let tree = app.get("admin", "/api/v1/org-units").await;
    assert_eq!(count_level(&tree.body[0], "county"), 61);
    assert!(find_unit(&tree.body[0], "220198").is_none());
    assert!(find_unit(&tree.body[0], "220197").is_none());
}
on_each_backend!(the_admin_adds_org_units);

// ---------------------------------------------------------------------------------------------
// Demo data

async fn demo_users_sign_in_with_the_demo_password(backend: Backend) {
    let app = lenient_app(backend).await;
    let mut names = vec![
        "c220100".to_owned(),
        "ccbs".to_owned(),
        "d220102".to_owned(),
    ];
    names.extend((1..=12).map(|n| format!("expert{n:02}")));
    for name in &names {
        let login = app.login_raw(name, DEFAULT_DEMO_PASSWORD).await;
        assert_eq!(login.status, 200, "{backend:?} {name}: {}", login.text);
        let me = me_with(&app, &token_of(&login)).await;
        assert_eq!(me.assert_ok()["username"], name.as_str());
        assert_eq!(me.body["email"], format!("{name}@pilotflow.test"));
    }
    let expected = [
        ("c220100", "municipal_reviewer", "220100"),
        ("ccbs", "municipal_reviewer", "CBS"),
        ("d220102", "applicant", "220102"),
        ("expert01", "expert", "220100"),
        ("expert03", "expert", "220100"),
        ("expert04", "expert", "220200"),
        ("expert05", "expert", "220200"),
        ("expert08", "expert", "222400"),
        ("expert09", "expert", "222400"),
        ("expert10", "expert", "220000"),
        ("expert11", "expert", "220000"),
        ("expert12", "expert", "220000"),
    ];
    for (name, role, unit) in expected {
        let me = app.get(name, "/api/v1/me").await;
        assert_eq!(me.assert_ok()["role"], role, "{name}");
        assert_eq!(me.body["org_unit"], unit, "{name}");
    }
    app.login_raw("expert13", DEFAULT_DEMO_PASSWORD)
        .await
        .assert_problem(401, "login_failed");
}
on_each_backend!(demo_users_sign_in_with_the_demo_password);

async fn a_configured_demo_password_replaces_the_default(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.demo_password = Secret::new("another-demo-pw");
    })
    .await;
    app.login_raw("d220102", DEFAULT_DEMO_PASSWORD)
        .await
        .assert_problem(401, "login_failed");
    token_of(&app.login_raw("d220102", "another-demo-pw").await);
}
on_each_backend!(a_configured_demo_password_replaces_the_default);

// ---------------------------------------------------------------------------------------------
// Language of problem details

async fn accept_language_en_gives_english_problem_details(backend: Backend) {
    let app = lenient_app(backend).await;
    let me = |lang: Option<&'static str>| {
        let mut req = app.client.get(app.url("/api/v1/me"));
        if let Some(l) = lang {
            req = req.header("Accept-Language", l);
        }
        app.send(req)
    };
    let zh = me(None).await;
    zh.assert_problem(401, "unauthenticated");
    assert_eq!(zh.body["detail"], "请先登录,或登录已过期");
    assert_eq!(zh.body["title"], "未登录");
    let en = me(Some("en")).await;
    en.assert_problem(401, "unauthenticated");
    assert_eq!(
        en.body["detail"],
        "sign in first; the token is missing, expired or revoked"
    );
    assert_eq!(en.body["title"], "Unauthorized");
    assert_ne!(zh.body["detail"], en.body["detail"]);
    // The type and code do not depend on the language.
    assert_eq!(zh.body["type"], en.body["type"]);
    assert_eq!(en.body["type"], "urn:pilotflow:problem:unauthenticated");

    assert_eq!(
        me(Some("en-US,en;q=0.9")).await.body["title"],
        "Unauthorized"
    );
    assert_eq!(me(Some("zh-CN,en;q=0.5")).await.body["title"], "未登录");
    assert_eq!(me(Some("fr")).await.body["title"], "未登录");
    assert_eq!(
        me(Some("zh;q=0.3, en;q=0.7")).await.body["title"],
        "Unauthorized"
    );

    let wrong = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("Accept-Language", "en")
                .json(&json!({"username": "admin", "password": "wrong"})),
        )
        .await;
    wrong.assert_problem(401, "login_failed");
    assert_eq!(wrong.body["detail"], "wrong user name or password");

    // Field errors are translated too.
    let token = app.token("admin").await;
    let mut body = new_user("lisi");
    body["email"] = json!("nope");
    let invalid = app
        .send(
            app.client
                .post(app.url("/api/v1/users"))
                .bearer_auth(&token)
                .header("Accept-Language", "en")
                .json(&body),
        )
        .await;
    invalid.assert_problem(422, "validation_failed");
    assert_eq!(invalid.body["errors"][0]["pointer"], "/email");
    assert_eq!(
        invalid.body["errors"][0]["message"],
        "not an e-mail address"
    );
    let chinese = post_as(&app, "admin", "/api/v1/users", body).await;
    assert_eq!(chinese.body["errors"][0]["message"], "电子邮箱格式不正确");
}
on_each_backend!(accept_language_en_gives_english_problem_details);

/// A well-formed JSON body with a number where the role name belongs is a wrong value at
/// `/role` (422), not "invalid JSON" (400). Currently answered 400 `malformed_request`:
/// serde_json reports a non-string enum as a syntax error, and `http::parse_json` trusts that.
async fn a_number_as_role_is_a_validation_error(backend: Backend) {
    let app = lenient_app(backend).await;
    let mut body = new_user("lisi");
    body["role"] = json!(7);
    let a = post_as(&app, "admin", "/api/v1/users", body).await;
    a.assert_problem(422, "validation_failed");
    assert_eq!(a.pointers(), ["/role"], "{}", a.text);
}
on_each_backend!(a_number_as_role_is_a_validation_error);
