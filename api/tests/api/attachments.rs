//! Attachments over real HTTP on SQLite and PostgreSQL: upload (judged by content, limited in
//! size), download, listing, and who may do which — plus what is left on disk.

use crate::harness::{Answer, Backend, TestApp, on_each_backend, spawn_app, spawn_app_with};
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// A small, well-formed PDF of one empty page whose content stream is padded so the file is
/// exactly `size` bytes (or as small as it can be when `size` is smaller).
fn pdf(size: usize) -> Vec<u8> {
    let build = |pad: usize| -> Vec<u8> {
        let stream = format!("%{}\n", "x".repeat(pad));
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_owned(),
            format!("<< /Length {} >>\nstream\n{stream}endstream", stream.len()),
        ];
        let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, obj) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{obj}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n", objects.len() + 1).as_bytes());
        out.extend_from_slice(b"0000000000 65535 f \n");
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    };
    let base = build(0).len();
    if size <= base {
        return build(0);
    }
    // The padding also changes the digits of /Length and of the offsets; adjust until exact.
    let mut pad = size - base;
    loop {
        let out = build(pad);
        match out.len().cmp(&size) {
            std::cmp::Ordering::Equal => return out,
            std::cmp::Ordering::Greater => pad -= out.len() - size,
            std::cmp::Ordering::Less => pad += size - out.len(),
        }
    }
}

/// A 1×1 transparent PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\nIDATx\x9cc\0\x01\0\0\x05\0\x01\r\n-\xb4\0\0\0\0IEND\xaeB`\x82";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn form(field: &str, filename: &str, mime: &str, bytes: Vec<u8>) -> Form {
    let part = Part::bytes(bytes)
        .file_name(filename.to_owned())
        .mime_str(mime)
        .unwrap();
    Form::new().part(field.to_owned(), part)
}

async fn upload_form(app: &TestApp, user: &str, case: &str, form: Form) -> Answer {
    let token = app.token(user).await;
    app.send(
        app.client
            .post(app.url(&format!("/api/v1/cases/{case}/attachments")))
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

async fn upload(
    app: &TestApp,
    user: &str,
    case: &str,
    filename: &str,
    mime: &str,
    bytes: &[u8],
) -> Answer {
    upload_form(
        app,
        user,
        case,
        form("file", filename, mime, bytes.to_vec()),
    )
    .await
}

struct Download {
    status: u16,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Download {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    fn assert_problem(&self, status: u16, code: &str) {
        let body = self.json();
        assert_eq!(self.status, status, "{body}");
        assert!(
            self.header("content-type")
                .starts_with("application/problem+json"),
            "{body}"
        );
        assert_eq!(body["code"], code, "{body}");
    }
}

async fn download(app: &TestApp, user: &str, case: &str, aid: &str) -> Download {
    let token = app.token(user).await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/cases/{case}/attachments/{aid}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("request sent");
    Download {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        bytes: res.bytes().await.expect("body").to_vec(),
    }
}

async fn listed(app: &TestApp, user: &str, case: &str) -> Vec<Value> {
    app.get(user, &format!("/api/v1/cases/{case}/attachments"))
        .await
        .assert_ok()
        .as_array()
        .expect("array")
        .clone()
}

fn attachments_dir(app: &TestApp) -> PathBuf {
    app.data_dir.path().join("attachments")
}

/// The stored files (not the `tmp` directory), sorted; asserts `tmp` is empty when present.
fn stored_files(app: &TestApp) -> Vec<String> {
    let dir = attachments_dir(app);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "tmp" {
            assert!(e.file_type().unwrap().is_dir());
            let left: Vec<_> = std::fs::read_dir(e.path())
                .unwrap()
                .map(|f| f.unwrap().file_name())
                .collect();
            assert!(left.is_empty(), "temporary files left behind: {left:?}");
        } else {
            out.push(name);
        }
    }
    out.sort();
    out
}

fn decode_disposition(value: &str) -> String {
    let encoded = value
        .split("filename*=UTF-8''")
        .nth(1)
        .unwrap_or_else(|| panic!("no filename* in {value}"));
    percent_encoding::percent_decode_str(encoded.split(';').next().unwrap())
        .decode_utf8()
        .unwrap()
        .into_owned()
}

// ---------------------------------------------------------------------------------------------

async fn a_pdf_and_a_png_upload_and_download_unchanged(backend: Backend) {
    let app = spawn_app(backend).await;
    let case = app.drafted("南关区实验区申报(附件)").await;
    assert!(listed(&app, "d220102", &case).await.is_empty());

    let bytes = pdf(2000);
    assert!(bytes.starts_with(b"%PDF-1.4"));
    assert_eq!(bytes.len(), 2000);
    let up = upload(
        &app,
        "d220102",
        &case,
        "申请文件.pdf",
        "application/pdf",
        &bytes,
    )
    .await;
    assert_eq!(up.status, 201, "{backend:?} {}", up.text);
    let id = up.body["id"].as_str().expect("id").to_owned();
    assert_eq!(up.body["filename"], "申请文件.pdf");
    assert_eq!(up.body["content_type"], "application/pdf");
    assert_eq!(up.body["size"], 2000);
    assert_eq!(up.body["sha256"], sha256_hex(&bytes));
    assert_eq!(up.body["uploaded_by"], "d220102");
    assert!(up.body["created_at"].is_string(), "{}", up.text);
    let location = up
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(location, format!("/api/v1/cases/{case}/attachments/{id}"));

    // Stored once, under its id, with exactly the uploaded bytes.
    assert_eq!(stored_files(&app), std::slice::from_ref(&id));
    assert_eq!(
        std::fs::read(attachments_dir(&app).join(&id)).unwrap(),
        bytes
    );

    let got = download(&app, "d220102", &case, &id).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, bytes);
    assert_eq!(got.header("content-type"), "application/pdf");
    let disposition = got.header("content-disposition").to_owned();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''"),
        "{disposition}"
    );
    assert_eq!(decode_disposition(&disposition), "申请文件.pdf");
    assert_eq!(got.header("x-content-sha256"), sha256_hex(&bytes));

    let list = listed(&app, "d220102", &case).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0], up.body);

    // A PNG, sent with a generic content type and a path in its name: judged by content, and
    // the path is dropped.
    let png = upload(
        &app,
        "d220102",
        &case,
        "C:\\照片\\现场.png",
        "application/octet-stream",
        PNG,
    )
    .await;
    assert_eq!(png.status, 201, "{}", png.text);
    assert_eq!(png.body["content_type"], "image/png");
    assert_eq!(png.body["filename"], "现场.png");
    assert_eq!(png.body["size"], PNG.len());
    assert_eq!(png.body["sha256"], sha256_hex(PNG));
    let png_id = png.body["id"].as_str().unwrap().to_owned();
    let got = download(&app, "d220102", &case, &png_id).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, PNG);
    assert_eq!(got.header("content-type"), "image/png");
    assert_eq!(
        decode_disposition(got.header("content-disposition")),
        "现场.png"
    );

    // A PDF named .png is still a PDF.
    let renamed = upload(&app, "d220102", &case, "scan.png", "image/png", &pdf(300)).await;
    assert_eq!(renamed.status, 201, "{}", renamed.text);
    assert_eq!(renamed.body["content_type"], "application/pdf");

    let ids: Vec<String> = listed(&app, "d220102", &case)
        .await
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3);
    for want in [&id, &png_id] {
        assert!(ids.contains(want), "{want} in {ids:?}");
    }
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(stored_files(&app), expected);

    // Uploading needs a session.
    let anonymous = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/cases/{case}/attachments")))
                .multipart(form("file", "a.pdf", "application/pdf", pdf(300))),
        )
        .await;
    anonymous.assert_problem(401, "unauthenticated");
    let anonymous = app
        .client
        .get(app.url(&format!("/api/v1/cases/{case}/attachments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
on_each_backend!(a_pdf_and_a_png_upload_and_download_unchanged);

async fn disguised_files_are_refused_and_nothing_is_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let case = app.drafted("南关区实验区申报(伪装文件)").await;
    let good = upload(
        &app,
        "d220102",
        &case,
        "申请文件.pdf",
        "application/pdf",
        &pdf(500),
    )
    .await;
    assert_eq!(good.status, 201, "{}", good.text);
    let before = listed(&app, "d220102", &case).await;
    let files_before = stored_files(&app);
    assert_eq!(files_before.len(), 1);

    let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0".to_vec();
    exe.resize(1024, 0);
    exe[0x3c] = 0x80;
    exe.extend_from_slice(b"PE\0\0L\x01\x03\0");
    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.extend_from_slice(&[0; 16]);
    zip.extend_from_slice(b"payload.sh");
    let disguises: Vec<(&str, Vec<u8>)> = vec![
        (
            "shell script",
            b"#!/bin/sh\nrm -rf / --no-preserve-root\n".to_vec(),
        ),
        ("windows executable", exe),
        (
            "plain text",
            b"this is not a PDF, only named like one".to_vec(),
        ),
        ("html", b"<html><script>alert(1)</script></html>".to_vec()),
        ("zip", zip),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in disguises {
        let a = upload(
            &app,
            "d220102",
            &case,
            "plan.pdf",
            "application/pdf",
            &bytes,
        )
        .await;
        assert_eq!(a.status, 415, "{backend:?} {what}: {}", a.text);
        a.assert_problem(415, "file_type_not_allowed");
        assert!(a.body.get("id").is_none());
        assert_eq!(listed(&app, "d220102", &case).await, before, "{what}");
        assert_eq!(stored_files(&app), files_before, "{what}");
    }
    assert!(attachments_dir(&app).join("tmp").is_dir());

    // English detail for the refusal.
    let token = app.token("d220102").await;
    let en = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/cases/{case}/attachments")))
                .bearer_auth(token)
                .header("Accept-Language", "en")
                .multipart(form(
                    "file",
                    "plan.pdf",
                    "application/pdf",
                    b"#!/bin/sh\n".to_vec(),
                )),
        )
        .await;
    en.assert_problem(415, "file_type_not_allowed");
    assert!(
        en.body["detail"]
            .as_str()
            .unwrap()
            .contains("judged by content"),
        "{}",
        en.text
    );
}
on_each_backend!(disguised_files_are_refused_and_nothing_is_kept);

async fn files_over_the_limit_are_refused_and_nothing_is_kept(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.max_upload_bytes = 1024).await;
    let case = app.drafted("南关区实验区申报(超大文件)").await;

    let big = pdf(4096);
    assert_eq!(big.len(), 4096);
    let a = upload(
        &app,
        "d220102",
        &case,
        "大文件.pdf",
        "application/pdf",
        &big,
    )
    .await;
    a.assert_problem(413, "payload_too_large");
    assert_eq!(a.body["limit_bytes"], 1024, "{}", a.text);
    assert!(listed(&app, "d220102", &case).await.is_empty());
    assert!(stored_files(&app).is_empty());

    // One byte over the limit is refused; exactly the limit is accepted.
    let over = upload(
        &app,
        "d220102",
        &case,
        "a.pdf",
        "application/pdf",
        &pdf(1025),
    )
    .await;
    over.assert_problem(413, "payload_too_large");
    assert!(stored_files(&app).is_empty());
    let exact = pdf(1024);
    assert_eq!(exact.len(), 1024);
    let ok = upload(&app, "d220102", &case, "a.pdf", "application/pdf", &exact).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.body["size"], 1024);
    assert_eq!(stored_files(&app).len(), 1);
    assert_eq!(listed(&app, "d220102", &case).await.len(), 1);

    // Far above the limit: refused by its declared length.
    let huge = upload(
        &app,
        "d220102",
        &case,
        "huge.pdf",
        "application/pdf",
        &pdf(200_000),
    )
    .await;
    huge.assert_problem(413, "payload_too_large");
    assert_eq!(stored_files(&app).len(), 1);
    assert_eq!(listed(&app, "d220102", &case).await.len(), 1);
}
on_each_backend!(files_over_the_limit_are_refused_and_nothing_is_kept);

async fn an_upload_without_a_file_field_is_malformed(backend: Backend) {
    let app = spawn_app(backend).await;
    let case = app.drafted("南关区实验区申报(格式错误)").await;

    // The file in another field.
    let a = upload_form(
        &app,
        "d220102",
        &case,
        form("document", "申请文件.pdf", "application/pdf", pdf(300)),
    )
    .await;
    a.assert_problem(400, "malformed_request");
    // Only a text field.
    let a = upload_form(
        &app,
        "d220102",
        &case,
        Form::new().text("title", "申请文件"),
    )
    .await;
    a.assert_problem(400, "malformed_request");
    // Not multipart at all.
    let token = app.token("d220102").await;
    let a = app
        .send(
            app.client
                .post(app.url(&format!("/api/v1/cases/{case}/attachments")))
                .bearer_auth(&token)
                .json(&json!({"file": "JVBERi0xLjQ="})),
        )
        .await;
    a.assert_problem(400, "malformed_request");
    assert!(listed(&app, "d220102", &case).await.is_empty());
    assert!(stored_files(&app).is_empty());

    // Another field before the file is skipped.
    let bytes = pdf(400);
    let both = Form::new().text("note", "见附件").part(
        "file",
        Part::bytes(bytes.clone())
            .file_name("申请文件.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let a = upload_form(&app, "d220102", &case, both).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["sha256"], sha256_hex(&bytes));
}
on_each_backend!(an_upload_without_a_file_field_is_malformed);

async fn only_those_who_see_the_case_reach_its_attachments(backend: Backend) {
    let app = spawn_app(backend).await;
    let case = app.drafted("南关区实验区申报(权限)").await;
    let bytes = pdf(600);
    let up = upload(
        &app,
        "d220102",
        &case,
        "申请文件.pdf",
        "application/pdf",
        &bytes,
    )
    .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let aid = up.body["id"].as_str().unwrap().to_owned();

    // Outsiders: a district of another city (昌邑区 under 吉林市), a sibling district, another
    // city, an expert who is not assigned. The case does not exist for them.
    for who in ["d220202", "d220103", "c220200", "ccbs", "expert01"] {
        let a = upload(&app, who, &case, "x.pdf", "application/pdf", &pdf(300)).await;
        a.assert_problem(404, "case_not_found");
        download(&app, who, &case, &aid)
            .await
            .assert_problem(404, "case_not_found");
        app.get(who, &format!("/api/v1/cases/{case}/attachments"))
            .await
            .assert_problem(404, "case_not_found");
        // Nor does an unknown attachment reveal anything more.
        download(&app, who, &case, "00000000-0000-0000-0000-000000000000")
            .await
            .assert_problem(404, "case_not_found");
    }
    assert_eq!(stored_files(&app).len(), 1);
    assert_eq!(listed(&app, "admin", &case).await.len(), 1);

    // The city above and the province may read it.
    for who in ["c220100", "admin"] {
        let got = download(&app, who, &case, &aid).await;
        assert_eq!(got.status, 200, "{who}");
        assert_eq!(got.bytes, bytes, "{who}");
        assert_eq!(listed(&app, who, &case).await.len(), 1, "{who}");
    }
    // The city may also add one.
    let city = upload(
        &app,
        "c220100",
        &case,
        "审核意见.pdf",
        "application/pdf",
        &pdf(300),
    )
    .await;
    assert_eq!(city.status, 201, "{}", city.text);
    assert_eq!(city.body["uploaded_by"], "c220100");

    // Unknown attachment ids on a visible case.
    for missing in ["00000000-0000-0000-0000-000000000000", "nonsense"] {
        download(&app, "d220102", &case, missing)
            .await
            .assert_problem(404, "attachment_not_found");
    }
    // An attachment of another visible case is not found under this one.
    let other = app.drafted("南关区另一实验区申报").await;
    download(&app, "d220102", &other, &aid)
        .await
        .assert_problem(404, "attachment_not_found");
    assert!(listed(&app, "d220102", &other).await.is_empty());
    // An unknown case.
    download(
        &app,
        "d220102",
        "00000000-0000-0000-0000-000000000000",
        &aid,
    )
    .await
    .assert_problem(404, "case_not_found");
    let a = upload(
        &app,
        "d220102",
        "00000000-0000-0000-0000-000000000000",
        "x.pdf",
        "application/pdf",
        &pdf(300),
    )
    .await;
    a.assert_problem(404, "case_not_found");
}
on_each_backend!(only_those_who_see_the_case_reach_its_attachments);

async fn an_assigned_expert_reads_attachments_but_does_not_add_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let case = app
        .in_expert_review("南关区实验区申报(专家)", &["expert04"])
        .await;
    let bytes = pdf(700);
    let up = upload(
        &app,
        "d220102",
        &case,
        "申请文件.pdf",
        "application/pdf",
        &bytes,
    )
    .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let aid = up.body["id"].as_str().unwrap().to_owned();

    // The assigned expert reads but may not add; another expert does not see the case.
    let got = download(&app, "expert04", &case, &aid).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, bytes);
    assert_eq!(listed(&app, "expert04", &case).await.len(), 1);
    upload(
        &app,
        "expert04",
        &case,
        "意见.pdf",
        "application/pdf",
        &pdf(300),
    )
    .await
    .assert_problem(403, "forbidden");
    download(&app, "expert05", &case, &aid)
        .await
        .assert_problem(404, "case_not_found");
    assert_eq!(stored_files(&app).len(), 1);
}
on_each_backend!(an_assigned_expert_reads_attachments_but_does_not_add_them);
