//! Loads and compiles the JSON Schemas that forms and action inputs name, once per path.

use super::{Checker, SchemaLoadError, SchemaSource};
use crate::forms::FormSchema;
use crate::raw::Sp;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) struct Schemas<'s> {
    source: &'s dyn SchemaSource,
    /// `None` for a path that failed: its problems are reported at its first use only.
    compiled: BTreeMap<String, Option<Arc<FormSchema>>>,
}

impl<'s> Schemas<'s> {
    pub(super) fn new(source: &'s dyn SchemaSource) -> Self {
        Self {
            source,
            compiled: BTreeMap::new(),
        }
    }

    pub(super) fn load(
        &mut self,
        ck: &mut Checker<'_>,
        path: &Sp<String>,
    ) -> Option<Arc<FormSchema>> {
        if let Some(cached) = self.compiled.get(&path.value) {
            return cached.clone();
        }
        let compiled = match self.source.load(&path.value) {
            Err(SchemaLoadError::NotFound) => {
                ck.at(
                    path.referenced,
                    format!("schema file `{}` does not exist", path.value),
                );
                None
            }
            Err(SchemaLoadError::Unreadable(why)) => {
                ck.at(
                    path.referenced,
                    format!("schema file `{}` cannot be read: {why}", path.value),
                );
                None
            }
            Ok(doc) => match FormSchema::compile(&path.value, doc) {
                Ok(s) => Some(Arc::new(s)),
                Err(errors) => {
                    for e in errors {
                        ck.at(path.referenced, e);
                    }
                    None
                }
            },
        };
        self.compiled.insert(path.value.clone(), compiled.clone());
        compiled
    }
}
