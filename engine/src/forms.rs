//! Form schemas (JSON Schema draft 2020-12) and the errors people see when a document fails them.

use crate::expr::count_text_chars_up_to;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Keyword, ValidationError, Validator};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";
/// Custom keyword: the minimum number of non-whitespace Unicode characters over every string
/// inside the value (the experiment plan's 3,000 characters across its four sections).
pub const MIN_TEXT_CHARS: &str = "x-minTextChars";

/// One problem in a submitted document: where (a JSON Pointer into it) and what, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub pointer: String,
    /// Chinese, naming the field by its schema title.
    pub message: String,
    /// English, for integrators and `Accept-Language: en`.
    pub message_en: String,
}

/// A compiled form schema.
pub struct FormSchema {
    pub path: String,
    pub document: Value,
    validator: Validator,
}

impl std::fmt::Debug for FormSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormSchema")
            .field("path", &self.path)
            .finish()
    }
}

impl FormSchema {
    /// Checks the document is a draft 2020-12 schema and compiles it.
    pub fn compile(path: &str, document: Value) -> Result<Self, Vec<String>> {
        let declared = document.get("$schema").and_then(Value::as_str);
        if declared != Some(DRAFT_2020_12) {
            return Err(vec![format!(
                "schema `{path}` must declare \"$schema\": \"{DRAFT_2020_12}\" (found {})",
                declared.map_or("nothing".to_owned(), |d| format!("\"{d}\""))
            )]);
        }
        let meta_errors: Vec<String> = match jsonschema::draft202012::meta::validate(&document) {
            Ok(()) => Vec::new(),
            Err(e) => vec![format!(
                "schema `{path}` is not a valid draft 2020-12 schema at {}: {e}",
                pointer_or_root(e.instance_path().as_str())
            )],
        };
        if !meta_errors.is_empty() {
            return Err(meta_errors);
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_keyword(MIN_TEXT_CHARS, min_text_chars_factory)
            .build(&document)
            .map_err(|e| vec![format!("schema `{path}` cannot be compiled: {e}")])?;
        Ok(Self {
            path: path.to_owned(),
            document,
            validator,
        })
    }

    pub fn title(&self) -> &str {
        self.document
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or(&self.path)
    }

    pub fn is_valid(&self, instance: &Value) -> bool {
        self.validator.is_valid(instance)
    }

    /// Every error, each as a pointer into `instance` and a message naming the field.
    pub fn errors(&self, instance: &Value) -> Vec<FieldError> {
        let mut out = Vec::new();
        for error in self.validator.iter_errors(instance) {
            self.describe(&error, &mut out);
        }
        out
    }

    fn describe(&self, error: &ValidationError<'_>, out: &mut Vec<FieldError>) {
        let pointer = error.instance_path().as_str().to_owned();
        let schema_path = error.schema_path().as_str();
        // The schema node that holds the failing keyword.
        let node_path = schema_path
            .rsplit_once('/')
            .map_or("", |(parent, _)| parent);
        let node = self.document.pointer(node_path);
        let title = field_title(node, &pointer);
        let english = error.to_string();
        let message = match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let child = node
                    .and_then(|n| n.get("properties"))
                    .and_then(|p| p.get(name));
                let child_pointer = format!("{pointer}/{}", escape_pointer(name));
                out.push(FieldError {
                    message: format!("「{}」为必填项", field_title(child, &child_pointer)),
                    pointer: child_pointer,
                    message_en: english,
                });
                return;
            }
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                for name in unexpected {
                    out.push(FieldError {
                        pointer: format!("{pointer}/{}", escape_pointer(name)),
                        message: format!("「{title}」中不允许出现字段「{name}」"),
                        message_en: format!("unexpected property `{name}`"),
                    });
                }
                return;
            }
            ValidationErrorKind::Type { kind } => {
                format!("「{title}」应为{}", type_names_zh(kind))
            }
            ValidationErrorKind::MinLength { limit } => {
                format!("「{title}」至少需要 {limit} 个字符")
            }
            ValidationErrorKind::MaxLength { limit } => {
                format!("「{title}」不能超过 {limit} 个字符")
            }
            ValidationErrorKind::Minimum { limit } => format!("「{title}」不能小于 {limit}"),
            ValidationErrorKind::Maximum { limit } => format!("「{title}」不能大于 {limit}"),
            ValidationErrorKind::ExclusiveMinimum { limit } => {
                format!("「{title}」必须大于 {limit}")
            }
            ValidationErrorKind::ExclusiveMaximum { limit } => {
                format!("「{title}」必须小于 {limit}")
            }
            ValidationErrorKind::MinItems { limit } => format!("「{title}」至少需要 {limit} 项"),
            ValidationErrorKind::MaxItems { limit } => format!("「{title}」最多 {limit} 项"),
            ValidationErrorKind::UniqueItems => format!("「{title}」中有重复的项"),
            ValidationErrorKind::Pattern { .. } => match node.and_then(description) {
                Some(d) => format!("「{title}」格式不正确:{d}"),
                None => format!("「{title}」格式不正确"),
            },
            ValidationErrorKind::Format { format } => match format.as_str() {
                "date" => format!("「{title}」应为日期,格式如 2026-09-30"),
                "date-time" => format!("「{title}」应为日期时间,格式如 2026-09-30T23:59:59+08:00"),
                "email" => format!("「{title}」应为有效的电子邮件地址"),
                other => format!("「{title}」不符合格式 {other}"),
            },
            ValidationErrorKind::Enum { .. }
            | ValidationErrorKind::Constant { .. }
            | ValidationErrorKind::OneOfNotValid { .. }
            | ValidationErrorKind::AnyOf { .. } => {
                format!("「{title}」的取值不在允许的范围内")
            }
            ValidationErrorKind::Custom { message, .. } => message.clone(),
            _ => format!("「{title}」不符合要求"),
        };
        out.push(FieldError {
            pointer,
            message,
            message_en: english,
        });
    }
}

fn description(node: &Value) -> Option<&str> {
    node.get("description").and_then(Value::as_str)
}

/// The field's schema title, or its last pointer segment when the schema gives none.
fn field_title(node: Option<&Value>, pointer: &str) -> String {
    if let Some(t) = node.and_then(|n| n.get("title")).and_then(Value::as_str) {
        return t.to_owned();
    }
    match pointer.rsplit_once('/') {
        Some((_, last)) if !last.is_empty() => last.replace("~1", "/").replace("~0", "~"),
        _ => "表单".to_owned(),
    }
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn pointer_or_root(p: &str) -> &str {
    if p.is_empty() { "the root" } else { p }
}

fn type_names_zh(kind: &TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| match t {
        jsonschema::JsonType::Array => "列表",
        jsonschema::JsonType::Boolean => "是/否",
        jsonschema::JsonType::Integer => "整数",
        jsonschema::JsonType::Null => "空值",
        jsonschema::JsonType::Number => "数字",
        jsonschema::JsonType::Object => "对象",
        jsonschema::JsonType::String => "文本",
    };
    match kind {
        TypeKind::Single(t) => name(t).to_owned(),
        TypeKind::Multiple(set) => set.iter().map(|t| name(&t)).collect::<Vec<_>>().join("或"),
    }
}

struct MinTextChars {
    minimum: i64,
    title: String,
}

impl<'i> Keyword<'i> for MinTextChars {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        let n = count_text_chars_up_to(instance, self.minimum);
        if n >= self.minimum {
            return Ok(());
        }
        Err(ValidationError::custom(format!(
            "「{}」合计不少于 {} 字(不含空白字符),当前 {n} 字",
            self.title, self.minimum
        )))
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        count_text_chars_up_to(instance, self.minimum) >= self.minimum
    }
}

fn min_text_chars_factory<'a>(
    parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: jsonschema::paths::Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let minimum = value
        .as_i64()
        .filter(|n| *n >= 0)
        .ok_or_else(|| ValidationError::custom(format!("{MIN_TEXT_CHARS} takes a whole number")))?;
    let title = parent
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("正文")
        .to_owned();
    Ok(Box::new(MinTextChars { minimum, title }))
}
