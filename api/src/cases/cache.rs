//! The cache of cases this process wrote last, for the next write to start from.

use crate::store::entities::case;
use pilotflow_engine::CaseSnapshot;
use std::sync::Arc;

/// Cases recently written by this process, at their current version, for the next write: an
/// action names the version it acts on (`If-Match`), and when that is the cached version the
/// case need not be read and parsed again; a write that names no version (saving a form,
/// setting a panel) starts from the cached case too. This is safe with several replicas
/// because every write is conditional on the version: a case changed elsewhere fails the
/// write with 409, or, when the request named no version, is read again and tried once more.
/// Reads (`GET`) always go to the database.
pub struct CaseCache(quick_cache::sync::Cache<String, Arc<CachedCase>>);

pub struct CachedCase {
    /// The row without its snapshot text (the parsed snapshot is beside it).
    pub(crate) row: case::Model,
    pub(crate) snapshot: Arc<CaseSnapshot>,
}

/// Enough for the cases busy at one moment (each holds its parsed forms, tens of kilobytes).
const CASE_CACHE_ENTRIES: usize = 512;

/// The cache's share for entries not yet used again. quick_cache puts a new entry there and
/// moves it on only if it is used before that part is full; its default share, 3 %, is 15
/// cases here, so in a burst of new cases each was gone before its first form save came and
/// had to be read and parsed again. A case is busy for a while after it is made, as the
/// district fills in its forms.
const NEW_ENTRIES_SHARE: f64 = 0.5;

impl Default for CaseCache {
    fn default() -> Self {
        Self(recent_first_cache(CASE_CACHE_ENTRIES))
    }
}

fn recent_first_cache<V: Clone>(entries: usize) -> quick_cache::sync::Cache<String, V> {
    use quick_cache::sync::{Cache, DefaultLifecycle};
    use quick_cache::{DefaultHashBuilder, OptionsBuilder, UnitWeighter};
    let options = OptionsBuilder::new()
        .estimated_items_capacity(entries)
        .weight_capacity(entries as u64)
        .hot_allocation(1.0 - NEW_ENTRIES_SHARE)
        .build();
    match options {
        Ok(options) => Cache::with_options(
            options,
            UnitWeighter,
            DefaultHashBuilder::default(),
            DefaultLifecycle::default(),
        ),
        // Refused only when a capacity is missing, and both are set above.
        Err(_) => Cache::new(entries),
    }
}

impl CaseCache {
    pub(crate) fn at_version(&self, id: &str, version: i64) -> Option<Arc<CachedCase>> {
        self.latest(id).filter(|c| c.row.version == version)
    }

    pub(crate) fn latest(&self, id: &str) -> Option<Arc<CachedCase>> {
        self.0.get(id)
    }

    pub(crate) fn put(&self, mut row: case::Model, snapshot: Arc<CaseSnapshot>) {
        row.snapshot = String::new();
        self.0
            .insert(row.id.clone(), Arc::new(CachedCase { row, snapshot }));
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// The case cache of a server that has run a while: full of older cases, none used again.
    fn full_cache() -> quick_cache::sync::Cache<String, u32> {
        let cache = recent_first_cache(CASE_CACHE_ENTRIES);
        for i in 0..4 * CASE_CACHE_ENTRIES {
            cache.insert(format!("older {i}"), 0);
        }
        cache
    }

    /// A district makes its case, then saves its forms: in a burst, many other new cases come
    /// between the two, and the first must still be there for the form save.
    #[test]
    fn a_new_case_stays_cached_while_a_burst_of_new_cases_arrives() {
        let cache = full_cache();
        cache.insert("first".to_owned(), 0);
        for i in 1..=128 {
            cache.insert(format!("case {i}"), i);
        }
        assert_eq!(cache.get("first"), Some(0));
    }

    /// Cases used again are kept over a stream of new ones used once.
    #[test]
    fn cases_in_use_outlast_a_stream_of_cases_made_once() {
        let cache = full_cache();
        for i in 0..64 {
            cache.insert(format!("busy {i}"), i);
        }
        for round in 0..20 {
            for i in 0..64 {
                assert_eq!(cache.get(&format!("busy {i}")), Some(i), "round {round}");
            }
            for i in 0..100 {
                cache.insert(format!("once {round} {i}"), i);
            }
        }
    }
}
