//! Attachments: streamed to a temporary file under the data directory while their SHA-256 is
//! computed and their size checked, then kept under a generated name if their *content* is one
//! of the allowed types (PDF, DOC/DOCX, XLS/XLSX, OFD, JPG, PNG).

use crate::context::Context;
use crate::error::{ApiError, ErrorCode};
use crate::identity::Caller;
use crate::store::entities::attachment;
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

/// How much of the beginning of a file is kept for recognising its type.
const HEAD_LEN: usize = 8192;

/// The multipart body of an upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Upload {
    /// The file.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachmentInfo {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The allowed kinds, recognised by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Doc,
    Docx,
    Xls,
    Xlsx,
    Ofd,
    Jpeg,
    Png,
}

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Doc => "application/msword",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xls => "application/vnd.ms-excel",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Ofd => "application/ofd",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }
}

/// What the content is, judged from its beginning (at least the first 8 KiB when available).
pub fn sniff(head: &[u8]) -> Option<Kind> {
    // OFD (GB/T 33190) is a ZIP package whose root document is `OFD.xml`; look for that entry
    // before infer's generic ZIP handling.
    if head.starts_with(b"PK\x03\x04") && contains(head, b"OFD.xml") {
        return Some(Kind::Ofd);
    }
    let kind = infer::get(head)?;
    match kind.mime_type() {
        "application/pdf" => Some(Kind::Pdf),
        "application/msword" => Some(Kind::Doc),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
            Some(Kind::Docx)
        }
        "application/vnd.ms-excel" => Some(Kind::Xls),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(Kind::Xlsx),
        "image/jpeg" => Some(Kind::Jpeg),
        "image/png" => Some(Kind::Png),
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A file name safe to echo back in `Content-Disposition`: no path, no control characters.
pub fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        "attachment".to_owned()
    } else {
        cleaned
    }
}

pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("文件超过大小上限({})", human_size(limit)),
        format!("the file is larger than the limit of {limit} bytes"),
    )
    .with("limit_bytes", limit)
}

/// A size for people: "50 MB", "1.5 MB", "800 KB", "12 字节".
fn human_size(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    let b = bytes as f64;
    if b >= MB {
        format!("{} MB", trim_decimal(b / MB))
    } else if bytes >= 1024 {
        format!("{} KB", trim_decimal(b / 1024.0))
    } else {
        format!("{bytes} 字节")
    }
}

fn trim_decimal(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

fn not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::FileTypeNotAllowed,
        "只能上传 PDF、Word(DOC/DOCX)、Excel(XLS/XLSX)、OFD、JPG 或 PNG 文件(按文件内容判断,而非扩展名)",
        "only PDF, DOC/DOCX, XLS/XLSX, OFD, JPG and PNG files are accepted, judged by content",
    )
}

/// The refusal of an upload without a `file` field.
pub fn no_file() -> ApiError {
    ApiError::new(
        ErrorCode::MalformedRequest,
        "请以 multipart/form-data 上传,文件字段名为 file",
        "send multipart/form-data with the file in a field named `file`",
    )
}

fn info(row: attachment::Model) -> AttachmentInfo {
    AttachmentInfo {
        id: row.id,
        filename: row.filename,
        content_type: row.content_type,
        size: row.size,
        sha256: row.sha256,
        uploaded_by: row.uploaded_by,
        created_at: row.created_at,
    }
}

/// Removes the temporary file unless the upload is kept.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

struct Received {
    size: u64,
    sha256: String,
    head: Vec<u8>,
}

async fn stream_to<B: AsRef<[u8]>, E>(
    chunks: &mut (impl Stream<Item = Result<B, E>> + Unpin),
    path: &Path,
    limit: u64,
) -> Result<Received, ApiError> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut head = Vec::with_capacity(HEAD_LEN);
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| no_file())?;
        let chunk = chunk.as_ref();
        size += chunk.len() as u64;
        if size > limit {
            return Err(too_large(limit));
        }
        if head.len() < HEAD_LEN {
            let take = (HEAD_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(chunk);
        file.write_all(chunk).await.map_err(ApiError::internal)?;
    }
    file.sync_all().await.map_err(ApiError::internal)?;
    Ok(Received {
        size,
        sha256: hex::encode(hasher.finalize()),
        head,
    })
}

/// Receives an uploaded file (`chunks`, named `raw_filename` by the client) and records it
/// for the case: kept only if its content is of an allowed kind and within the size limit.
pub async fn receive<B: AsRef<[u8]>, E>(
    ctx: &Context,
    caller: &Caller,
    case_id: &str,
    raw_filename: &str,
    mut chunks: impl Stream<Item = Result<B, E>> + Unpin,
) -> Result<AttachmentInfo, ApiError> {
    let dir = ctx.settings.attachments_dir();
    tokio::fs::create_dir_all(dir.join("tmp"))
        .await
        .map_err(ApiError::internal)?;
    let filename = clean_filename(raw_filename);
    let id = uuid::Uuid::new_v4().to_string();
    let tmp_path = dir.join("tmp").join(&id);
    let mut tmp = TempFile(Some(tmp_path.clone()));
    let received = stream_to(&mut chunks, &tmp_path, ctx.settings.max_upload_bytes).await?;
    let kind = sniff(&received.head).ok_or_else(not_allowed)?;
    let stored_name = id.clone();
    tokio::fs::rename(&tmp_path, dir.join(&stored_name))
        .await
        .map_err(ApiError::internal)?;
    tmp.0 = None;
    let row = attachment::Model {
        id,
        case_id: case_id.to_owned(),
        filename,
        content_type: kind.content_type().to_owned(),
        size: received.size as i64,
        sha256: received.sha256,
        stored_name: stored_name.clone(),
        uploaded_by: caller.username.clone(),
        created_at: ctx.clock.now(),
    };
    match ctx.store.insert_attachment(row.clone()).await {
        Ok(()) => Ok(info(row)),
        Err(e) => {
            let _ = tokio::fs::remove_file(dir.join(&stored_name)).await;
            Err(e.into())
        }
    }
}

pub async fn list(ctx: &Context, case_id: &str) -> Result<Vec<AttachmentInfo>, ApiError> {
    Ok(ctx
        .store
        .attachments_of(case_id)
        .await?
        .into_iter()
        .map(info)
        .collect())
}

pub async fn read(
    ctx: &Context,
    case_id: &str,
    id: &str,
) -> Result<(attachment::Model, Vec<u8>), ApiError> {
    let missing = || {
        ApiError::new(
            ErrorCode::AttachmentNotFound,
            "附件不存在",
            "no such attachment",
        )
    };
    let row = ctx
        .store
        .attachment(id)
        .await?
        .filter(|r| r.case_id == case_id)
        .ok_or_else(missing)?;
    let bytes = tokio::fs::read(ctx.settings.attachments_dir().join(&row.stored_name))
        .await
        .map_err(ApiError::internal)?;
    Ok((row, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_allowed_kinds_by_content() {
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
            Some(Kind::Pdf)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0"),
            Some(Kind::Png)
        );
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01"), Some(Kind::Jpeg));
        let mut ofd = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
        ofd.extend_from_slice(&[0; 16]);
        ofd.extend_from_slice(b"OFD.xml");
        assert_eq!(sniff(&ofd), Some(Kind::Ofd));
    }

    #[test]
    fn refuses_disguised_and_unknown_content() {
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"), None);
        assert_eq!(sniff(b"#!/bin/sh\necho hi\n"), None);
        assert_eq!(sniff(b"plain text pretending to be a PDF"), None);
    }

    #[test]
    fn limits_read_well_in_chinese_messages() {
        assert_eq!(human_size(50 * 1024 * 1024), "50 MB");
        assert_eq!(human_size(1536 * 1024), "1.5 MB");
        assert_eq!(human_size(1024), "1 KB");
        assert_eq!(human_size(800), "800 字节");
    }

    #[test]
    fn file_names_lose_their_paths() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\docs\\申请文件.pdf"), "申请文件.pdf");
        assert_eq!(clean_filename("a\nb.pdf"), "ab.pdf");
        assert_eq!(clean_filename(""), "attachment");
    }
}
