//! The standard business process of §3.2, built in as process key
//! "standard": initiation → department head review → plan → joint review →
//! approval → execution → acceptance ⇄ rectification.

use procedo_platform::calendar::Limit;

use super::definition::{
    Decision, Definition, Draft, DraftStep, DraftTransition, EdgeKind, Owner, Scope, StepKind,
};

/// The key the standard process is deployed under.
pub const KEY: &str = "standard";

const DAY: i64 = 86_400_000;

#[allow(clippy::too_many_arguments)]
fn step(
    id: &str,
    name: &str,
    kind: StepKind,
    role: &str,
    scope: Scope,
    content: &str,
    standard: &[&str],
    days: i64,
    document: bool,
) -> DraftStep {
    DraftStep {
        id: id.into(),
        name: name.into(),
        kind: Some(kind),
        owner: Some(Owner {
            role: role.into(),
            scope,
        }),
        content: content.into(),
        standard: standard.iter().map(|s| (*s).to_owned()).collect(),
        time_limit: Some(Limit::Elapsed(days * DAY)),
        departments: vec![],
        requires_document: document,
    }
}

fn edge(from: &str, decision: Decision, to: &str, kind: EdgeKind) -> DraftTransition {
    DraftTransition {
        from: from.into(),
        decision: Some(decision),
        to: to.into(),
        kind: Some(kind),
    }
}

/// The standard process as a draft, to deploy.
pub fn draft() -> Draft {
    use Decision::{Approve, Complete, Fail, Pass, Reject};
    use EdgeKind::{Forward, SendBack};
    use StepKind::{Acceptance, Approval, Countersign, Execution, Review, Task};
    Draft {
        key: KEY.into(),
        display_name: "Standard business process (§3.2)".into(),
        start_step: "initiation".into(),
        steps: vec![
            step(
                "initiation",
                "Initiation",
                Task,
                "executor",
                Scope::Initiator,
                "Fill in the application form: background, goals and requirements",
                &["background stated", "goals stated", "requirements stated"],
                3,
                false,
            ),
            step(
                "head_review",
                "Department head review",
                Review,
                "department_head",
                Scope::Initiator,
                "Review the application and sign an opinion",
                &["opinion signed with name, title and date"],
                2,
                false,
            ),
            step(
                "plan",
                "Plan drafting",
                Task,
                "executor",
                Scope::Initiator,
                "Draft the plan: steps, schedule, resources, risks and mitigations",
                &[
                    "steps and schedule",
                    "resources",
                    "risks with mitigations",
                    "plan document referenced",
                ],
                5,
                true,
            ),
            step(
                "joint_review",
                "Joint review",
                Countersign,
                "reviewer",
                Scope::Any,
                "Review the plan for your department and countersign an opinion",
                &["feasibility", "compliance", "opinion signed"],
                3,
                false,
            ),
            step(
                "approval",
                "Approval",
                Approval,
                "approver",
                Scope::Any,
                "Approve the plan at the level the authorisation matrix requires",
                &["within authority", "opinion signed"],
                3,
                false,
            ),
            step(
                "execution",
                "Execution",
                Execution,
                "executor",
                Scope::Lead,
                "Carry out the approved plan; coordinate with the supporting departments",
                &["plan carried out", "coordination items resolved"],
                30,
                false,
            ),
            step(
                "acceptance",
                "Acceptance",
                Acceptance,
                "acceptor",
                Scope::Initiator,
                "Assess goal achievement, quality and compliance; sign the acceptance report",
                &[
                    "goals achieved",
                    "quality meets the standard",
                    "compliant",
                    "report signed",
                ],
                5,
                true,
            ),
            step(
                "rectification",
                "Rectification",
                StepKind::Rectification,
                "executor",
                Scope::Lead,
                "Rectify what acceptance found, by the deadline set",
                &["every requirement addressed"],
                10,
                false,
            ),
        ],
        transitions: vec![
            edge("initiation", Complete, "head_review", Forward),
            edge("head_review", Approve, "plan", Forward),
            edge("head_review", Reject, "initiation", SendBack),
            edge("plan", Complete, "joint_review", Forward),
            edge("joint_review", Approve, "approval", Forward),
            edge("joint_review", Reject, "plan", SendBack),
            edge("approval", Approve, "execution", Forward),
            edge("approval", Reject, "plan", SendBack),
            edge("execution", Complete, "acceptance", Forward),
            edge("acceptance", Pass, "", Forward),
            edge("acceptance", Fail, "rectification", Forward),
            edge(
                "rectification",
                Complete,
                "acceptance",
                EdgeKind::Rectification,
            ),
        ],
    }
}

/// The standard process, validated.
pub fn definition() -> Definition {
    match draft().validate() {
        Ok(d) => d,
        // The built-in definition is checked by a unit test; reaching this
        // means that test was not run.
        Err(problems) => panic!("the standard process is invalid: {problems:?}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_standard_process_passes_its_own_validation() {
        let d = super::draft().validate().expect("valid");
        assert_eq!(d.steps.len(), 8);
        assert!(d.precedes("initiation", "approval"));
    }
}
