//! How an instance moves: which tasks a step opens ([`enter`]), what a
//! completed task leads to ([`decide`]), and what a completion must carry
//! ([`check_completion`]). Pure: the caller loads the definition, the
//! instance and the round's tasks, and stores what comes back.

use procedo_platform::calendar::Limit;
use procedo_platform::calendars::Stored;
use procedo_platform::deadline::Deadline;
use procedo_platform::time::Millis;

use super::definition::{Decision, Definition, EdgeKind, Scope, Step, StepKind};
use super::instance::Instance;
use super::task::{StepWork, Task, TaskStatus};

/// When a move happens, and the calendar its time limits count on.
#[derive(Debug, Clone, Copy)]
pub struct Clock<'a> {
    pub now: Millis,
    pub calendar: &'a Stored,
}

/// What a step's tasks inherit from what sent the work there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carry {
    /// Opinions of the round that sent the work back.
    pub prior_opinions: Vec<String>,
    /// What a rectification must fix.
    pub requirements: Vec<String>,
    /// The time a rectification is given.
    pub rectification: Option<Rectify>,
}

/// By when a rectification is due, as the failing acceptor gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rectify {
    /// At a fixed time.
    Until(Millis),
    /// Within a time limit from when it opens, on the calendar (a calendar
    /// change moves it).
    Within(Limit),
}

impl Rectify {
    /// Its due time, were it to open at `now`.
    pub fn due(self, now: Millis, calendar: &Stored) -> Millis {
        match self {
            Rectify::Until(at) => at,
            Rectify::Within(limit) => calendar.calendar.due(now, limit),
        }
    }

    fn deadline(self, now: Millis, calendar: &Stored) -> Deadline {
        match self {
            Rectify::Until(at) => Deadline::until(now, at, calendar),
            Rectify::Within(limit) => Deadline::start(now, limit, calendar),
        }
    }
}

/// A task to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub step: String,
    pub visit: i64,
    pub kind: StepKind,
    pub title: String,
    pub content: String,
    pub standard: Vec<String>,
    pub role: String,
    pub department: String,
    pub approval_level: i32,
    pub chain_index: i32,
    pub deadline: Deadline,
    pub requirements: Vec<String>,
    pub prior_opinions: Vec<String>,
}

fn task_for(step: &Step, visit: i64, department: &str, carry: &Carry, clock: Clock) -> NewTask {
    NewTask {
        step: step.id.clone(),
        visit,
        kind: step.kind,
        title: step.name.clone(),
        content: step.content.clone(),
        standard: step.standard.clone(),
        role: step.owner.role.clone(),
        department: department.to_owned(),
        approval_level: 0,
        chain_index: 0,
        deadline: match carry.rectification {
            Some(rectify) => rectify.deadline(clock.now, clock.calendar),
            None => Deadline::start(clock.now, step.time_limit, clock.calendar),
        },
        requirements: carry.requirements.clone(),
        prior_opinions: carry.prior_opinions.clone(),
    }
}

fn departments<'a>(listed: &'a [String], default: &'a [String], fallback: &'a str) -> Vec<&'a str> {
    let chosen = if listed.is_empty() { default } else { listed };
    if chosen.is_empty() {
        vec![fallback]
    } else {
        chosen.iter().map(String::as_str).collect()
    }
}

/// The tasks entering `step` opens. Approval steps need the instance's
/// approval chain resolved first; they open the first level's task.
pub fn enter(
    instance: &Instance,
    step: &Step,
    visit: i64,
    carry: &Carry,
    clock: Clock,
) -> Vec<NewTask> {
    let p = &instance.participants;
    match step.kind {
        StepKind::Task | StepKind::Review | StepKind::Rectification => {
            let department = match &step.owner.scope {
                Scope::Any => "",
                Scope::Fixed(d) => d.as_str(),
                Scope::Initiator => instance.initiator_department.as_str(),
                Scope::Lead => instance.lead_department(),
            };
            let department =
                if step.kind == StepKind::Rectification && step.owner.scope == Scope::Any {
                    instance.lead_department()
                } else {
                    department
                };
            vec![task_for(step, visit, department, carry, clock)]
        }
        StepKind::Countersign => departments(
            &p.review_departments,
            &step.departments,
            &instance.initiator_department,
        )
        .into_iter()
        .map(|d| task_for(step, visit, d, carry, clock))
        .collect(),
        StepKind::Acceptance => departments(
            &p.acceptance_departments,
            &step.departments,
            &instance.initiator_department,
        )
        .into_iter()
        .map(|d| task_for(step, visit, d, carry, clock))
        .collect(),
        StepKind::Execution => {
            let lead = instance.lead_department();
            std::iter::once(lead)
                .chain(
                    p.supporting_departments
                        .iter()
                        .map(String::as_str)
                        .filter(|d| *d != lead),
                )
                .enumerate()
                .map(|(i, d)| NewTask {
                    // chain_index 0 is the lead; supporters follow.
                    chain_index: i32::try_from(i).unwrap_or(i32::MAX),
                    ..task_for(step, visit, d, carry, clock)
                })
                .collect()
        }
        StepKind::Approval => approval_task(step, instance, visit, 0, carry, clock)
            .into_iter()
            .collect(),
    }
}

fn approval_task(
    step: &Step,
    instance: &Instance,
    visit: i64,
    index: usize,
    carry: &Carry,
    clock: Clock,
) -> Option<NewTask> {
    let level = instance.approval_chain.get(index)?;
    let department = match &step.owner.scope {
        Scope::Fixed(d) => d.as_str(),
        Scope::Initiator => instance.initiator_department.as_str(),
        Scope::Lead => instance.lead_department(),
        Scope::Any => "",
    };
    Some(NewTask {
        title: format!("{} — {}", step.name, level.name),
        approval_level: level.level,
        chain_index: i32::try_from(index).unwrap_or(i32::MAX),
        ..task_for(step, visit, department, carry, clock)
    })
}

/// What completing a task carries besides the decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    pub decision: Option<Decision>,
    pub opinion: String,
    pub document: String,
    pub send_back_to: String,
    pub required_changes: Vec<String>,
    pub requirements: Vec<String>,
    /// FAIL: the time given for rectification.
    pub rectification: Option<Rectify>,
}

/// A completion that does not fit its task: the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfit {
    pub field: &'static str,
    pub description: String,
}

fn unfit(field: &'static str, description: impl Into<String>) -> Unfit {
    Unfit {
        field,
        description: description.into(),
    }
}

/// Checks a completion against its step before anything changes.
pub fn check_completion(
    def: &Definition,
    step: &Step,
    round: &[Task],
    c: &Completion,
) -> Result<Decision, Unfit> {
    let decision = c.decision.ok_or_else(|| unfit("decision", "is required"))?;
    if !step.kind.decisions().contains(&decision) {
        let allowed: Vec<_> = step.kind.decisions().iter().map(|d| d.as_str()).collect();
        return Err(unfit(
            "decision",
            format!(
                "a {} task decides one of: {}",
                step.kind.as_str(),
                allowed.join(", ")
            ),
        ));
    }
    if decision == Decision::Reject && def.transition(&step.id, Decision::Reject).is_none() {
        return Err(unfit(
            "decision",
            format!(
                "step {} has no REJECT transition; send back instead",
                step.id
            ),
        ));
    }
    if decision == Decision::SendBack {
        if def.step(&c.send_back_to).is_none() {
            return Err(unfit(
                "send_back_to_step",
                format!("step {:?} does not exist", c.send_back_to),
            ));
        }
        if !def.precedes(&c.send_back_to, &step.id) {
            return Err(unfit(
                "send_back_to_step",
                format!("{} does not come before {}", c.send_back_to, step.id),
            ));
        }
        if c.required_changes.is_empty() {
            return Err(unfit("required_changes", "say what must change"));
        }
    }
    if decision == Decision::Fail {
        if c.requirements.is_empty() {
            return Err(unfit(
                "rectification_requirements",
                "say what must be rectified",
            ));
        }
        if c.rectification.is_none() {
            return Err(unfit(
                "rectification_deadline",
                "is required (or rectification_limit)",
            ));
        }
    }
    let produces = matches!(
        decision,
        Decision::Complete | Decision::Approve | Decision::Pass
    );
    if step.requires_document && produces && c.document.trim().is_empty() {
        return Err(unfit(
            "document",
            format!("step {} needs a document reference", step.id),
        ));
    }
    if decision == Decision::Pass {
        let report = round
            .iter()
            .find(|t| t.decision == Some(Decision::Pass) && !t.document.is_empty())
            .map(|t| t.document.as_str());
        if let Some(report) = report
            && !c.document.is_empty()
            && c.document != report
        {
            return Err(unfit(
                "document",
                format!("the acceptors sign one report: {report}"),
            ));
        }
    }
    if matches!(
        decision,
        Decision::Reject | Decision::Fail | Decision::SendBack
    ) && c.opinion.trim().is_empty()
    {
        return Err(unfit("opinion", "give the reasons"));
    }
    Ok(decision)
}

/// Where the instance goes once a task of `step` is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Other tasks of the round are still open.
    Wait,
    /// The next approval level's task (boxed: a task is large beside the
    /// other moves).
    Open(Box<NewTask>),
    /// Leave the step: to `to`, or end the process when `None`.
    Go {
        to: Option<String>,
        via: EdgeKind,
        carry: Carry,
        decision: Decision,
    },
}

impl Next {
    /// Whether this ends an acceptance step with a pass (§3.2.5).
    pub fn passes_acceptance(&self, step: &Step) -> bool {
        step.kind == StepKind::Acceptance
            && matches!(
                self,
                Next::Go {
                    decision: Decision::Pass,
                    ..
                }
            )
    }
}

/// The tasks a running joint review opens for departments that joined it:
/// one for each participant reviewer not yet reviewing in this round.
pub fn join_review(
    instance: &Instance,
    step: &Step,
    round: &[Task],
    visit: i64,
    clock: Clock,
) -> Vec<NewTask> {
    enter(instance, step, visit, &Carry::default(), clock)
        .into_iter()
        .filter(|t| !round.iter().any(|r| r.department == t.department))
        .collect()
}

/// Why the task cannot be completed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfTurn(pub String);

/// Supporting departments finish before the lead (§3.2.4).
pub fn check_turn(task: &Task, work: &StepWork, round: &[Task]) -> Result<(), OutOfTurn> {
    if work.kind == StepKind::Execution && work.chain_index == 0 {
        let open: Vec<_> = round
            .iter()
            .filter(|t| t.id != task.id && t.status == TaskStatus::Open)
            .map(|t| t.department.as_str())
            .collect();
        if !open.is_empty() {
            return Err(OutOfTurn(format!(
                "execution cannot finish while supporting tasks are open ({})",
                open.join(", ")
            )));
        }
    }
    Ok(())
}

/// What follows `task` (already marked completed in `round`, the tasks of
/// its step and visit), which stands at `work` in the instance.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    def: &Definition,
    instance: &Instance,
    step: &Step,
    task: &Task,
    work: &StepWork,
    completion: &Completion,
    round: &[Task],
    clock: Clock,
) -> Next {
    let Some(decision) = task.decision else {
        return Next::Wait;
    };
    let follow = |decision: Decision, carry: Carry| match def.transition(&step.id, decision) {
        Some(t) => Next::Go {
            to: t.to.clone(),
            via: t.kind,
            carry,
            decision,
        },
        None => Next::Wait,
    };
    let opinions = |tasks: &[Task]| {
        tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Completed)
            .map(|t| {
                format!(
                    "{} ({}): {} — {}",
                    t.department,
                    t.decision.map_or("", Decision::as_str),
                    t.opinion,
                    signer(t)
                )
            })
            .collect::<Vec<_>>()
    };
    match step.kind {
        StepKind::Task | StepKind::Rectification => follow(Decision::Complete, Carry::default()),
        StepKind::Execution => {
            if work.chain_index == 0 {
                follow(Decision::Complete, Carry::default())
            } else {
                Next::Wait
            }
        }
        StepKind::Review | StepKind::Approval => match decision {
            Decision::SendBack => Next::Go {
                to: Some(completion.send_back_to.clone()),
                via: EdgeKind::SendBack,
                carry: Carry {
                    prior_opinions: std::iter::once(format!("{}: {}", signer(task), task.opinion))
                        .chain(
                            completion
                                .required_changes
                                .iter()
                                .map(|c| format!("required change: {c}")),
                        )
                        .collect(),
                    ..Carry::default()
                },
                decision,
            },
            Decision::Reject => follow(
                decision,
                Carry {
                    prior_opinions: vec![format!("{}: {}", signer(task), task.opinion)],
                    ..Carry::default()
                },
            ),
            _ => {
                let next_index = usize::try_from(work.chain_index).unwrap_or(0) + 1;
                match (
                    step.kind,
                    approval_task(
                        step,
                        instance,
                        work.visit,
                        next_index,
                        &Carry::default(),
                        clock,
                    ),
                ) {
                    (StepKind::Approval, Some(next)) => Next::Open(Box::new(next)),
                    _ => follow(decision, Carry::default()),
                }
            }
        },
        StepKind::Countersign | StepKind::Acceptance => {
            if round.iter().any(|t| t.status == TaskStatus::Open) {
                return Next::Wait;
            }
            let objected = round
                .iter()
                .any(|t| matches!(t.decision, Some(Decision::Reject | Decision::Fail)));
            match (step.kind, objected) {
                (StepKind::Countersign, true) => follow(
                    Decision::Reject,
                    Carry {
                        prior_opinions: opinions(round),
                        ..Carry::default()
                    },
                ),
                (StepKind::Acceptance, true) => {
                    let failed: Vec<&Task> = round
                        .iter()
                        .filter(|t| t.decision == Some(Decision::Fail))
                        .collect();
                    follow(
                        Decision::Fail,
                        Carry {
                            prior_opinions: opinions(round),
                            requirements: failed
                                .iter()
                                .flat_map(|t| t.requirements.clone())
                                .collect(),
                            // The earliest time asked for rectification.
                            rectification: failed
                                .iter()
                                .filter_map(|t| {
                                    let due = t.rectification_deadline?;
                                    Some(match t.rectification_limit {
                                        Some(limit) => (due, Rectify::Within(limit)),
                                        None => (due, Rectify::Until(due)),
                                    })
                                })
                                .min_by_key(|(due, _)| *due)
                                .map(|(_, rectify)| rectify),
                        },
                    )
                }
                (StepKind::Countersign, false) => follow(Decision::Approve, Carry::default()),
                _ => follow(Decision::Pass, Carry::default()),
            }
        }
    }
}

fn signer(task: &Task) -> String {
    task.signature
        .as_ref()
        .map(|s| {
            let who = if s.name.is_empty() {
                &s.signer
            } else {
                &s.name
            };
            if s.title.is_empty() {
                who.clone()
            } else {
                format!("{who}, {}", s.title)
            }
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    fn clock(now: Millis) -> Clock<'static> {
        static UTC: std::sync::LazyLock<Stored> = std::sync::LazyLock::new(|| {
            Stored::seed(procedo_platform::calendar::Calendar::standard(
                chrono_tz::UTC,
            ))
        });
        Clock {
            now,
            calendar: &UTC,
        }
    }

    use super::*;
    use crate::domain::instance::{Form, InstanceStatus, Participants};
    use crate::domain::matrix::Level;
    use crate::domain::standard;
    use crate::domain::task::Signature;
    use procedo_platform::identity::{Actor, Clearance};

    fn actor() -> Actor {
        Actor {
            subject: "ann".into(),
            name: "Ann".into(),
            title: "Head".into(),
            department: "sales".into(),
            roles: vec![],
            approval_level: 0,
            clearance: Clearance::Internal,
        }
    }

    fn instance() -> Instance {
        Instance {
            id: "i".into(),
            definition_key: "standard".into(),
            definition_version: 1,
            business_key: "b".into(),
            origin: String::new(),
            business_type: "loan".into(),
            amount: None,
            title: "t".into(),
            status: InstanceStatus::Running,
            initiator_department: "sales".into(),
            initiator: actor(),
            form: Form::default(),
            participants: Participants {
                review_departments: vec!["finance".into(), "legal".into()],
                lead_department: "ops".into(),
                supporting_departments: vec!["it".into()],
                acceptance_departments: vec![],
            },
            approval_chain: vec![
                Level {
                    level: 1,
                    name: "Department head".into(),
                },
                Level {
                    level: 2,
                    name: "Vice-president".into(),
                },
            ],
            matrix_version: 1,
            plan_document: String::new(),
            acceptance_report: String::new(),
            acceptance_signatures: vec![],
            cancel_reason: String::new(),
            created_at: 0,
            updated_at: 0,
            ended_at: None,
            version: 1,
            history_seq: 0,
        }
    }

    fn open(n: &NewTask, id: &str) -> Task {
        Task::of_step(id.into(), "i", n.clone(), 0)
    }

    fn work(t: &Task) -> StepWork {
        t.step_work().cloned().expect("a step task")
    }

    fn done(mut t: Task, decision: Decision, opinion: &str) -> Task {
        t.status = TaskStatus::Completed;
        t.decision = Some(decision);
        t.opinion = opinion.into();
        t.signature = Some(Signature::of(&actor(), 5));
        t
    }

    #[test]
    fn a_joint_review_opens_one_task_per_department_and_waits_for_all() {
        let def = standard::definition();
        let step = def.step("joint_review").expect("step");
        let tasks = enter(&instance(), step, 7, &Carry::default(), clock(0));
        let departments: Vec<_> = tasks.iter().map(|t| t.department.as_str()).collect();
        assert_eq!(departments, ["finance", "legal"]);

        let first = done(open(&tasks[0], "a"), Decision::Approve, "fine");
        let round = [first.clone(), open(&tasks[1], "b")];
        assert_eq!(
            decide(
                &def,
                &instance(),
                step,
                &first,
                &work(&first),
                &Completion::default(),
                &round,
                clock(0)
            ),
            Next::Wait
        );
    }

    #[test]
    fn any_objection_in_a_joint_review_sends_the_plan_back_with_every_opinion() {
        let def = standard::definition();
        let step = def.step("joint_review").expect("step");
        let tasks = enter(&instance(), step, 7, &Carry::default(), clock(0));
        let round = [
            done(open(&tasks[0], "a"), Decision::Approve, "fine"),
            done(
                open(&tasks[1], "b"),
                Decision::Reject,
                "risk section missing",
            ),
        ];
        let Next::Go { to, via, carry, .. } = decide(
            &def,
            &instance(),
            step,
            &round[1],
            &work(&round[1]),
            &Completion::default(),
            &round,
            clock(0),
        ) else {
            panic!("should leave the step");
        };
        assert_eq!(to.as_deref(), Some("plan"));
        assert_eq!(via, EdgeKind::SendBack);
        assert_eq!(carry.prior_opinions.len(), 2);
        assert!(carry.prior_opinions[1].contains("legal (REJECT): risk section missing"));
    }

    #[test]
    fn approval_goes_level_by_level() {
        let def = standard::definition();
        let step = def.step("approval").expect("step");
        let first = enter(&instance(), step, 9, &Carry::default(), clock(0));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].approval_level, 1);
        let t = done(open(&first[0], "a"), Decision::Approve, "ok");
        let Next::Open(second) = decide(
            &def,
            &instance(),
            step,
            &t,
            &work(&t),
            &Completion::default(),
            std::slice::from_ref(&t),
            clock(0),
        ) else {
            panic!("the second level follows");
        };
        assert_eq!(second.approval_level, 2);
        let t2 = done(open(&second, "b"), Decision::Approve, "ok");
        let next = decide(
            &def,
            &instance(),
            step,
            &t2,
            &work(&t2),
            &Completion::default(),
            std::slice::from_ref(&t2),
            clock(0),
        );
        assert!(matches!(next, Next::Go { to: Some(ref s), .. } if s == "execution"));
    }

    #[test]
    fn a_send_back_must_name_an_earlier_step_and_the_changes() {
        let def = standard::definition();
        let step = def.step("approval").expect("step");
        let mut c = Completion {
            decision: Some(Decision::SendBack),
            opinion: "budget too high".into(),
            send_back_to: "execution".into(),
            ..Completion::default()
        };
        assert_eq!(
            check_completion(&def, step, &[], &c).map_err(|u| u.field),
            Err("send_back_to_step")
        );
        c.send_back_to = "plan".into();
        assert_eq!(
            check_completion(&def, step, &[], &c).map_err(|u| u.field),
            Err("required_changes")
        );
        c.required_changes = vec!["cut the budget by 10%".into()];
        assert_eq!(
            check_completion(&def, step, &[], &c),
            Ok(Decision::SendBack)
        );
    }

    #[test]
    fn the_lead_finishes_execution_only_after_the_supporters() {
        let def = standard::definition();
        let step = def.step("execution").expect("step");
        let tasks = enter(&instance(), step, 3, &Carry::default(), clock(0));
        assert_eq!(
            tasks
                .iter()
                .map(|t| t.department.as_str())
                .collect::<Vec<_>>(),
            ["ops", "it"]
        );
        let lead = open(&tasks[0], "lead");
        let support = open(&tasks[1], "support");
        assert!(check_turn(&lead, &work(&lead), &[lead.clone(), support.clone()]).is_err());
        let support = done(support, Decision::Complete, "done");
        assert!(check_turn(&lead, &work(&lead), &[lead.clone(), support]).is_ok());
    }

    #[test]
    fn a_failed_acceptance_opens_rectification_with_the_requirements_and_earliest_deadline() {
        let def = standard::definition();
        let step = def.step("acceptance").expect("step");
        let tasks = enter(&instance(), step, 4, &Carry::default(), clock(0));
        assert_eq!(
            tasks.len(),
            1,
            "the initiating department accepts by default"
        );
        let mut failed = done(open(&tasks[0], "a"), Decision::Fail, "quality short");
        failed.requirements = vec!["redo the tests".into()];
        failed.rectification_deadline = Some(5_000);
        let next = decide(
            &def,
            &instance(),
            step,
            &failed,
            &work(&failed),
            &Completion::default(),
            std::slice::from_ref(&failed),
            clock(0),
        );
        let Next::Go { to, carry, .. } = next else {
            panic!("leaves acceptance")
        };
        assert_eq!(to.as_deref(), Some("rectification"));
        assert_eq!(carry.requirements, ["redo the tests"]);
        let rect = enter(
            &instance(),
            def.step("rectification").expect("step"),
            5,
            &carry,
            clock(0),
        );
        assert_eq!(rect[0].deadline.due, 5_000);
        assert_eq!(rect[0].department, "ops");

        // Given as working time, it counts on the calendar from when the
        // rectification opens: Monday 7 December 2026 10:00 UTC plus two
        // working days.
        let monday = 1_796_637_600_000;
        failed.rectification_limit = Some(Limit::WorkingDays(2));
        let Next::Go { carry, .. } = decide(
            &def,
            &instance(),
            step,
            &failed,
            &work(&failed),
            &Completion::default(),
            std::slice::from_ref(&failed),
            clock(monday),
        ) else {
            panic!("leaves acceptance")
        };
        assert_eq!(
            carry.rectification,
            Some(Rectify::Within(Limit::WorkingDays(2)))
        );
        let rect = enter(
            &instance(),
            def.step("rectification").expect("step"),
            5,
            &carry,
            clock(monday),
        );
        assert_eq!(rect[0].deadline.due, monday + 2 * 86_400_000);
        assert_eq!(rect[0].deadline.limit, Limit::WorkingDays(2));
    }

    #[test]
    fn failing_needs_requirements_and_a_time_for_rectification() {
        let def = standard::definition();
        let step = def.step("acceptance").expect("step");
        let mut c = Completion {
            decision: Some(Decision::Fail),
            opinion: "no".into(),
            requirements: vec!["x".into()],
            ..Completion::default()
        };
        assert_eq!(
            check_completion(&def, step, &[], &c).map_err(|u| u.field),
            Err("rectification_deadline")
        );
        c.rectification = Some(Rectify::Until(30));
        assert_eq!(check_completion(&def, step, &[], &c), Ok(Decision::Fail));
        c.rectification = Some(Rectify::Within(Limit::WorkingDays(5)));
        assert_eq!(check_completion(&def, step, &[], &c), Ok(Decision::Fail));
        c.requirements.clear();
        assert_eq!(
            check_completion(&def, step, &[], &c).map_err(|u| u.field),
            Err("rectification_requirements")
        );
        c.decision = Some(Decision::Approve);
        assert_eq!(
            check_completion(&def, step, &[], &c).map_err(|u| u.field),
            Err("decision")
        );
    }
}
