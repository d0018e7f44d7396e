//! Reminders on the rehearsal clock, through a real SMTP server (aiosmtpd): each reminder and
//! escalation arrives once, to the right people; an outage delays mail without losing or
//! doubling it; two servers on one database share the work; an extension moves the later
//! reminders; a working-day deadline skips the holidays; the calendar feed; cron.

use crate::harness::{
    Backend, ClockMode, Mail, Secret, SmtpCapture, TestApp, example, on_each_backend, spawn_app,
    spawn_app_with,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

async fn rehearsal(backend: Backend, start: &str, smtp: &SmtpCapture) -> TestApp {
    let url = smtp.url();
    let start = start.parse().unwrap();
    spawn_app_with(backend, move |s| {
        s.clock_mode = ClockMode::Simulated;
        s.clock_start = Some(start);
        s.smtp_url = Some(Secret::new(url));
        s.outbox_max_attempts = 2;
    })
    .await
}

async fn advance(app: &TestApp, by: &str) {
    app.call(
        "admin",
        Method::POST,
        "/api/v1/admin/clock",
        Some(json!({"advance": by})),
    )
    .await
    .assert_ok();
    // Login tokens expire on the rehearsal clock too.
    app.forget_tokens();
}

async fn run_job(app: &TestApp, job: &str) -> Value {
    let a = app
        .call(
            "admin",
            Method::POST,
            &format!("/api/v1/admin/jobs/{job}/run"),
            None,
        )
        .await;
    a.assert_ok().clone()
}

/// Runs the scan and the outbox, then both again, which must find nothing more to do.
async fn run_jobs(app: &TestApp) -> (Value, Value) {
    let scan = run_job(app, "deadlines").await;
    let sent = run_job(app, "outbox").await;
    let again = run_job(app, "deadlines").await;
    assert_eq!(again["scan"]["notifications"], 0, "{again}");
    assert_eq!(again["scan"]["mails"], 0, "{again}");
    let resent = run_job(app, "outbox").await;
    assert_eq!(resent["outbox"]["sent"], 0, "{resent}");
    (scan, sent)
}

/// The mails not seen before, as (recipient, subject), sorted.
fn fresh(smtp: &SmtpCapture, seen: &mut BTreeSet<String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = smtp
        .mails()
        .into_iter()
        .filter(|m| seen.insert(m.message_id.clone()))
        .map(|m| (m.to, m.subject))
        .collect();
    out.sort();
    out
}

const CITY: &str = "市州内部截止(区县报市州)";
const ROUND: &str = "年度申报截止(市州报省)";

fn reminder(to: &str, title: &str, label: &str, days_left: u32) -> (String, String) {
    let left = if days_left == 0 {
        "今天截止".to_owned()
    } else {
        format!("还有 {days_left} 天截止")
    };
    (
        format!("{to}@pilotflow.test"),
        format!("【试点工作提醒】{title}:{label}{left}"),
    )
}

fn overdue(to: &str, title: &str, label: &str) -> (String, String) {
    (
        format!("{to}@pilotflow.test"),
        format!("【逾期督办】{title}:{label}已逾期"),
    )
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

async fn a_rehearsed_round_sends_each_reminder_once_to_the_right_people(backend: Backend) {
    let smtp = SmtpCapture::start_new().await;
    let app = rehearsal(backend, "2026-08-01T01:00:00Z", &smtp).await; // 09:00 in Jilin
    let nanguan = app.drafted("南关区申报").await;
    app.create_case("d220202", "昌邑区申报").await;
    app.act(
        "c220100",
        &nanguan,
        "set_city_cutoff",
        json!({"cutoff_date": "2026-09-10", "notice": "请于9月10日前报送。"}),
    )
    .await
    .assert_ok();
    let (n, c) = ("南关区申报", "昌邑区申报");
    let mut seen = BTreeSet::new();

    let (scan, _) = run_jobs(&app).await;
    assert_eq!(scan["scan"]["deadlines"], 0, "nothing is due yet: {scan}");
    assert!(fresh(&smtp, &mut seen).is_empty());

    // (advance by, what arrives): the city's own cutoff is 2026-09-10, the round's 09-30.
    let steps: Vec<(&str, Vec<(String, String)>)> = vec![
        ("P27D", vec![reminder("d220102", n, CITY, 13)]),
        (
            "P4D",
            vec![
                reminder("d220102", n, ROUND, 29),
                reminder("c220100", n, ROUND, 29),
                reminder("d220202", c, ROUND, 29),
                reminder("c220200", c, ROUND, 29),
            ],
        ),
        ("P3D", vec![reminder("d220102", n, CITY, 6)]),
        ("P6D", vec![reminder("d220102", n, CITY, 0)]),
        // Overdue: the district's city hears of it.
        ("P1D", vec![overdue("c220100", n, CITY)]),
        (
            "P6D",
            vec![
                reminder("d220102", n, ROUND, 13),
                reminder("c220100", n, ROUND, 13),
                reminder("d220202", c, ROUND, 13),
                reminder("c220200", c, ROUND, 13),
            ],
        ),
        (
            "P7D",
            vec![
                reminder("d220102", n, ROUND, 6),
                reminder("c220100", n, ROUND, 6),
                reminder("d220202", c, ROUND, 6),
                reminder("c220200", c, ROUND, 6),
            ],
        ),
        (
            "P6D",
            vec![
                reminder("d220102", n, ROUND, 0),
                reminder("c220100", n, ROUND, 0),
                reminder("d220202", c, ROUND, 0),
                reminder("c220200", c, ROUND, 0),
            ],
        ),
        // The round's cutoff passed with both still at the district: the province hears.
        (
            "P1D",
            vec![overdue("admin", n, ROUND), overdue("admin", c, ROUND)],
        ),
    ];
    for (by, expected) in steps {
        advance(&app, by).await;
        let (scan, sent) = run_jobs(&app).await;
        let expected = sorted(expected);
        assert_eq!(
            scan["scan"]["mails"],
            expected.len(),
            "{backend:?} {by}: {scan}"
        );
        assert_eq!(
            sent["outbox"]["sent"],
            expected.len(),
            "{backend:?} {by}: {sent}"
        );
        assert_eq!(fresh(&smtp, &mut seen), expected, "{backend:?} after {by}");
    }
    assert_eq!(smtp.mails().len(), 22, "{backend:?}: every mail once");

    // What a mail says: the case, the unit, the local due time, a link; text and HTML.
    let mails: Vec<Mail> = smtp.mails();
    let mail = mails
        .iter()
        .find(|m| m.to == "c220100@pilotflow.test" && m.subject.contains("还有 29 天"))
        .unwrap();
    assert!(mail.text.starts_with("长春市民政局:"), "{}", mail.text);
    for part in [&mail.text, &mail.html] {
        assert!(part.contains("南关区"), "{part}");
        assert!(part.contains("2026-09-30 23:59:59"), "{part}");
        assert!(
            part.contains(&format!("{}/cases/{nanguan}", app.base)),
            "{part}"
        );
    }

    // The same notices in the app, each user's own.
    let mine = app.get("d220102", "/api/v1/notifications").await;
    assert_eq!(mine.body["total"], 7, "{}", mine.text);
    assert_eq!(mine.body["unread"], 7);
    let first = mine.body["items"][0]["id"].as_i64().unwrap();
    let theirs = app
        .call(
            "c220100",
            Method::POST,
            &format!("/api/v1/notifications/{first}/read"),
            None,
        )
        .await;
    theirs.assert_problem(404, "notification_not_found");
    let read = app
        .call(
            "d220102",
            Method::POST,
            &format!("/api/v1/notifications/{first}/read"),
            None,
        )
        .await;
    assert_eq!(read.status, 204, "{}", read.text);
    let unread = app
        .get("d220102", "/api/v1/notifications?unread=true")
        .await;
    assert_eq!(unread.body["total"], 6);
    let all = app
        .call(
            "d220102",
            Method::POST,
            "/api/v1/notifications/read-all",
            None,
        )
        .await;
    assert_eq!(all.assert_ok()["marked"], 6);
    assert_eq!(
        app.get("d220102", "/api/v1/notifications").await.body["unread"],
        0
    );
    assert_eq!(
        app.get("d220103", "/api/v1/notifications").await.body["total"],
        0
    );
}
on_each_backend!(a_rehearsed_round_sends_each_reminder_once_to_the_right_people);

async fn an_smtp_outage_delays_mail_but_loses_and_doubles_none(backend: Backend) {
    let mut smtp = SmtpCapture::reserve(); // down at first
    let app = rehearsal(backend, "2026-09-01T01:00:00Z", &smtp).await;
    app.drafted("南关区申报").await;
    let queued = run_job(&app, "deadlines").await;
    assert_eq!(queued["scan"]["mails"], 2, "{queued}");

    // The server is down: both wait for a retry.
    let failed = run_job(&app, "outbox").await;
    assert_eq!(failed["outbox"]["retrying"], 2, "{failed}");
    let waiting = app
        .get("admin", "/api/v1/admin/outbox?status=pending")
        .await;
    assert_eq!(waiting.body["total"], 2, "{}", waiting.text);
    assert_eq!(waiting.body["items"][0]["attempts"], 1);
    assert!(waiting.body["items"][0]["last_error"].as_str().is_some());

    // Back up: nothing goes before the backoff has passed, then everything once.
    smtp.start().await;
    assert_eq!(run_job(&app, "outbox").await["outbox"]["sent"], 0);
    advance(&app, "PT1M").await;
    assert_eq!(run_job(&app, "outbox").await["outbox"]["sent"], 2);
    assert_eq!(smtp.mails().len(), 2);

    // Down again for the next reminder, long enough to use up both attempts: dead.
    smtp.stop();
    advance(&app, "P16D").await;
    assert_eq!(run_job(&app, "deadlines").await["scan"]["mails"], 2);
    assert_eq!(run_job(&app, "outbox").await["outbox"]["retrying"], 2);
    advance(&app, "PT1M").await;
    assert_eq!(run_job(&app, "outbox").await["outbox"]["dead"], 2);
    let dead = app.get("admin", "/api/v1/admin/outbox?status=dead").await;
    assert_eq!(dead.body["total"], 2, "{}", dead.text);
    assert!(
        app.get("c220100", "/api/v1/admin/outbox").await.status == 403,
        "the outbox is the province's"
    );

    // The admin retries them once the server is back; each arrives once.
    smtp.start().await;
    for item in dead.body["items"].as_array().unwrap() {
        let id = item["id"].as_i64().unwrap();
        let path = format!("/api/v1/admin/outbox/{id}/retry");
        let retried = app.call("admin", Method::POST, &path, None).await;
        assert_eq!(retried.assert_ok()["status"], "pending");
        app.call("admin", Method::POST, &path, None)
            .await
            .assert_problem(409, "mail_not_dead");
    }
    assert_eq!(run_job(&app, "outbox").await["outbox"]["sent"], 2);
    assert_eq!(run_job(&app, "outbox").await["outbox"]["sent"], 0);
    let mails = smtp.mails();
    let distinct: BTreeSet<(String, String)> = mails
        .iter()
        .map(|m| (m.to.clone(), m.subject.clone()))
        .collect();
    assert_eq!(mails.len(), 4, "{backend:?}");
    assert_eq!(distinct.len(), 4, "{backend:?}: none doubled");
}
on_each_backend!(an_smtp_outage_delays_mail_but_loses_and_doubles_none);

async fn two_servers_on_one_database_send_every_reminder_exactly_once(backend: Backend) {
    let smtp = SmtpCapture::start_new().await;
    let a = rehearsal(backend, "2026-08-01T01:00:00Z", &smtp).await;
    let districts = ["d220102", "d220103", "d220104", "d220105", "d220106"];
    for n in 0..40 {
        a.create_case(districts[n % districts.len()], &format!("申报{n:02}"))
            .await;
    }
    let b = a.second_server().await;

    for by in ["P31D", "P16D"] {
        advance(&a, by).await;
        advance(&b, by).await;
        let (scan_a, scan_b) = tokio::join!(run_job(&a, "deadlines"), run_job(&b, "deadlines"));
        let queued =
            scan_a["scan"]["mails"].as_u64().unwrap() + scan_b["scan"]["mails"].as_u64().unwrap();
        assert_eq!(queued, 80, "{backend:?} {by}: {scan_a} {scan_b}");
        let (out_a, out_b) = tokio::join!(run_job(&a, "outbox"), run_job(&b, "outbox"));
        let sent =
            out_a["outbox"]["sent"].as_u64().unwrap() + out_b["outbox"]["sent"].as_u64().unwrap();
        assert_eq!(sent, 80, "{backend:?} {by}: {out_a} {out_b}");
    }
    let mails = smtp.mails();
    let mut per_mail: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in &mails {
        *per_mail
            .entry((m.to.clone(), m.subject.clone()))
            .or_default() += 1;
    }
    assert_eq!(mails.len(), 160, "{backend:?}");
    assert!(
        per_mail.values().all(|&n| n == 1),
        "{backend:?}: {per_mail:?}"
    );
}
on_each_backend!(two_servers_on_one_database_send_every_reminder_exactly_once);

async fn an_approved_extension_moves_the_later_reminders(backend: Backend) {
    let smtp = SmtpCapture::start_new().await;
    let app = rehearsal(backend, "2026-09-20T01:00:00Z", &smtp).await;
    let id = app
        .in_expert_review("南关区申报", &["expert04", "expert10"])
        .await;
    for expert in ["expert04", "expert10"] {
        app.act(expert, &id, "score", example("score.json"))
            .await
            .assert_ok();
    }
    app.act("admin", &id, "confirm", example("confirm.json"))
        .await
        .assert_ok();
    let final_report = |smtp: &SmtpCapture| -> Vec<Mail> {
        smtp.mails()
            .into_iter()
            .filter(|m| m.subject.contains("终期报告报送") && m.subject.contains("提醒"))
            .collect()
    };

    // Two years on, the final report (due a month after the period) is 30 days away.
    advance(&app, "P2Y1D").await;
    run_jobs(&app).await;
    let first = final_report(&smtp);
    assert_eq!(first.len(), 1, "{backend:?}: {first:?}");
    assert!(
        first[0].text.contains("2028-10-20 23:59:59"),
        "{}",
        first[0].text
    );

    // Six more months are approved: the 14-day reminder no longer comes at the old time…
    app.act(
        "d220102",
        &id,
        "request_extension",
        example("request_extension.json"),
    )
    .await
    .assert_ok();
    app.act(
        "admin",
        &id,
        "approve_extension",
        example("approve_extension.json"),
    )
    .await
    .assert_ok();
    let case = app.get("d220102", &format!("/api/v1/cases/{id}")).await;
    let due = case.body["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "final_report_due")
        .map(|d| d["due_local"].clone());
    assert_eq!(due, Some(json!("2029-04-20 23:59:59")), "{}", case.text);
    advance(&app, "P16D").await;
    run_jobs(&app).await;
    assert_eq!(final_report(&smtp).len(), 1, "{backend:?}");

    // …but before the new due time.
    advance(&app, "P5M15D").await;
    run_jobs(&app).await;
    let moved = final_report(&smtp);
    assert_eq!(moved.len(), 2, "{backend:?}: {moved:?}");
    assert!(
        moved.iter().any(|m| m.text.contains("2029-04-20 23:59:59")),
        "{moved:?}"
    );
}
on_each_backend!(an_approved_extension_moves_the_later_reminders);

async fn a_working_day_deadline_reminds_after_the_holidays(backend: Backend) {
    let smtp = SmtpCapture::start_new().await;
    // Monday 2026-09-21: 15 working days skip 中秋 (09-25) and 国庆 (10-01..07), and count
    // the make-up Saturday 10-10.
    let app = rehearsal(backend, "2026-09-21T01:00:00Z", &smtp).await;
    let id = app.in_expert_review("南关区申报", &["expert04"]).await;
    let case = app.get("admin", &format!("/api/v1/cases/{id}")).await;
    let due = case.body["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "expert_review_due")
        .map(|d| d["due_local"].clone());
    assert_eq!(due, Some(json!("2026-10-19 23:59:59")), "{}", case.text);
    let to_expert = |smtp: &SmtpCapture| -> Vec<Mail> {
        smtp.mails()
            .into_iter()
            .filter(|m| m.to == "expert04@pilotflow.test")
            .collect()
    };
    // Counted Monday to Friday the review would be due 10-12, its 7-day reminder 10-05.
    advance(&app, "P15D").await;
    run_jobs(&app).await;
    assert!(to_expert(&smtp).is_empty(), "{backend:?}");
    advance(&app, "P7D").await; // 2026-10-13 09:00
    run_jobs(&app).await;
    let mails = to_expert(&smtp);
    assert_eq!(mails.len(), 1, "{backend:?}");
    assert!(
        mails[0].subject.contains("专家评审完成还有 6 天截止"),
        "{}",
        mails[0].subject
    );
    assert!(mails[0].text.contains("2026-10-19 23:59:59"));
}
on_each_backend!(a_working_day_deadline_reminds_after_the_holidays);

async fn the_calendar_feed_lists_what_its_owner_must_do_until_revoked(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.clock_mode = ClockMode::Simulated;
        s.clock_start = Some("2026-09-01T01:00:00Z".parse().unwrap());
    })
    .await;
    let id = app.drafted("南关区申报").await;
    let feed = |url: String| {
        let app = &app;
        async move { app.send(app.client.get(url)).await }
    };
    let issued = app
        .call("d220102", Method::POST, "/api/v1/me/calendar-feed", None)
        .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    let token = issued.body["token"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/calendar.ics?token={token}"));
    let ics = feed(url.clone()).await;
    assert_eq!(ics.status, 200, "{}", ics.text);
    assert!(
        ics.content_type.starts_with("text/calendar"),
        "{}",
        ics.content_type
    );
    assert!(ics.text.contains("BEGIN:VEVENT"), "{}", ics.text);
    assert!(ics.text.contains(ROUND), "{}", ics.text);
    assert!(
        ics.text.contains("DTSTART:20260930T155959Z"),
        "{}",
        ics.text
    );
    assert!(ics.text.contains(&id), "{}", ics.text);

    // The city must act on it too; an expert has nothing to do yet.
    for (user, events) in [("c220100", 1), ("expert04", 0)] {
        let t = app
            .call(user, Method::POST, "/api/v1/me/calendar-feed", None)
            .await
            .body["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let text = feed(app.url(&format!("/calendar.ics?token={t}")))
            .await
            .text;
        assert_eq!(
            text.matches("BEGIN:VEVENT").count(),
            events,
            "{user}: {text}"
        );
    }

    // A new address replaces the old; revoking ends it.
    let renewed = app
        .call("d220102", Method::POST, "/api/v1/me/calendar-feed", None)
        .await;
    feed(url).await.assert_problem(404, "feed_not_found");
    let new_url = app.url(&format!(
        "/calendar.ics?token={}",
        renewed.body["token"].as_str().unwrap()
    ));
    assert_eq!(feed(new_url.clone()).await.status, 200);
    let revoked = app
        .call("d220102", Method::DELETE, "/api/v1/me/calendar-feed", None)
        .await;
    assert_eq!(revoked.status, 204);
    feed(new_url).await.assert_problem(404, "feed_not_found");
}
on_each_backend!(the_calendar_feed_lists_what_its_owner_must_do_until_revoked);

async fn cron_runs_the_jobs_on_its_own(backend: Backend) {
    let smtp = SmtpCapture::start_new().await;
    let url = smtp.url();
    let app = spawn_app_with(backend, move |s| {
        s.clock_mode = ClockMode::Simulated;
        s.clock_start = Some("2026-09-01T01:00:00Z".parse().unwrap());
        s.smtp_url = Some(Secret::new(url));
        s.deadline_scan_cron = "* * * * * *".to_owned();
        s.outbox_cron = "* * * * * *".to_owned();
    })
    .await;
    app.drafted("南关区申报").await;
    let mut arrived = 0;
    for _ in 0..100 {
        arrived = smtp.mails().len();
        if arrived >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        arrived, 2,
        "{backend:?}: the 30-day reminders, sent by cron alone"
    );
}
on_each_backend!(cron_runs_the_jobs_on_its_own);

async fn the_system_clock_hides_the_manual_job_trigger(backend: Backend) {
    let system = spawn_app(backend).await;
    system
        .call(
            "admin",
            Method::POST,
            "/api/v1/admin/jobs/deadlines/run",
            None,
        )
        .await
        .assert_problem(404, "not_found");
}
on_each_backend!(the_system_clock_hides_the_manual_job_trigger);
