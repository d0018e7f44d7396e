//! Workflow definitions known to the service. At startup each file under `workflows/` is compiled
//! and stored with its version and content hash; earlier versions are compiled back from the
//! database so that a case always runs on the version it started on.

use crate::store::entities::workflow_definition;
use crate::store::{DbErr, Store};
use chrono::{DateTime, Utc};
use pilotflow_engine::{Definition, SchemaLoadError, SchemaSource, compile};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot read the workflows directory {dir}: {source}")]
    Unreadable { dir: String, source: std::io::Error },
    #[error("workflow definitions have problems:\n{0}")]
    Invalid(String),
    #[error(
        "workflow `{key}` version {version} in {file} differs from the version {version} already \
         stored (content hash {stored} → {found}); cases depend on the stored text, so give the \
         changed file a new `version:`"
    )]
    ChangedWithoutNewVersion {
        key: String,
        version: String,
        file: String,
        stored: String,
        found: String,
    },
    #[error("two files define workflow `{key}`: {first} and {second}")]
    Duplicate {
        key: String,
        first: String,
        second: String,
    },
    #[error("database error while loading workflows")]
    Db(#[from] DbErr),
}

/// Loads schemas from a directory and remembers what it loaded, to store them beside the YAML.
struct RecordingSource<'a> {
    inner: &'a dyn SchemaSource,
    loaded: RefCell<BTreeMap<String, Value>>,
}

impl SchemaSource for RecordingSource<'_> {
    fn load(&self, path: &str) -> Result<Value, SchemaLoadError> {
        let v = self.inner.load(path)?;
        self.loaded.borrow_mut().insert(path.to_owned(), v.clone());
        Ok(v)
    }
}

/// Schemas stored in the database with an earlier version.
struct StoredSchemas(BTreeMap<String, Value>);

impl SchemaSource for StoredSchemas {
    fn load(&self, path: &str) -> Result<Value, SchemaLoadError> {
        self.0.get(path).cloned().ok_or(SchemaLoadError::NotFound)
    }
}

fn content_hash(source: &str, schemas: &BTreeMap<String, Value>) -> String {
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    for (path, doc) in schemas {
        h.update([0]);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(doc.to_string().as_bytes());
    }
    hex::encode(h.finalize())
}

#[derive(Debug, Clone)]
pub struct StoredWorkflow {
    pub def: Arc<Definition>,
    pub content_hash: String,
}

#[derive(Default)]
pub struct Registry {
    versions: HashMap<(String, String), StoredWorkflow>,
    /// The version new cases start on: the one in the file.
    current: BTreeMap<String, String>,
}

impl Registry {
    pub async fn load(
        store: &Store,
        workflows_dir: &Path,
        schemas_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<Self, RegistryError> {
        let unreadable = |source| RegistryError::Unreadable {
            dir: workflows_dir.display().to_string(),
            source,
        };
        let mut files: Vec<_> = std::fs::read_dir(workflows_dir)
            .map_err(unreadable)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        let dir_source = super::files::SchemaDir(schemas_dir.to_path_buf());
        let mut registry = Registry::default();
        let mut problems = Vec::new();
        let mut files_by_key: HashMap<String, String> = HashMap::new();
        for file in files {
            let name = file.display().to_string();
            let source = std::fs::read_to_string(&file).map_err(unreadable)?;
            let recorder = RecordingSource {
                inner: &dir_source,
                loaded: RefCell::new(BTreeMap::new()),
            };
            let def = match compile(&name, &source, &recorder) {
                Ok(d) => d,
                Err(diags) => {
                    problems.extend(diags.iter().map(|d| d.to_string()));
                    continue;
                }
            };
            if let Some(first) = files_by_key.insert(def.key.clone(), name.clone()) {
                return Err(RegistryError::Duplicate {
                    key: def.key.clone(),
                    first,
                    second: name,
                });
            }
            let schemas = recorder.loaded.into_inner();
            let hash = content_hash(&source, &schemas);
            let version = def.version.to_string();
            let stored = store.workflow_definition(&def.key, &version).await?;
            match stored {
                Some(row) if row.content_hash != hash => {
                    return Err(RegistryError::ChangedWithoutNewVersion {
                        key: def.key.clone(),
                        version,
                        file: name,
                        stored: row.content_hash,
                        found: hash,
                    });
                }
                Some(_) => {}
                None => {
                    store
                        .insert_workflow_definition(workflow_definition::Model {
                            key: def.key.clone(),
                            version: version.clone(),
                            content_hash: hash.clone(),
                            source: source.clone(),
                            schemas: Value::Object(schemas.into_iter().collect()).to_string(),
                            loaded_at: now,
                        })
                        .await?;
                }
            }
            registry.current.insert(def.key.clone(), version.clone());
            registry.versions.insert(
                (def.key.clone(), version),
                StoredWorkflow {
                    def: Arc::new(def),
                    content_hash: hash,
                },
            );
        }
        if !problems.is_empty() {
            return Err(RegistryError::Invalid(problems.join("\n")));
        }
        registry.add_stored(store).await?;
        Ok(registry)
    }

    /// Only the versions stored in the database (for `verify-history`, which reads no files).
    pub async fn from_store(store: &Store) -> Result<Self, RegistryError> {
        let mut registry = Registry::default();
        registry.add_stored(store).await?;
        Ok(registry)
    }

    async fn add_stored(&mut self, store: &Store) -> Result<(), RegistryError> {
        let mut problems = Vec::new();
        for row in store.workflow_definitions().await? {
            let id = (row.key.clone(), row.version.clone());
            if self.versions.contains_key(&id) {
                continue;
            }
            let schemas: BTreeMap<String, Value> =
                serde_json::from_str(&row.schemas).unwrap_or_default();
            let name = format!("(stored {} {})", row.key, row.version);
            match compile(&name, &row.source, &StoredSchemas(schemas)) {
                Ok(def) => {
                    self.versions.insert(
                        id,
                        StoredWorkflow {
                            def: Arc::new(def),
                            content_hash: row.content_hash,
                        },
                    );
                }
                Err(diags) => problems.extend(diags.iter().map(|d| d.to_string())),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(RegistryError::Invalid(problems.join("\n")))
        }
    }

    /// The version new cases of `key` start on.
    pub fn current(&self, key: &str) -> Option<&StoredWorkflow> {
        let version = self.current.get(key)?;
        self.versions.get(&(key.to_owned(), version.clone()))
    }

    pub fn version(&self, key: &str, version: &str) -> Option<&StoredWorkflow> {
        self.versions.get(&(key.to_owned(), version.to_owned()))
    }

    pub fn current_all(&self) -> impl Iterator<Item = &StoredWorkflow> {
        self.current.keys().filter_map(|k| self.current(k))
    }
}
