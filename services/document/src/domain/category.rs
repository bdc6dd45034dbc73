//! Categories (§4.1): what kind of document, how it is numbered, how
//! confidential by default, how long it is kept, whose signatures it needs.

use std::collections::HashSet;

use procedo_platform::identity::Clearance;
use procedo_platform::time::Millis;
use procedo_platform::validate::Violations;
use serde::{Deserialize, Serialize};

use super::numbering::{Pattern, Reset};

/// A signature a category's documents need before they are archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRequirement {
    /// The signer's role; empty for any.
    pub role: String,
    /// The signer's department; empty for the owning department.
    pub department: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub code: String,
    pub display_name: String,
    pub pattern: Pattern,
    pub reset: Reset,
    pub default_confidentiality: Clearance,
    /// 0: kept for ever.
    pub retention_years: i32,
    pub required_signatures: Vec<SignatureRequirement>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
}

/// A category as a client describes it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySpec {
    pub code: String,
    pub display_name: String,
    pub pattern: Pattern,
    pub reset: Reset,
    pub default_confidentiality: Clearance,
    pub retention_years: i32,
    pub required_signatures: Vec<SignatureRequirement>,
}

/// The most years a document is kept before it may be disposed of.
pub const MAX_RETENTION_YEARS: i32 = 200;

/// Checks a category code: lower-case letters, digits, '-' and '_', 1 to 40.
pub fn check_code(field: &str, code: &str, v: &mut Violations) -> String {
    let code = v.required_line(field, code, 40);
    if !code.is_empty()
        && !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        v.add(
            field,
            "must use only lower-case letters, digits, '-' and '_'",
        );
    }
    code
}

impl CategorySpec {
    /// Checks every field, recording problems under `prefix` (e.g.
    /// "category"); `None` when something is wrong.
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        prefix: &str,
        code: &str,
        display_name: &str,
        pattern: &str,
        reset: Option<Reset>,
        default_confidentiality: Option<Clearance>,
        retention_years: i32,
        required_signatures: &[SignatureRequirement],
        v: &mut Violations,
    ) -> Option<CategorySpec> {
        let field = |name: &str| format!("{prefix}.{name}");
        let code = check_code(&field("code"), code, v);
        let display_name = v.required_line(&field("display_name"), display_name, 200);
        if reset.is_none() {
            v.add(
                field("number_reset"),
                "must be NUMBER_RESET_YEARLY or NUMBER_RESET_NEVER",
            );
        }
        let pattern = reset.and_then(|reset| match Pattern::parse(pattern, reset) {
            Ok(p) => Some(p),
            Err(e) => {
                v.add(field("number_pattern"), e);
                None
            }
        });
        if default_confidentiality.is_none() {
            v.add(
                field("default_confidentiality"),
                "must be CLEARANCE_PUBLIC, _INTERNAL, _CONFIDENTIAL or _SECRET",
            );
        }
        if !(0..=MAX_RETENTION_YEARS).contains(&retention_years) {
            v.add(
                field("retention_years"),
                format!("must be 0 (for ever) to {MAX_RETENTION_YEARS}"),
            );
        }
        let mut seen = HashSet::new();
        let required_signatures = v
            .at_most(&field("required_signatures"), required_signatures, 20)
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let at = format!("{prefix}.required_signatures[{i}]");
                let requirement = SignatureRequirement {
                    role: v.optional_line(&format!("{at}.role"), &s.role, 40),
                    department: v.optional_line(&format!("{at}.department"), &s.department, 100),
                    description: v.required_line(&format!("{at}.description"), &s.description, 200),
                };
                if !requirement.role.is_empty()
                    && procedo_platform::identity::Role::parse(&requirement.role).is_none()
                {
                    v.add(
                        format!("{at}.role"),
                        format!("{:?} is not a role", requirement.role),
                    );
                }
                if !seen.insert((requirement.role.clone(), requirement.department.clone())) {
                    v.add(at, "names the same signer as one before it");
                }
                requirement
            })
            .collect();
        Some(CategorySpec {
            code,
            display_name,
            pattern: pattern?,
            reset: reset?,
            default_confidentiality: default_confidentiality?,
            retention_years,
            required_signatures,
        })
    }
}

impl Category {
    pub fn new(spec: CategorySpec, now: Millis) -> Category {
        Category {
            code: spec.code,
            display_name: spec.display_name,
            pattern: spec.pattern,
            reset: spec.reset,
            default_confidentiality: spec.default_confidentiality,
            retention_years: spec.retention_years,
            required_signatures: spec.required_signatures,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Takes everything `spec` says but the code.
    pub fn update(&mut self, spec: CategorySpec, now: Millis) {
        self.display_name = spec.display_name;
        self.pattern = spec.pattern;
        self.reset = spec.reset;
        self.default_confidentiality = spec.default_confidentiality;
        self.retention_years = spec.retention_years;
        self.required_signatures = spec.required_signatures;
        self.updated_at = now;
        self.version += 1;
    }

    pub fn resource(&self) -> String {
        format!("categories/{}", self.code)
    }

    /// The sequence a document of `department` registered in `year` takes
    /// its number from: (period, department or "").
    pub fn sequence(&self, year: i32, department: &str) -> (String, String) {
        let department = if self.pattern.names_department() {
            department.to_owned()
        } else {
            String::new()
        };
        (self.reset.period(year), department)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(pattern: &str, reset: Option<Reset>, v: &mut Violations) -> Option<CategorySpec> {
        CategorySpec::check(
            "category",
            "contract",
            "Contract",
            pattern,
            reset,
            Some(Clearance::Internal),
            10,
            &[],
            v,
        )
    }

    #[test]
    fn a_department_pattern_keeps_a_sequence_per_department_and_a_yearly_one_per_year() {
        let mut v = Violations::new();
        let c = Category::new(
            spec(
                "HT-{department}-{year}-{seq:4}",
                Some(Reset::Yearly),
                &mut v,
            )
            .expect("valid"),
            0,
        );
        assert_eq!(c.sequence(2026, "sales"), ("2026".into(), "sales".into()));
        let c = Category::new(
            spec("HT-{seq:6}", Some(Reset::Never), &mut v).expect("valid"),
            0,
        );
        assert_eq!(c.sequence(2026, "sales"), (String::new(), String::new()));
        assert!(v.is_empty());
    }

    #[test]
    fn every_wrong_field_is_named() {
        let mut v = Violations::new();
        let checked = CategorySpec::check(
            "category",
            "Contract!",
            "",
            "HT-{seq:6}",
            Some(Reset::Yearly),
            None,
            -1,
            &[SignatureRequirement {
                role: "boss".into(),
                department: String::new(),
                description: String::new(),
            }],
            &mut v,
        );
        assert!(checked.is_none());
        let fields: Vec<String> = v.into_inner().into_iter().map(|f| f.field).collect();
        for f in [
            "category.code",
            "category.display_name",
            "category.number_pattern",
            "category.default_confidentiality",
            "category.retention_years",
            "category.required_signatures[0].description",
            "category.required_signatures[0].role",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
        }
    }
}
