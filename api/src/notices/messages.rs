//! What reminders and overdue notices say: composed in Chinese from the facts a notice row
//! keeps (its subject and text are not stored), as text and as the HTML part of a mail.

use crate::config::Settings;
use crate::context::Context;
use crate::store::DbErr;
use crate::store::entities::{case_deadline, notification};
use crate::support::days_left;
use pilotflow_engine::deadline::{self, Notice};
use std::collections::{BTreeSet, HashMap};

/// What a mail and an in-app notice say.
pub struct Message {
    pub subject: String,
    pub text: String,
}

/// Which of the two notices a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Reminder,
    Overdue,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reminder => "reminder",
            Self::Overdue => "overdue",
        }
    }

    pub(crate) fn of(notice: Notice) -> Self {
        match notice {
            Notice::Reminder { .. } => Self::Reminder,
            Notice::Overdue => Self::Overdue,
        }
    }

    /// A stored `kind`: anything but `overdue` reads as a reminder.
    fn stored(kind: &str) -> Self {
        if kind == Self::Overdue.as_str() {
            Self::Overdue
        } else {
            Self::Reminder
        }
    }
}

/// The facts a notice is composed from.
pub struct NoticeFacts<'a> {
    pub kind: NoticeKind,
    pub recipient_name: &'a str,
    pub case_title: &'a str,
    pub unit_name: &'a str,
    pub label: &'a str,
    pub due_local: &'a str,
    pub days_left: i64,
    pub link: &'a str,
}

/// The Chinese text of a reminder or an overdue notice.
pub fn compose(f: &NoticeFacts<'_>) -> Message {
    let (subject, lead) = match f.kind {
        NoticeKind::Reminder => {
            let left = if f.days_left <= 0 {
                "今天截止".to_owned()
            } else {
                format!("还有 {} 天截止", f.days_left)
            };
            (
                format!("【试点工作提醒】{}:{}{}", f.case_title, f.label, left),
                format!(
                    "{}的「{}」:{}将于 {}(北京时间)截止,{}。请在截止前办理。",
                    f.unit_name, f.case_title, f.label, f.due_local, left
                ),
            )
        }
        NoticeKind::Overdue => (
            format!("【逾期督办】{}:{}已逾期", f.case_title, f.label),
            format!(
                "{}的「{}」:{}已于 {}(北京时间)截止,至今尚未办理,请督促落实。",
                f.unit_name, f.case_title, f.label, f.due_local
            ),
        ),
    };
    let footer = "此邮件由试点工作平台(Pilotflow)自动发送,请勿直接回复。";
    let text = format!(
        "{}:\n\n{}\n\n{LINK_LEAD}{}\n\n{}\n",
        f.recipient_name, lead, f.link, footer
    );
    Message { subject, text }
}

const LINK_LEAD: &str = "办理入口:";

/// The HTML part of a notice's mail: its text paragraph by paragraph, the link clickable.
pub fn html_body(subject: &str, text: &str, link: &str) -> String {
    let e = |s: &str| html_escape::encode_text(s).into_owned();
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>\
         </head><body>",
        e(subject)
    );
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if paragraph.starts_with(LINK_LEAD) {
            html.push_str(&format!(
                "<p>{LINK_LEAD}<a href=\"{}\">{}</a></p>",
                html_escape::encode_double_quoted_attribute(link),
                e(link)
            ));
        } else {
            html.push_str(&format!("<p>{}</p>", e(paragraph)));
        }
    }
    html.push_str("</body></html>");
    html
}

/// Where people open a case (links in mail and in the calendar feed): its page in the web
/// application.
pub fn case_link(settings: &Settings, case_id: &str) -> String {
    settings.public_link(&format!("/cases/{case_id}"))
}

/// The subject and text of stored notices, in order: composed from each row's facts, its
/// deadline's row (title, label, unit), the recipient's name and the workflow's time zone.
pub async fn render(ctx: &Context, rows: &[notification::Model]) -> Result<Vec<Message>, DbErr> {
    let case_ids: BTreeSet<&str> = rows.iter().map(|r| r.case_id.as_str()).collect();
    let names: BTreeSet<&str> = rows.iter().map(|r| r.username.as_str()).collect();
    let deadlines: HashMap<(String, String), case_deadline::Model> = ctx
        .store
        .deadlines_of_cases(case_ids)
        .await?
        .into_iter()
        .map(|d| ((d.case_id.clone(), d.name.clone()), d))
        .collect();
    let people: HashMap<String, String> = ctx
        .store
        .users_named(names)
        .await?
        .into_iter()
        .map(|u| (u.username, u.display_name))
        .collect();
    let units = ctx.units();
    Ok(rows
        .iter()
        .map(|n| {
            let deadline = deadlines.get(&(n.case_id.clone(), n.deadline.clone()));
            let tz = deadline
                .and_then(|d| ctx.registry.current(&d.workflow_key))
                .map_or(chrono_tz::Asia::Shanghai, |wf| wf.def.timezone);
            let link = case_link(&ctx.settings, &n.case_id);
            compose(&NoticeFacts {
                kind: NoticeKind::stored(&n.kind),
                recipient_name: people.get(&n.username).unwrap_or(&n.username),
                case_title: deadline.map_or(n.case_id.as_str(), |d| d.case_title.as_str()),
                unit_name: &deadline
                    .map(|d| units.name(&d.org_unit))
                    .unwrap_or_default(),
                label: deadline.map_or(n.deadline.as_str(), |d| d.label.as_str()),
                due_local: &deadline::local_text(tz, n.due),
                days_left: days_left(n.due, n.created_at),
                link: &link,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(kind: NoticeKind, title: &'a str, days_left: i64) -> NoticeFacts<'a> {
        NoticeFacts {
            kind,
            recipient_name: "南关区民政局",
            case_title: title,
            unit_name: "南关区",
            label: "年度申报截止(市州报省)",
            due_local: "2026-09-30 23:59:59",
            days_left,
            link: "https://pf.example/api/v1/cases/c1?a=1&b=2",
        }
    }

    #[test]
    fn a_reminder_names_the_case_unit_due_time_and_days_left() {
        let m = compose(&facts(NoticeKind::Reminder, "南关区申报", 6));
        assert_eq!(
            m.subject,
            "【试点工作提醒】南关区申报:年度申报截止(市州报省)还有 6 天截止"
        );
        assert!(
            m.text
                .starts_with("南关区民政局:\n\n南关区的「南关区申报」"),
            "{}",
            m.text
        );
        assert!(
            m.text.contains("2026-09-30 23:59:59(北京时间)"),
            "{}",
            m.text
        );
        let today = compose(&facts(NoticeKind::Reminder, "南关区申报", 0));
        assert!(today.subject.ends_with("今天截止"), "{}", today.subject);
        let late = compose(&facts(NoticeKind::Overdue, "南关区申报", -1));
        assert_eq!(
            late.subject,
            "【逾期督办】南关区申报:年度申报截止(市州报省)已逾期"
        );
    }

    #[test]
    fn the_html_part_escapes_what_people_typed() {
        let m = compose(&facts(NoticeKind::Overdue, "<script>alert(1)</script>", -1));
        let html = html_body(
            &m.subject,
            &m.text,
            "https://pf.example/api/v1/cases/c1?a=1&b=2",
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains("<a href=\"https://pf.example/api/v1/cases/c1?a=1&amp;b=2\">"),
            "{html}"
        );
    }
}
