//! Reading workflow definitions and their schemas from disk for the engine.

use pilotflow_engine::{Definition, Diagnostic, SchemaLoadError, SchemaSource, compile};
use std::path::{Path, PathBuf};

/// Schemas under a directory, named by their path relative to it.
pub struct SchemaDir(pub PathBuf);

impl SchemaSource for SchemaDir {
    fn load(&self, path: &str) -> Result<serde_json::Value, SchemaLoadError> {
        if path.split('/').any(|seg| seg == ".." || seg.is_empty()) {
            return Err(SchemaLoadError::Unreadable(
                "schema paths are relative to the schemas directory and may not contain `..`"
                    .to_owned(),
            ));
        }
        let full = self.0.join(path);
        let text = match std::fs::read_to_string(&full) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SchemaLoadError::NotFound);
            }
            Err(e) => return Err(SchemaLoadError::Unreadable(e.to_string())),
        };
        serde_json::from_str(&text).map_err(|e| {
            SchemaLoadError::Unreadable(format!(
                "{}:{}:{}: not JSON: {e}",
                full.display(),
                e.line(),
                e.column()
            ))
        })
    }
}

/// The `schemas/` directory beside the `workflows/` directory holding `file`.
pub fn default_schema_dir(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    dir.join("..").join("schemas")
}

/// Reads and compiles one definition file.
pub fn load(file: &Path, schemas: &Path) -> Result<Definition, Vec<Diagnostic>> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| {
        vec![Diagnostic {
            file: name.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read the file: {e}"),
        }]
    })?;
    compile(&name, &text, &SchemaDir(schemas.to_path_buf()))
}
