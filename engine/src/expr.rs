//! Guards and computed values are CEL expressions (the `cel` crate), compiled once when a
//! definition is loaded and evaluated against a case context on every action.

use chrono::{DateTime, FixedOffset, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::BTreeSet;
use std::sync::Arc;

pub use cel::Value as CelValue;

/// Names every expression may use besides the definition's own variables.
pub const BUILTIN_NAMES: &[&str] = &[
    "now",
    "input",
    "forms",
    "unit",
    "deadlines",
    "assigned",
    "collected",
    "state",
];

/// Functions Pilotflow adds to CEL; date arithmetic happens in the definition's timezone.
pub const EXTRA_FUNCTIONS: &[&str] = &[
    "add_years",
    "add_months",
    "add_days",
    "end_of_day",
    "date",
    "text_chars",
];

/// CEL's standard functions and macros (operators are internal names starting with `_`).
pub const CEL_FUNCTIONS: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "timestamp",
    "duration",
    "type",
    "dyn",
    "max",
    "min",
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
    "optional",
    "or",
    "orValue",
    "hasValue",
    "value",
];

pub fn is_known_function(name: &str) -> bool {
    name.starts_with('_')
        || name.ends_with('_')
        || name.contains('@')
        || name.contains('.')
        || EXTRA_FUNCTIONS.contains(&name)
        || CEL_FUNCTIONS.contains(&name)
}

/// A compiled expression with the top-level names it reads.
pub struct Expr {
    pub source: String,
    program: cel::Program,
    names: Vec<String>,
    functions: Vec<String>,
    /// The saved forms it reads as `forms.<name>`; `None` when it uses `forms` any other way.
    forms_read: Option<BTreeSet<String>>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expr").field(&self.source).finish()
    }
}

impl Expr {
    pub fn compile(source: &str) -> Result<Self, String> {
        let program = std::panic::catch_unwind(|| cel::Program::compile(source))
            .map_err(|_| "the expression could not be parsed".to_owned())?
            .map_err(|e| parse_error_text(&e.to_string()))?;
        let refs = program.references();
        let names = refs.variables().into_iter().map(str::to_owned).collect();
        let functions = refs.functions().into_iter().map(str::to_owned).collect();
        let mut forms = BTreeSet::new();
        let forms_read = forms_named(program.expression(), &mut forms).then_some(forms);
        Ok(Self {
            source: source.to_owned(),
            program,
            names,
            functions,
            forms_read,
        })
    }

    /// Top-level identifiers the expression reads.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether the expression reads saved form `name` (converting a form to CEL is costly, so a
    /// command converts only the forms its expressions read).
    pub fn reads_form(&self, name: &str) -> bool {
        self.reads("forms") && self.forms_read.as_ref().is_none_or(|f| f.contains(name))
    }

    /// Functions and methods the expression calls.
    pub fn functions(&self) -> &[String] {
        &self.functions
    }

    pub fn reads(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    pub fn uses_function(&self, name: &str) -> bool {
        self.functions.iter().any(|n| n == name)
    }

    pub fn eval(&self, ctx: &cel::Context) -> Result<CelValue, String> {
        self.program
            .execute(ctx)
            .map_err(|e| format!("`{}`: {e}", self.source))
    }
}

/// Collects `x` of every `forms.x`; false when `forms` is used in any other way.
fn forms_named(e: &cel::common::ast::IdedExpr, out: &mut BTreeSet<String>) -> bool {
    use cel::common::ast::{EntryExpr, Expr as Ast};
    let entry =
        |entry: &cel::common::ast::IdedEntryExpr, out: &mut BTreeSet<String>| match &entry.expr {
            EntryExpr::MapEntry(m) => forms_named(&m.key, out) && forms_named(&m.value, out),
            EntryExpr::StructField(f) => forms_named(&f.value, out),
        };
    match &e.expr {
        Ast::Select(s) => match &s.operand.expr {
            Ast::Ident(root) if root == "forms" => {
                out.insert(s.field.clone());
                true
            }
            _ => forms_named(&s.operand, out),
        },
        Ast::Ident(name) => name != "forms",
        Ast::Call(c) => {
            c.target.as_deref().is_none_or(|t| forms_named(t, out))
                && c.args.iter().all(|a| forms_named(a, out))
        }
        Ast::Comprehension(c) => [
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ]
        .into_iter()
        .all(|x| forms_named(x, out)),
        Ast::List(l) => l.elements.iter().all(|x| forms_named(x, out)),
        Ast::Map(m) => m.entries.iter().all(|x| entry(x, out)),
        Ast::Struct(s) => s.entries.iter().all(|x| entry(x, out)),
        Ast::Literal(_) | Ast::Unspecified => true,
    }
}

/// CEL's parse error without its ASCII-art pointer, the position as a character offset.
fn parse_error_text(raw: &str) -> String {
    let first = raw.lines().next().unwrap_or(raw).trim();
    let first = first.strip_prefix("ERROR: ").unwrap_or(first);
    let Some(rest) = first.strip_prefix("<input>:") else {
        return first.to_owned();
    };
    let mut parts = rest.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_line), Some(column), Some(message)) => {
            format!("at character {}: {}", column.trim(), message.trim())
        }
        _ => first.to_owned(),
    }
}

/// A CEL context with those of Pilotflow's functions that `wanted` says are called, bound to
/// a timezone (registering all of them on every command is a measurable share of its cost).
pub fn new_context(tz: Tz, wanted: impl Fn(&str) -> bool) -> cel::Context<'static, 'static> {
    // The standard library is the same for every evaluation; building it costs tens of µs.
    static STDLIB: std::sync::OnceLock<Arc<cel::Env>> = std::sync::OnceLock::new();
    let env = STDLIB.get_or_init(|| Arc::new(cel::Env::stdlib()));
    let mut ctx = cel::Context::with_env(Arc::clone(env));
    // The names are fixed and do not clash with CEL's standard library.
    if wanted("add_years") {
        let _ = ctx.add_function(
            "add_years",
            move |ts: DateTime<FixedOffset>, n: i64| -> Result<CelValue, cel::ExecutionError> {
                shift_months(tz, ts, n.saturating_mul(12)).map(CelValue::Timestamp)
            },
        );
    }
    if wanted("add_months") {
        let _ = ctx.add_function(
            "add_months",
            move |ts: DateTime<FixedOffset>, n: i64| -> Result<CelValue, cel::ExecutionError> {
                shift_months(tz, ts, n).map(CelValue::Timestamp)
            },
        );
    }
    if wanted("add_days") {
        let _ = ctx.add_function(
            "add_days",
            move |ts: DateTime<FixedOffset>, n: i64| -> Result<CelValue, cel::ExecutionError> {
                ts.checked_add_signed(chrono::Duration::days(n))
                    .map(CelValue::Timestamp)
                    .ok_or_else(|| cel::ExecutionError::function_error("add_days", "out of range"))
            },
        );
    }
    if wanted("end_of_day") {
        let _ = ctx.add_function(
            "end_of_day",
            move |ts: DateTime<FixedOffset>| -> Result<CelValue, cel::ExecutionError> {
                let day = ts.with_timezone(&tz).date_naive();
                end_of_local_day(tz, day)
                    .map(|t| CelValue::Timestamp(t.fixed_offset()))
                    .ok_or_else(|| {
                        cel::ExecutionError::function_error("end_of_day", "no such time")
                    })
            },
        );
    }
    if wanted("date") {
        let _ = ctx.add_function(
            "date",
            move |s: Arc<String>| -> Result<CelValue, cel::ExecutionError> {
                let day = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|e| cel::ExecutionError::function_error("date", e))?;
                tz.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
                    .earliest()
                    .map(|t| CelValue::Timestamp(t.fixed_offset()))
                    .ok_or_else(|| cel::ExecutionError::function_error("date", "no such time"))
            },
        );
    }
    if wanted("text_chars") {
        let _ = ctx.add_function("text_chars", |v: CelValue| -> i64 {
            count_text_chars_cel(&v)
        });
    }
    ctx
}

fn shift_months(
    tz: Tz,
    ts: DateTime<FixedOffset>,
    n: i64,
) -> Result<DateTime<FixedOffset>, cel::ExecutionError> {
    let local = ts.with_timezone(&tz);
    let months = Months::new(u32::try_from(n.unsigned_abs()).unwrap_or(u32::MAX));
    let shifted = if n >= 0 {
        local.checked_add_months(months)
    } else {
        local.checked_sub_months(months)
    };
    shifted
        .map(|t| t.fixed_offset())
        .ok_or_else(|| cel::ExecutionError::function_error("add_months", "out of range"))
}

/// 23:59:59 of `day` in `tz`, as UTC.
pub fn end_of_local_day(tz: Tz, day: NaiveDate) -> Option<DateTime<Utc>> {
    let t = day.and_hms_opt(23, 59, 59)?;
    tz.from_local_datetime(&t)
        .latest()
        .map(|t| t.with_timezone(&Utc))
}

/// Unicode characters of every string inside a JSON value, whitespace excluded, counted until
/// `enough` is reached (the answer is then at least `enough`; below it, the whole count): a
/// minimum check need not read a long plan to its end.
pub fn count_text_chars_up_to(v: &serde_json::Value, enough: i64) -> i64 {
    match v {
        serde_json::Value::String(s) => non_blank_chars(s),
        serde_json::Value::Array(items) => sum_up_to(items.iter(), enough),
        serde_json::Value::Object(map) => sum_up_to(map.values(), enough),
        _ => 0,
    }
}

fn sum_up_to<'v>(values: impl Iterator<Item = &'v serde_json::Value>, enough: i64) -> i64 {
    let mut n: i64 = 0;
    for v in values {
        n = n.saturating_add(count_text_chars_up_to(v, enough.saturating_sub(n)));
        if n >= enough {
            break;
        }
    }
    n
}

fn count_text_chars_cel(v: &CelValue) -> i64 {
    match v {
        CelValue::String(s) => non_blank_chars(s),
        CelValue::List(items) => items.iter().map(count_text_chars_cel).sum(),
        CelValue::Map(map) => map.map.values().map(count_text_chars_cel).sum(),
        _ => 0,
    }
}

/// `s.chars().filter(|c| !c.is_whitespace()).count()`, counted on the bytes: decoding every
/// character of a plan took a few percent of a deadline burst's CPU. Every character has one
/// byte that is not a continuation byte (0x80..=0xBF); every white space beyond ASCII starts
/// with one of four bytes, so only characters starting so are decoded.
pub fn non_blank_chars(s: &str) -> i64 {
    let bytes = s.as_bytes();
    // std counts the bytes that are not continuation bytes, many at a time.
    let chars = s.chars().count();
    let ascii_blanks = bytes
        .iter()
        .filter(|&&b| matches!(b, b'\t'..=b'\r' | b' '))
        .count();
    let wide_blanks = bytes
        .iter()
        .enumerate()
        .filter(|&(i, b)| {
            matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3)
                && s.get(i..)
                    .is_some_and(|rest| rest.starts_with(char::is_whitespace))
        })
        .count();
    i64::try_from(chars - ascii_blanks - wide_blanks).unwrap_or(i64::MAX)
}

/// JSON to CEL. Whole numbers become CEL `int` (not `uint`), so that form values and
/// variables add up without casts.
pub fn json_to_cel(v: &serde_json::Value) -> CelValue {
    match v {
        serde_json::Value::Null => CelValue::Null,
        serde_json::Value::Bool(b) => CelValue::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => CelValue::Int(i),
            (None, Some(u)) => CelValue::UInt(u),
            _ => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => CelValue::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            CelValue::List(Arc::new(items.iter().map(json_to_cel).collect()))
        }
        serde_json::Value::Object(map) => {
            let entries: std::collections::HashMap<cel::objects::Key, CelValue> = map
                .iter()
                .map(|(k, v)| (cel::objects::Key::from(k.as_str()), json_to_cel(v)))
                .collect();
            CelValue::Map(cel::objects::Map {
                map: Arc::new(entries),
            })
        }
    }
}

pub fn timestamp(t: DateTime<Utc>) -> CelValue {
    CelValue::Timestamp(t.fixed_offset())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{Expr, count_text_chars_up_to, non_blank_chars};
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn forms_read_by_name_are_known_and_anything_else_means_all() {
        let named = Expr::compile(
            "has(forms.application.city_level_project) && forms.application.city_level_project",
        )
        .unwrap();
        assert!(named.reads_form("application"));
        assert!(!named.reads_form("experiment_plan"));

        let in_call = Expr::compile("text_chars(forms.experiment_plan.sections) > 3000").unwrap();
        assert!(in_call.reads_form("experiment_plan"));
        assert!(!in_call.reads_form("application"));

        let dynamic = Expr::compile("forms[input.form] != null").unwrap();
        assert!(dynamic.reads_form("application") && dynamic.reads_form("final_report"));

        let whole = Expr::compile("size(forms) > 0").unwrap();
        assert!(whole.reads_form("experiment_plan"));

        let none = Expr::compile("now > deadlines.application_cutoff").unwrap();
        assert!(!none.reads_form("application"));
    }

    /// Text drawn from where the byte counting could go wrong: ASCII and wide white space
    /// (every one `char::is_whitespace` knows), CJK text and punctuation sharing their first
    /// bytes (U+3001 starts like U+3000, U+2010 like U+2000), and four-byte characters.
    fn text() -> impl Strategy<Value = String> {
        let tricky = prop::sample::select(vec![
            ' ',
            '\t',
            '\n',
            '\u{0B}',
            '\u{0C}',
            '\r',
            '\u{85}',
            '\u{A0}',
            '\u{1680}',
            '\u{2000}',
            '\u{200A}',
            '\u{200B}',
            '\u{2010}',
            '\u{2028}',
            '\u{2029}',
            '\u{202F}',
            '\u{205F}',
            '\u{3000}',
            '\u{3001}',
            '\u{300C}',
            'a',
            'é',
            '试',
            '点',
            '\u{1F600}',
            '\u{C2}',
            '\u{E1}',
            '\u{E3}',
        ]);
        prop::collection::vec(prop_oneof![tricky, any::<char>()], 0..64)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn counting_on_the_bytes_agrees_with_decoding_every_character(s in text()) {
            let decoded = s.chars().filter(|c| !c.is_whitespace()).count() as i64;
            prop_assert_eq!(non_blank_chars(&s), decoded);
        }

        #[test]
        fn counting_up_to_a_minimum_stops_only_once_it_is_reached(
            parts in prop::collection::vec(text(), 0..6),
            enough in 0i64..200,
        ) {
            let whole: i64 = parts.iter().map(|p| non_blank_chars(p)).sum();
            let doc = json!({"sections": parts.iter().map(|p| json!({"body": p, "n": 3})).collect::<Vec<_>>()});
            let counted = count_text_chars_up_to(&doc, enough);
            prop_assert_eq!(count_text_chars_up_to(&doc, i64::MAX), whole);
            if whole < enough {
                prop_assert_eq!(counted, whole);
            } else {
                prop_assert!(counted >= enough && counted <= whole);
            }
        }
    }
}
