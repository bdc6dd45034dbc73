//! The catalogue of application types (§2.2): what is in scope, which
//! materials each needs, how long processing may take, and which process
//! the workflow service runs for it.

use std::collections::HashSet;

use procedo_platform::calendar::Limit;
use procedo_platform::identity::Actor;
use procedo_platform::time::Millis;
use procedo_platform::validate::Violations;

/// One item of a type's materials checklist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MaterialRequirement {
    pub name: String,
    pub mandatory: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationType {
    pub code: String,
    pub display_name: String,
    pub in_scope: bool,
    pub materials: Vec<MaterialRequirement>,
    pub processing_limit: Limit,
    pub process_key: String,
    /// Initiates the process started on acceptance ("" = the clerk's).
    pub handling_department: String,
    /// The calendar its processing clock counts on ("" = the company's
    /// default).
    pub calendar: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
}

impl ApplicationType {
    /// A new type as `spec` describes it.
    pub fn new(spec: TypeSpec, now: Millis) -> ApplicationType {
        ApplicationType {
            code: spec.code,
            display_name: spec.display_name,
            in_scope: spec.in_scope,
            materials: spec.materials,
            processing_limit: spec.processing_limit,
            process_key: spec.process_key,
            handling_department: spec.handling_department,
            calendar: spec.calendar,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Takes everything `spec` describes but the code.
    pub fn update(&mut self, spec: TypeSpec, now: Millis) {
        self.display_name = spec.display_name;
        self.in_scope = spec.in_scope;
        self.materials = spec.materials;
        self.processing_limit = spec.processing_limit;
        self.process_key = spec.process_key;
        self.handling_department = spec.handling_department;
        self.calendar = spec.calendar;
        self.updated_at = now;
        self.version += 1;
    }

    /// "applicationTypes/{code}".
    pub fn resource(&self) -> String {
        format!("applicationTypes/{}", self.code)
    }

    /// The department that initiates the process of an accepted
    /// application: the type's handling department, else the reviewer's.
    pub fn initiating_department<'a>(&'a self, reviewer: &'a Actor) -> &'a str {
        if self.handling_department.is_empty() {
            &reviewer.department
        } else {
            &self.handling_department
        }
    }
}

/// Checks a type code: lower-case letters, digits, '-' and '_', 1 to 40.
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

/// The fields of a type as a client gives them, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSpec {
    pub code: String,
    pub display_name: String,
    pub in_scope: bool,
    pub materials: Vec<MaterialRequirement>,
    pub processing_limit: Limit,
    pub process_key: String,
    pub handling_department: String,
    /// "" = the company's default calendar.
    pub calendar: String,
}

impl TypeSpec {
    /// Checks every field, recording problems under `prefix` (e.g.
    /// "application_type"); `processing_limit` checks the wire's limit in
    /// field order (`None` when it is wrong).
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        prefix: &str,
        code: &str,
        display_name: &str,
        in_scope: bool,
        materials: Vec<MaterialRequirement>,
        processing_limit: impl FnOnce(&mut Violations) -> Option<Limit>,
        process_key: &str,
        handling_department: &str,
        v: &mut Violations,
    ) -> TypeSpec {
        let code = check_code(&format!("{prefix}.code"), code, v);
        let display_name = v.required_line(&format!("{prefix}.display_name"), display_name, 200);
        let mut seen = HashSet::new();
        let materials: Vec<_> = materials
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let field = format!("{prefix}.materials[{i}].name");
                let name = v.required_line(&field, &m.name, 200);
                if !name.is_empty() && !seen.insert(normalize(&name)) {
                    v.add(field, format!("{name:?} is listed twice"));
                }
                MaterialRequirement {
                    name,
                    mandatory: m.mandatory,
                }
            })
            .collect();
        if materials.len() > 100 {
            v.add(format!("{prefix}.materials"), "must list at most 100 items");
        }
        let processing_limit = processing_limit(v).unwrap_or(Limit::WorkingDays(1));
        let process_key = check_code(&format!("{prefix}.process_key"), process_key, v);
        let handling_department = v.optional_line(
            &format!("{prefix}.handling_department"),
            handling_department,
            100,
        );
        TypeSpec {
            handling_department,
            calendar: String::new(),
            code,
            display_name,
            in_scope,
            materials,
            processing_limit,
            process_key,
        }
    }
}

/// How material names are compared: trimmed, case-insensitive.
pub fn normalize(name: &str) -> String {
    name.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(name: &str, mandatory: bool) -> MaterialRequirement {
        MaterialRequirement {
            name: name.into(),
            mandatory,
        }
    }

    #[test]
    fn a_well_formed_type_passes() {
        let mut v = Violations::new();
        let spec = TypeSpec::check(
            "t",
            "loan",
            "Loan application",
            true,
            vec![req("ID card", true), req("Bank statement", false)],
            |_| Some(Limit::WorkingDays(5)),
            "standard",
            "credit",
            &mut v,
        );
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(spec.materials.len(), 2);
    }

    #[test]
    fn every_problem_of_a_type_is_named_by_its_field() {
        let mut v = Violations::new();
        TypeSpec::check(
            "t",
            "Bad Code",
            "",
            true,
            vec![req("ID card", true), req(" id CARD ", false)],
            |_| None,
            "",
            "",
            &mut v,
        );
        let fields: Vec<_> = v.into_inner().into_iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            [
                "t.code",
                "t.display_name",
                "t.materials[1].name",
                "t.process_key"
            ]
        );
    }
}
