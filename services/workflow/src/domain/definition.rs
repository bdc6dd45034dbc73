//! Process definitions (§3.1): every step has an accountable owner, its
//! content, a completion standard and a time limit; steps follow in a
//! logical order with no repeated or crossing steps.
//!
//! A [`Draft`] is what a client sent; [`Draft::validate`] turns it into a
//! [`Definition`] or lists every problem, each naming its step.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use procedo_platform::calendar::Limit;
use procedo_platform::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepKind {
    Task,
    Review,
    Countersign,
    Approval,
    Execution,
    Acceptance,
    Rectification,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Task => "task",
            StepKind::Review => "review",
            StepKind::Countersign => "countersign",
            StepKind::Approval => "approval",
            StepKind::Execution => "execution",
            StepKind::Acceptance => "acceptance",
            StepKind::Rectification => "rectification",
        }
    }

    pub fn parse(s: &str) -> Option<StepKind> {
        [
            StepKind::Task,
            StepKind::Review,
            StepKind::Countersign,
            StepKind::Approval,
            StepKind::Execution,
            StepKind::Acceptance,
            StepKind::Rectification,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The decisions a task of this kind can take.
    pub fn decisions(self) -> &'static [Decision] {
        use Decision::*;
        match self {
            StepKind::Task | StepKind::Execution | StepKind::Rectification => &[Complete],
            StepKind::Review | StepKind::Approval => &[Approve, Reject, SendBack],
            StepKind::Countersign => &[Approve, Reject],
            StepKind::Acceptance => &[Pass, Fail],
        }
    }

    /// The decisions whose transition every step of this kind must define.
    fn required_transitions(self) -> &'static [Decision] {
        use Decision::*;
        match self {
            StepKind::Task | StepKind::Execution | StepKind::Rectification => &[Complete],
            StepKind::Review | StepKind::Approval | StepKind::Countersign => &[Approve],
            StepKind::Acceptance => &[Pass, Fail],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Decision {
    Complete,
    Approve,
    Reject,
    SendBack,
    Pass,
    Fail,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Complete => "COMPLETE",
            Decision::Approve => "APPROVE",
            Decision::Reject => "REJECT",
            Decision::SendBack => "SEND_BACK",
            Decision::Pass => "PASS",
            Decision::Fail => "FAIL",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        [
            Decision::Complete,
            Decision::Approve,
            Decision::Reject,
            Decision::SendBack,
            Decision::Pass,
            Decision::Fail,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Any,
    Fixed(String),
    Initiator,
    Lead,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub role: String,
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Forward,
    SendBack,
    Rectification,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub name: String,
    pub kind: StepKind,
    pub owner: Owner,
    pub content: String,
    pub standard: Vec<String>,
    pub time_limit: Limit,
    pub departments: Vec<String>,
    pub requires_document: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: String,
    pub decision: Decision,
    /// `None` ends the process.
    pub to: Option<String>,
    pub kind: EdgeKind,
}

/// A validated definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub key: String,
    pub version: i32,
    pub display_name: String,
    pub start_step: String,
    pub steps: Vec<Step>,
    pub transitions: Vec<Transition>,
}

impl Definition {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Where `decision` on `step` leads.
    pub fn transition(&self, step: &str, decision: Decision) -> Option<&Transition> {
        self.transitions
            .iter()
            .find(|t| t.from == step && t.decision == decision)
    }

    /// True when `earlier` comes before `step` on a forward path: the steps
    /// a send-back may return to.
    pub fn precedes(&self, earlier: &str, step: &str) -> bool {
        earlier != step && forward_reach(&self.transitions, earlier).contains(step)
    }

    /// "processDefinitions/{key}/versions/{version}".
    pub fn resource(&self) -> String {
        format!("processDefinitions/{}/versions/{}", self.key, self.version)
    }
}

fn forward_reach<'a>(transitions: &'a [Transition], from: &str) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    let mut queue: VecDeque<&str> = VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        for t in transitions
            .iter()
            .filter(|t| t.from == at && t.kind == EdgeKind::Forward)
        {
            if let Some(to) = t.to.as_deref()
                && seen.insert(to)
            {
                queue.push_back(to);
            }
        }
    }
    seen
}

/// A step as a client sent it: anything may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftStep {
    pub id: String,
    pub name: String,
    pub kind: Option<StepKind>,
    pub owner: Option<Owner>,
    pub content: String,
    pub standard: Vec<String>,
    pub time_limit: Option<Limit>,
    pub departments: Vec<String>,
    pub requires_document: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftTransition {
    pub from: String,
    pub decision: Option<Decision>,
    pub to: String,
    pub kind: Option<EdgeKind>,
}

/// A definition as a client sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub key: String,
    pub display_name: String,
    pub start_step: String,
    pub steps: Vec<DraftStep>,
    pub transitions: Vec<DraftTransition>,
}

/// One thing wrong with a draft: the field (naming the step) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub description: String,
}

/// Checklist items of one step's completion standard, at most.
pub const MAX_STANDARD_ITEMS: usize = 50;
/// Departments one step names, at most.
pub const MAX_DEPARTMENTS: usize = 100;
/// Transitions of one process, at most.
pub const MAX_TRANSITIONS: usize = 1000;

/// The longest time limit a step may have: one year.
const MAX_TIME_LIMIT_MS: Millis = 366 * 86_400_000;

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
}

impl Draft {
    /// Every check deploying makes: owners, content, standards and time
    /// limits; unique ids; no duplicated steps; transitions to existing
    /// steps; reachability from the start and of an end; no cycle but
    /// through send-back or rectification transitions.
    pub fn validate(self) -> Result<Definition, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |field: String, description: &str| {
            problems.push(Problem {
                field,
                description: description.to_owned(),
            });
        };

        if !is_identifier(&self.key) {
            problem(
                "key".into(),
                "must be 1-64 lower-case letters, digits, '_' or '-'",
            );
        }
        if self.display_name.trim().is_empty() || has_control(&self.display_name) {
            problem(
                "display_name".into(),
                "is required, without control characters",
            );
        }
        if self.steps.is_empty() {
            problem("steps".into(), "a process needs at least one step");
        }
        if self.steps.len() > 200 {
            problem("steps".into(), "a process has at most 200 steps");
        }
        if self.transitions.len() > MAX_TRANSITIONS {
            problem(
                "transitions".into(),
                "a process has at most 1000 transitions",
            );
        }

        let mut ids = HashSet::new();
        let mut duties: HashMap<(String, String, String), String> = HashMap::new();
        for (i, s) in self.steps.iter().enumerate() {
            let at = if s.id.is_empty() {
                format!("steps[{i}]")
            } else {
                format!("steps[{}]", s.id)
            };
            if !is_identifier(&s.id) {
                problem(
                    format!("{at}.id"),
                    "must be 1-64 lower-case letters, digits, '_' or '-'",
                );
            } else if !ids.insert(s.id.as_str()) {
                problem(format!("{at}.id"), "is used by another step");
            }
            if s.name.trim().is_empty() || has_control(&s.name) {
                problem(
                    format!("{at}.name"),
                    "is required, without control characters",
                );
            }
            if s.kind.is_none() {
                problem(format!("{at}.kind"), "is required");
            }
            match &s.owner {
                None => problem(
                    format!("{at}.owner"),
                    "every step needs an accountable owner (a role)",
                ),
                Some(owner) => {
                    if owner.role.trim().is_empty() {
                        problem(
                            format!("{at}.owner.role"),
                            "every step needs an accountable owner (a role)",
                        );
                    } else if procedo_platform::identity::Role::parse(&owner.role).is_none() {
                        problem(format!("{at}.owner.role"), "is not a known role");
                    }
                    if matches!(&owner.scope, Scope::Fixed(d) if d.trim().is_empty()) {
                        problem(
                            format!("{at}.owner.department"),
                            "a fixed scope needs a department",
                        );
                    }
                }
            }
            if s.content.trim().is_empty() {
                problem(format!("{at}.content"), "every step needs its work content");
            }
            if s.standard.is_empty() || s.standard.iter().any(|c| c.trim().is_empty()) {
                problem(
                    format!("{at}.standard"),
                    "every step needs a completion standard (non-empty checklist items)",
                );
            }
            if s.standard.len() > MAX_STANDARD_ITEMS {
                problem(
                    format!("{at}.standard"),
                    "a completion standard has at most 50 items",
                );
            }
            if s.departments.len() > MAX_DEPARTMENTS {
                problem(
                    format!("{at}.departments"),
                    "a step names at most 100 departments",
                );
            }
            match s.time_limit {
                None
                | Some(Limit::Elapsed(..=0) | Limit::WorkingTime(..=0) | Limit::WorkingDays(0)) => {
                    problem(
                        format!("{at}.time_limit"),
                        "every step needs a positive time limit (time_limit or limit)",
                    )
                }
                Some(Limit::Elapsed(ms) | Limit::WorkingTime(ms)) if ms > MAX_TIME_LIMIT_MS => {
                    problem(format!("{at}.time_limit"), "must be at most a year")
                }
                Some(Limit::WorkingTime(ms)) if ms % 60_000 != 0 => problem(
                    format!("{at}.limit.working_time"),
                    "must be whole minutes of working time",
                ),
                Some(Limit::WorkingDays(days)) if days > 366 => {
                    problem(format!("{at}.limit.working_days"), "must be at most 366")
                }
                Some(_) => {}
            }
            if [&s.name, &s.content]
                .into_iter()
                .chain(&s.standard)
                .any(|t| has_control(t))
            {
                problem(at.clone(), "text must not contain control characters");
            }
            if let Some(owner) = &s.owner {
                let duty = (
                    owner.role.clone(),
                    scope_key(&owner.scope),
                    s.content.trim().to_lowercase(),
                );
                if !s.content.trim().is_empty() {
                    if let Some(first) = duties.get(&duty) {
                        problem(
                            at.clone(),
                            &format!("duplicates step {first}: same owner and content"),
                        );
                    } else {
                        duties.insert(duty, s.id.clone());
                    }
                }
            }
        }

        let known: HashSet<&str> = self.steps.iter().map(|s| s.id.as_str()).collect();
        if !known.contains(self.start_step.as_str()) {
            problem("start_step".into(), "must name one of the steps");
        }
        let mut edges = HashSet::new();
        for (i, t) in self.transitions.iter().enumerate() {
            let at = format!("transitions[{i}]");
            if !known.contains(t.from.as_str()) {
                problem(
                    format!("{at}.from_step"),
                    &format!("step {:?} does not exist", t.from),
                );
            }
            if !t.to.is_empty() && !known.contains(t.to.as_str()) {
                problem(
                    format!("{at}.to_step"),
                    &format!("step {:?} does not exist", t.to),
                );
            }
            match t.decision {
                None => problem(format!("{at}.decision"), "is required"),
                Some(Decision::SendBack) => problem(
                    format!("{at}.decision"),
                    "SEND_BACK names its target when the task is completed; it needs no transition",
                ),
                Some(d) => {
                    if !edges.insert((t.from.as_str(), d)) {
                        problem(
                            at.clone(),
                            &format!("step {} has two {} transitions", t.from, d.as_str()),
                        );
                    }
                    let kind = self
                        .steps
                        .iter()
                        .find(|s| s.id == t.from)
                        .and_then(|s| s.kind);
                    if let Some(kind) = kind
                        && !kind.decisions().contains(&d)
                    {
                        problem(
                            format!("{at}.decision"),
                            &format!("a {} step cannot decide {}", kind.as_str(), d.as_str()),
                        );
                    }
                }
            }
            if t.kind.is_none() {
                problem(format!("{at}.kind"), "is required");
            }
            if t.to.is_empty() && t.kind != Some(EdgeKind::Forward) {
                problem(
                    format!("{at}.kind"),
                    "only a forward transition can end the process",
                );
            }
        }
        for s in &self.steps {
            if let Some(kind) = s.kind {
                for d in kind.required_transitions() {
                    if !self
                        .transitions
                        .iter()
                        .any(|t| t.from == s.id && t.decision == Some(*d))
                    {
                        problem(
                            format!("steps[{}]", s.id),
                            &format!("needs a transition for {}", d.as_str()),
                        );
                    }
                }
            }
        }

        if !problems.is_empty() {
            return Err(problems);
        }
        let definition = Definition {
            key: self.key,
            version: 0,
            display_name: self.display_name.trim().to_owned(),
            start_step: self.start_step,
            steps: self
                .steps
                .into_iter()
                .filter_map(|s| {
                    Some(Step {
                        kind: s.kind?,
                        owner: s.owner?,
                        time_limit: s.time_limit?,
                        id: s.id,
                        name: s.name.trim().to_owned(),
                        content: s.content.trim().to_owned(),
                        standard: s.standard.iter().map(|c| c.trim().to_owned()).collect(),
                        departments: s.departments,
                        requires_document: s.requires_document,
                    })
                })
                .collect(),
            transitions: self
                .transitions
                .into_iter()
                .filter_map(|t| {
                    Some(Transition {
                        decision: t.decision?,
                        kind: t.kind?,
                        to: Some(t.to).filter(|to| !to.is_empty()),
                        from: t.from,
                    })
                })
                .collect(),
        };
        let graph = graph_problems(&definition);
        if graph.is_empty() {
            Ok(definition)
        } else {
            Err(graph)
        }
    }
}

fn scope_key(scope: &Scope) -> String {
    match scope {
        Scope::Any => "any".into(),
        Scope::Fixed(d) => format!("fixed:{d}"),
        Scope::Initiator => "initiator".into(),
        Scope::Lead => "lead".into(),
    }
}

/// Reachability and cycles, on a definition whose parts are each valid.
fn graph_problems(d: &Definition) -> Vec<Problem> {
    let mut problems = Vec::new();
    // Reachable from the start, following every kind of transition.
    let mut reached = HashSet::from([d.start_step.as_str()]);
    let mut queue = VecDeque::from([d.start_step.as_str()]);
    while let Some(at) = queue.pop_front() {
        for t in d.transitions.iter().filter(|t| t.from == at) {
            if let Some(to) = t.to.as_deref()
                && reached.insert(to)
            {
                queue.push_back(to);
            }
        }
    }
    for s in &d.steps {
        if !reached.contains(s.id.as_str()) {
            problems.push(Problem {
                field: format!("steps[{}]", s.id),
                description: "cannot be reached from the start step".into(),
            });
        }
    }
    // Able to reach an end (a loop back is fine if the step it returns to
    // goes on to the end).
    let mut ends: HashSet<&str> = d
        .transitions
        .iter()
        .filter(|t| t.to.is_none())
        .map(|t| t.from.as_str())
        .collect();
    loop {
        let before = ends.len();
        for t in &d.transitions {
            if let Some(to) = t.to.as_deref()
                && ends.contains(to)
            {
                ends.insert(t.from.as_str());
            }
        }
        if ends.len() == before {
            break;
        }
    }
    for s in &d.steps {
        if !ends.contains(s.id.as_str()) {
            problems.push(Problem {
                field: format!("steps[{}]", s.id),
                description: "cannot reach the end of the process".into(),
            });
        }
    }
    // Forward transitions form no cycle; loops need an explicit send-back
    // or rectification transition.
    for s in &d.steps {
        if forward_reach(&d.transitions, &s.id).contains(s.id.as_str()) {
            problems.push(Problem {
                field: format!("steps[{}]", s.id),
                description: "forward transitions lead back to this step (a crossing path); mark the loop as SEND_BACK or RECTIFICATION".into(),
            });
        }
    }
    // Send-back and rectification transitions must go back, not forward.
    for t in d.transitions.iter().filter(|t| t.kind != EdgeKind::Forward) {
        if let Some(to) = t.to.as_deref()
            && !forward_reach(&d.transitions, to).contains(t.from.as_str())
        {
            problems.push(Problem {
                field: format!("steps[{}]", t.from),
                description: format!(
                    "its {} transition to {to} does not lead back to an earlier step",
                    t.decision.as_str()
                ),
            });
        }
    }
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert((p.field.clone(), p.description.clone())));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str, kind: StepKind, role: &str, content: &str) -> DraftStep {
        DraftStep {
            id: id.into(),
            name: format!("Step {id}"),
            kind: Some(kind),
            owner: Some(Owner {
                role: role.into(),
                scope: Scope::Initiator,
            }),
            content: content.into(),
            standard: vec!["done".into()],
            time_limit: Some(Limit::Elapsed(3_600_000)),
            departments: vec![],
            requires_document: false,
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

    fn draft() -> Draft {
        Draft {
            key: "purchase".into(),
            display_name: "Purchase".into(),
            start_step: "request".into(),
            steps: vec![
                step("request", StepKind::Task, "executor", "fill in the request"),
                step(
                    "review",
                    StepKind::Review,
                    "department_head",
                    "review the request",
                ),
                step("buy", StepKind::Execution, "executor", "buy it"),
            ],
            transitions: vec![
                edge("request", Decision::Complete, "review", EdgeKind::Forward),
                edge("review", Decision::Approve, "buy", EdgeKind::Forward),
                edge("review", Decision::Reject, "request", EdgeKind::SendBack),
                edge("buy", Decision::Complete, "", EdgeKind::Forward),
            ],
        }
    }

    fn fields(d: Draft) -> Vec<String> {
        d.validate()
            .expect_err("invalid")
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn a_sound_definition_validates() {
        let d = draft().validate().expect("valid");
        assert_eq!(d.steps.len(), 3);
        assert!(d.precedes("request", "buy"));
        assert!(!d.precedes("buy", "request"));
        assert_eq!(
            d.transition("buy", Decision::Complete)
                .and_then(|t| t.to.clone()),
            None
        );
    }

    #[test]
    fn every_step_needs_an_owner_content_standard_and_time_limit() {
        let mut d = draft();
        d.steps[1].owner = None;
        d.steps[1].content = " ".into();
        d.steps[1].standard = vec![];
        d.steps[1].time_limit = Some(Limit::Elapsed(0));
        assert_eq!(
            fields(d),
            [
                "steps[review].owner",
                "steps[review].content",
                "steps[review].standard",
                "steps[review].time_limit"
            ]
        );
    }

    #[test]
    fn step_ids_must_be_unique() {
        let mut d = draft();
        d.steps[2].id = "review".into();
        assert!(fields(d).contains(&"steps[review].id".to_owned()));
    }

    #[test]
    fn two_steps_with_the_same_owner_and_content_are_duplicates() {
        let mut d = draft();
        d.steps.push(step(
            "again",
            StepKind::Task,
            "executor",
            "Fill in the request ",
        ));
        d.transitions
            .push(edge("again", Decision::Complete, "", EdgeKind::Forward));
        let problems = d.validate().expect_err("duplicate");
        assert!(problems.iter().any(
            |p| p.field == "steps[again]" && p.description.contains("duplicates step request")
        ));
    }

    #[test]
    fn transitions_must_point_at_existing_steps() {
        let mut d = draft();
        d.transitions[0].to = "nowhere".into();
        assert!(fields(d).contains(&"transitions[0].to_step".to_owned()));
    }

    #[test]
    fn an_unreachable_step_is_named() {
        let mut d = draft();
        d.steps.push(step(
            "orphan",
            StepKind::Task,
            "executor",
            "nothing leads here",
        ));
        d.transitions
            .push(edge("orphan", Decision::Complete, "", EdgeKind::Forward));
        let problems = d.validate().expect_err("orphan");
        assert_eq!(problems[0].field, "steps[orphan]");
        assert!(problems[0].description.contains("cannot be reached"));
    }

    #[test]
    fn a_step_that_cannot_reach_the_end_is_named() {
        let mut d = draft();
        d.transitions[3] = edge("buy", Decision::Complete, "request", EdgeKind::SendBack);
        let problems = d.validate().expect_err("no end");
        assert!(
            problems
                .iter()
                .any(|p| p.field == "steps[buy]" && p.description.contains("cannot reach the end"))
        );
    }

    #[test]
    fn a_forward_cycle_is_a_crossing_path_but_a_marked_loop_is_fine() {
        let mut d = draft();
        d.transitions[2].kind = Some(EdgeKind::Forward);
        let problems = d.validate().expect_err("cycle");
        assert!(
            problems
                .iter()
                .any(|p| p.field == "steps[request]" && p.description.contains("crossing path"))
        );
        assert!(draft().validate().is_ok());
    }

    #[test]
    fn a_send_back_must_lead_back() {
        let mut d = draft();
        d.steps
            .push(step("extra", StepKind::Task, "executor", "later work"));
        d.transitions[3] = edge("buy", Decision::Complete, "extra", EdgeKind::Forward);
        d.transitions
            .push(edge("extra", Decision::Complete, "", EdgeKind::Forward));
        d.transitions[2] = edge("review", Decision::Reject, "extra", EdgeKind::SendBack);
        let problems = d.validate().expect_err("forward send-back");
        assert!(problems.iter().any(|p| p.field == "steps[review]" && p.description.contains("does not lead back")));
    }

    #[test]
    fn a_step_kind_limits_its_decisions_and_requires_its_transitions() {
        let mut d = draft();
        d.transitions[1].decision = Some(Decision::Pass);
        let problems = d.validate().expect_err("bad decision");
        assert!(
            problems
                .iter()
                .any(|p| p.field == "transitions[1].decision")
        );
        assert!(
            problems
                .iter()
                .any(|p| p.field == "steps[review]" && p.description.contains("APPROVE"))
        );
    }

    #[test]
    fn unknown_roles_and_missing_kinds_are_named() {
        let mut d = draft();
        d.steps[0].owner = Some(Owner {
            role: "wizard".into(),
            scope: Scope::Any,
        });
        d.steps[2].kind = None;
        let f = fields(d);
        assert!(f.contains(&"steps[request].owner.role".to_owned()));
        assert!(f.contains(&"steps[buy].kind".to_owned()));
    }
}
