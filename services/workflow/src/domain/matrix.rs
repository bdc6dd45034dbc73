//! The authorisation matrix (§3.2.3): business type × amount band → the
//! approval levels that must approve, in order. Versioned and
//! effective-dated; an instance records the version it used.

use std::collections::{BTreeMap, HashSet};

use procedo_platform::time::Millis;

use super::definition::Problem;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Level {
    pub level: i32,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub business_type: String,
    pub min: i64,
    /// Exclusive; `None` has no upper bound.
    pub max: Option<i64>,
    pub levels: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    pub version: i32,
    pub effective_at: Millis,
    pub currency: String,
    pub levels: Vec<Level>,
    pub rules: Vec<Rule>,
}

/// Why a business has no approval chain; each says so in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoChain {
    /// The amount is in another currency than the matrix.
    Currency(String),
    /// No rule covers the business type at that amount.
    NoRule(String),
}

impl NoChain {
    pub fn describe(self) -> String {
        match self {
            NoChain::Currency(d) | NoChain::NoRule(d) => d,
        }
    }
}

/// Approval levels of a matrix (and of one rule's chain), at most.
pub const MAX_LEVELS: usize = 20;
/// Rules of a matrix, at most.
pub const MAX_RULES: usize = 1000;

/// The rule that applies to types with none of their own.
pub const ANY_TYPE: &str = "*";

impl Matrix {
    /// Every problem: unknown or repeated levels, overlapping bands, gaps,
    /// bands that do not start at zero or do not reach every amount.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut add =
            |field: String, description: String| problems.push(Problem { field, description });
        if self.levels.len() > MAX_LEVELS {
            add(
                "matrix.levels".into(),
                format!("at most {MAX_LEVELS} levels"),
            );
        }
        if self.rules.len() > MAX_RULES {
            add("matrix.rules".into(), format!("at most {MAX_RULES} rules"));
        }
        for (i, r) in self.rules.iter().enumerate() {
            if r.levels.len() > MAX_LEVELS {
                add(
                    format!("matrix.rules[{i}].levels"),
                    format!("at most {MAX_LEVELS} levels"),
                );
            }
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            add(
                "matrix.currency_code".into(),
                "must be three upper-case letters (ISO 4217)".into(),
            );
        }
        let mut known = HashSet::new();
        for (i, l) in self.levels.iter().enumerate() {
            if l.level < 1 {
                add(
                    format!("matrix.levels[{i}].level"),
                    "must be 1 or more".into(),
                );
            }
            if !known.insert(l.level) {
                add(
                    format!("matrix.levels[{i}].level"),
                    format!("level {} is listed twice", l.level),
                );
            }
            if l.name.trim().is_empty() {
                add(format!("matrix.levels[{i}].name"), "is required".into());
            }
        }
        if self.rules.is_empty() {
            add(
                "matrix.rules".into(),
                "a matrix needs at least one rule".into(),
            );
        }
        let mut by_type: BTreeMap<&str, Vec<(usize, &Rule)>> = BTreeMap::new();
        for (i, r) in self.rules.iter().enumerate() {
            let at = format!("matrix.rules[{i}]");
            if r.business_type.trim().is_empty() {
                add(
                    format!("{at}.business_type"),
                    "is required (or \"*\" for every other type)".into(),
                );
            }
            if r.min < 0 {
                add(
                    format!("{at}.min_minor_units"),
                    "must not be negative".into(),
                );
            }
            if let Some(max) = r.max
                && max <= r.min
            {
                add(
                    format!("{at}.max_minor_units"),
                    "must be above min_minor_units (0 means no upper bound)".into(),
                );
            }
            if r.levels.is_empty() {
                add(
                    format!("{at}.levels"),
                    "at least one level must approve".into(),
                );
            }
            let mut seen = HashSet::new();
            for level in &r.levels {
                if !known.contains(level) {
                    add(
                        format!("{at}.levels"),
                        format!("level {level} is not one of the matrix's levels"),
                    );
                }
                if !seen.insert(level) {
                    add(
                        format!("{at}.levels"),
                        format!("level {level} is listed twice"),
                    );
                }
            }
            by_type
                .entry(r.business_type.as_str())
                .or_default()
                .push((i, r));
        }
        for (business_type, mut bands) in by_type {
            bands.sort_by_key(|(_, r)| r.min);
            let mut expected = 0i64;
            let mut open_ended = false;
            for (i, r) in &bands {
                let at = format!("matrix.rules[{i}]");
                if open_ended || r.min < expected {
                    add(at, format!("overlaps another band of {business_type:?}"));
                } else if r.min > expected {
                    add(
                        at,
                        format!(
                            "leaves amounts {expected}..{} of {business_type:?} without a rule",
                            r.min
                        ),
                    );
                }
                match r.max {
                    Some(max) => expected = expected.max(max),
                    None => open_ended = true,
                }
            }
            if !open_ended && let Some((i, _)) = bands.last() {
                add(
                    format!("matrix.rules[{i}].max_minor_units"),
                    format!(
                        "amounts from {expected} up of {business_type:?} have no rule; end with an open band (0)"
                    ),
                );
            }
        }
        problems
    }

    /// The levels that must approve `amount` of `business_type`, in order;
    /// `None` when neither the type nor "*" has a rule.
    /// The approval chain of a piece of business (§3.2.3).
    pub fn chain_for(
        &self,
        business_type: &str,
        amount: Option<&super::instance::Money>,
    ) -> Result<Vec<Level>, NoChain> {
        if let Some(m) = amount
            && m.currency != self.currency
        {
            return Err(NoChain::Currency(format!(
                "the amount is in {} but the authorisation matrix is in {}",
                m.currency, self.currency
            )));
        }
        let minor_units = amount.map_or(0, |m| m.minor_units);
        self.resolve(business_type, minor_units).ok_or_else(|| {
            NoChain::NoRule(format!(
                "the authorisation matrix (version {}) has no rule for {business_type:?} at {minor_units}",
                self.version
            ))
        })
    }

    pub fn resolve(&self, business_type: &str, amount: i64) -> Option<Vec<Level>> {
        let applies = |t: &str| {
            self.rules.iter().find(|r| {
                r.business_type == t && r.min <= amount && r.max.is_none_or(|max| amount < max)
            })
        };
        let has_own = self.rules.iter().any(|r| r.business_type == business_type);
        let rule = if has_own {
            applies(business_type)
        } else {
            applies(ANY_TYPE)
        }?;
        Some(
            rule.levels
                .iter()
                .filter_map(|l| self.levels.iter().find(|known| known.level == *l).cloned())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rules: Vec<Rule>) -> Matrix {
        Matrix {
            version: 1,
            effective_at: 0,
            currency: "CNY".into(),
            levels: vec![
                Level {
                    level: 1,
                    name: "Department head".into(),
                },
                Level {
                    level: 2,
                    name: "Vice-president".into(),
                },
                Level {
                    level: 3,
                    name: "General manager".into(),
                },
            ],
            rules,
        }
    }

    fn rule(t: &str, min: i64, max: Option<i64>, levels: &[i32]) -> Rule {
        Rule {
            business_type: t.into(),
            min,
            max,
            levels: levels.to_vec(),
        }
    }

    fn bands() -> Matrix {
        matrix(vec![
            rule("loan", 0, Some(100_000), &[1]),
            rule("loan", 100_000, Some(1_000_000), &[1, 2]),
            rule("loan", 1_000_000, None, &[1, 2, 3]),
            rule("*", 0, None, &[1]),
        ])
    }

    #[test]
    fn the_chain_grows_with_the_amount() {
        let m = bands();
        assert!(m.problems().is_empty(), "{:?}", m.problems());
        let names = |amount| {
            m.resolve("loan", amount)
                .expect("a rule")
                .into_iter()
                .map(|l| l.level)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(0), [1]);
        assert_eq!(names(99_999), [1]);
        assert_eq!(names(100_000), [1, 2]);
        assert_eq!(names(5_000_000), [1, 2, 3]);
    }

    #[test]
    fn types_without_rules_fall_back_to_the_star_rule_or_to_none() {
        assert_eq!(bands().resolve("lease", 10).map(|c| c.len()), Some(1));
        let without_star = matrix(vec![rule("loan", 0, None, &[1])]);
        assert_eq!(without_star.resolve("lease", 10), None);
    }

    #[test]
    fn overlapping_bands_gaps_and_a_missing_open_band_are_named() {
        let overlap = matrix(vec![
            rule("loan", 0, Some(100), &[1]),
            rule("loan", 50, None, &[2]),
        ]);
        assert!(
            overlap
                .problems()
                .iter()
                .any(|p| p.description.contains("overlaps"))
        );
        let gap = matrix(vec![
            rule("loan", 0, Some(100), &[1]),
            rule("loan", 200, None, &[2]),
        ]);
        assert!(
            gap.problems()
                .iter()
                .any(|p| p.description.contains("100..200"))
        );
        let closed = matrix(vec![rule("loan", 0, Some(100), &[1])]);
        assert!(
            closed
                .problems()
                .iter()
                .any(|p| p.description.contains("open band"))
        );
        let late_start = matrix(vec![rule("loan", 10, None, &[1])]);
        assert!(
            late_start
                .problems()
                .iter()
                .any(|p| p.description.contains("0..10"))
        );
    }

    #[test]
    fn levels_must_exist_and_not_repeat() {
        let m = matrix(vec![rule("loan", 0, None, &[1, 4, 1])]);
        let problems: Vec<_> = m.problems().into_iter().map(|p| p.description).collect();
        assert!(problems.iter().any(|p| p.contains("level 4 is not")));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("level 1 is listed twice"))
        );
    }
}
