//! The jurisdiction tree (province → cities → counties), kept in memory: every request asks it
//! how the caller's unit relates to a case's unit.

use crate::store::entities::org_unit;
use pilotflow_engine::{UnitInfo, UnitLevel, UnitRelation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrgUnit {
    /// GB/T 2260 division code (or a local code such as `CBS`).
    pub code: String,
    pub name: String,
    #[schema(value_type = String, example = "county")]
    pub level: UnitLevel,
    pub parent_code: Option<String>,
    /// Already a national experimental zone (may not apply at provincial level).
    pub national_zone: bool,
}

#[derive(Debug, Default, Clone)]
pub struct UnitTree {
    units: HashMap<String, OrgUnit>,
}

pub fn parse_level(s: &str) -> Option<UnitLevel> {
    match s {
        "province" => Some(UnitLevel::Province),
        "city" => Some(UnitLevel::City),
        "county" => Some(UnitLevel::County),
        _ => None,
    }
}

impl UnitTree {
    pub fn from_rows(rows: Vec<org_unit::Model>) -> Self {
        let units = rows
            .into_iter()
            .filter_map(|r| {
                Some((
                    r.code.clone(),
                    OrgUnit {
                        level: parse_level(&r.level)?,
                        code: r.code,
                        name: r.name,
                        parent_code: r.parent_code,
                        national_zone: r.national_zone,
                    },
                ))
            })
            .collect();
        Self { units }
    }

    pub fn get(&self, code: &str) -> Option<&OrgUnit> {
        self.units.get(code)
    }

    pub fn all(&self) -> impl Iterator<Item = &OrgUnit> {
        self.units.values()
    }

    pub fn parent(&self, code: &str) -> Option<&str> {
        self.units.get(code)?.parent_code.as_deref()
    }

    pub fn root<'s>(&'s self, code: &'s str) -> &'s str {
        let mut at = code;
        // The tree is shallow; the bound guards against a cycle in hand-edited data.
        for _ in 0..16 {
            match self.parent(at) {
                Some(p) => at = p,
                None => break,
            }
        }
        at
    }

    pub fn info(&self, code: &str) -> Option<UnitInfo> {
        self.units.get(code).map(|u| UnitInfo {
            code: u.code.clone(),
            name: u.name.clone(),
            level: u.level,
            national_zone: u.national_zone,
        })
    }

    /// How a user in `user_unit` stands to a case of `case_unit`, in the engine's terms.
    pub fn relation(&self, user_unit: &str, case_unit: &str) -> UnitRelation {
        UnitRelation {
            own: user_unit == case_unit,
            parent: self.parent(case_unit) == Some(user_unit),
            root: self.root(case_unit) == user_unit && self.parent(user_unit).is_none(),
        }
    }

    pub fn name(&self, code: &str) -> String {
        self.units
            .get(code)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| code.to_owned())
    }
}
