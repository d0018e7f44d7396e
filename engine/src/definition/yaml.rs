//! YAML parse errors from serde-saphyr, reworded for a workflow author.

pub(super) fn message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    // Library advice that means nothing to a workflow author.
    let text = match text.find(", set DuplicateKeyPolicy") {
        Some(i) => format!("{} (each name may appear only once)", &text[..i]),
        None => text,
    };
    // serde-saphyr appends " at line L column C"; we print the position in front already.
    let text = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    plain_words(&text.replace("unknown field", "unknown key"))
}

/// serde-saphyr's words for a value of the wrong kind, said the way a workflow author writes YAML.
fn plain_words(text: &str) -> String {
    const KINDS: [(&str, &str); 8] = [
        (
            "expected sequence start",
            "expected a list here, like [a, b] or lines starting with `- `",
        ),
        (
            "expected mapping start",
            "expected a mapping here (`key: value` lines or `{key: value}`)",
        ),
        ("expected string scalar", "expected text here"),
        ("invalid u32", "expected a whole number here"),
        ("invalid u64", "expected a whole number here"),
        ("invalid i32", "expected a whole number here"),
        ("invalid i64", "expected a whole number here"),
        ("invalid bool", "expected true or false here"),
    ];
    if let Some(name) = text.strip_prefix("missing field ") {
        return format!("required key {name} is missing");
    }
    for (library, plain) in KINDS {
        if let Some(rest) = text.strip_prefix(library) {
            return format!("{plain}{rest}");
        }
    }
    text.to_owned()
}
