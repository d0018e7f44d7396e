//! A real SMTP server for the reminder tests.

use super::repo_root;
use std::path::PathBuf;

/// A real SMTP server for one test: aiosmtpd (installed from PyPI by `scripts/test` into
/// `target/test-tools`), writing what it receives to a maildir. It can be stopped and started
/// again on the same port, to take mail away and bring it back.
pub struct SmtpCapture {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

/// One received mail, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
}

fn python() -> PathBuf {
    std::env::var_os("PF_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/test-tools/bin/python"))
}

impl SmtpCapture {
    /// A port with nothing listening yet (`start` brings the server up on it).
    pub fn reserve() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        Self {
            port,
            dir: tempfile::tempdir().expect("maildir"),
            child: None,
        }
    }

    pub async fn start_new() -> Self {
        let mut smtp = Self::reserve();
        smtp.start().await;
        smtp
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub async fn start(&mut self) {
        let child = std::process::Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-u", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.dir.path().join("maildir"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("aiosmtpd starts (scripts/test installs it into target/test-tools)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not start on port {}", self.port);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every mail received so far.
    pub fn mails(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.dir.path().join("maildir").join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let raw = std::fs::read(entry.path()).expect("mail file");
                let msg = mail_parser::MessageParser::default()
                    .parse(&raw)
                    .expect("a parsable mail");
                let to = msg
                    .to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .unwrap_or("")
                    .to_owned();
                out.push(Mail {
                    to,
                    subject: msg.subject().unwrap_or("").to_owned(),
                    text: msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                    html: msg.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
                    message_id: msg.message_id().unwrap_or("").to_owned(),
                });
            }
        }
        out
    }
}

impl Drop for SmtpCapture {
    fn drop(&mut self) {
        self.stop();
    }
}
