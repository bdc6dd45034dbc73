//! Tasks: the work items of instances and meetings, who may act on them,
//! and how they move: claimed, completed with a signed decision, reassigned
//! by the department's head, delegated by their assignee.

use procedo_platform::calendar::Limit;
use procedo_platform::calendars::Stored;
use procedo_platform::deadline::Deadline;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::state::{IllegalTransition, State};
use procedo_platform::time::Millis;

use super::definition::{Decision, StepKind};
use super::engine::{Completion, NewTask, Rectify, Unfit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Open,
    Completed,
    Cancelled,
}

impl State for TaskStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "OPEN",
            TaskStatus::Completed => "COMPLETED",
            TaskStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        [
            TaskStatus::Open,
            TaskStatus::Completed,
            TaskStatus::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// Who signed, with what title, when (§3.2.1, §3.2.5).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Signature {
    pub signer: String,
    pub name: String,
    pub title: String,
    pub at: Millis,
}

impl Signature {
    pub fn of(actor: &Actor, at: Millis) -> Signature {
        Signature {
            signer: actor.subject.clone(),
            name: actor.name.clone(),
            title: actor.title.clone(),
            at,
        }
    }
}

/// What a task is part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// A step of a process instance.
    Step(StepWork),
    /// An action item a department meeting recorded (§5.1), owned by one
    /// person from the start.
    ActionItem { meeting_id: String },
}

/// Where a step task stands in its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepWork {
    pub instance_id: String,
    pub step: String,
    /// Which entry into the step opened it (the tasks of one round share
    /// it).
    pub visit: i64,
    pub kind: StepKind,
    /// The position in the approval chain (approval steps); 0 for the
    /// execution lead, then the supporting departments.
    pub chain_index: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: String,
    pub work: Work,
    pub title: String,
    pub content: String,
    pub standard: Vec<String>,
    /// Empty: anyone may act (action items, which have an assignee).
    pub role: String,
    /// Empty: any department.
    pub department: String,
    pub approval_level: i32,
    /// Who holds the task; once completed, who completed it.
    pub assignee: String,
    pub delegated_by: String,
    pub status: TaskStatus,
    /// Its clock: the limit on the calendar, the due time, met once
    /// completed.
    pub deadline: Deadline,
    pub overdue_at: Option<Millis>,
    pub escalated_at: Option<Millis>,
    pub decision: Option<Decision>,
    pub opinion: String,
    pub signature: Option<Signature>,
    pub document: String,
    pub requirements: Vec<String>,
    /// A failed acceptance: when rectification is due, as first computed,
    /// and the time limit it was given as.
    pub rectification_deadline: Option<Millis>,
    pub rectification_limit: Option<Limit>,
    pub prior_opinions: Vec<String>,
    pub created_at: Millis,
    pub completed_at: Option<Millis>,
    pub version: i64,
}

/// Why a change to a task is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The task's (or its instance's) state does not allow it.
    State(IllegalTransition),
    /// The caller may not.
    Denied(String),
    /// A field of the request does not fit the task.
    Unfit(Unfit),
    /// Not yet: other work of the step must finish first.
    OutOfTurn(String),
}

/// Why a caller may not act on a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    Role(String),
    Department(String),
    Level(i32),
    Assignee(String),
}

impl Denied {
    pub fn message(&self) -> String {
        match self {
            Denied::Role(role) => format!("this task needs the role {role}"),
            Denied::Department(d) => format!("this task belongs to department {d}"),
            Denied::Level(l) => format!("this task needs approval level {l} or higher"),
            Denied::Assignee(a) => format!("this task is assigned to {a}"),
        }
    }
}

impl Task {
    /// An open task of a step, as the engine describes it.
    pub fn of_step(id: String, instance_id: &str, new: NewTask, now: Millis) -> Task {
        Task {
            id,
            work: Work::Step(StepWork {
                instance_id: instance_id.to_owned(),
                step: new.step,
                visit: new.visit,
                kind: new.kind,
                chain_index: new.chain_index,
            }),
            title: new.title,
            content: new.content,
            standard: new.standard,
            role: new.role,
            department: new.department,
            approval_level: new.approval_level,
            assignee: String::new(),
            delegated_by: String::new(),
            status: TaskStatus::Open,
            deadline: new.deadline,
            overdue_at: None,
            escalated_at: None,
            decision: None,
            opinion: String::new(),
            signature: None,
            document: String::new(),
            requirements: new.requirements,
            rectification_deadline: None,
            rectification_limit: None,
            prior_opinions: new.prior_opinions,
            created_at: now,
            completed_at: None,
            version: 1,
        }
    }

    /// An action item of meeting `meeting_id`, owned by `owner`, on
    /// `deadline`.
    #[allow(clippy::too_many_arguments)]
    pub fn action_item(
        id: String,
        meeting_id: &str,
        meeting_title: &str,
        description: String,
        department: &str,
        owner: String,
        deadline: Deadline,
        now: Millis,
    ) -> Task {
        Task {
            id,
            work: Work::ActionItem {
                meeting_id: meeting_id.to_owned(),
            },
            title: format!("Action item: {meeting_title}"),
            content: description,
            standard: Vec::new(),
            role: String::new(),
            department: department.to_owned(),
            approval_level: 0,
            assignee: owner,
            delegated_by: String::new(),
            status: TaskStatus::Open,
            deadline,
            overdue_at: None,
            escalated_at: None,
            decision: None,
            opinion: String::new(),
            signature: None,
            document: String::new(),
            requirements: Vec::new(),
            rectification_deadline: None,
            rectification_limit: None,
            prior_opinions: Vec::new(),
            created_at: now,
            completed_at: None,
            version: 1,
        }
    }

    pub fn resource(&self) -> String {
        format!("tasks/{}", self.id)
    }

    /// Where the task stands in its instance; `None` for action items.
    pub fn step_work(&self) -> Option<&StepWork> {
        match &self.work {
            Work::Step(work) => Some(work),
            Work::ActionItem { .. } => None,
        }
    }

    /// The instance the task belongs to, if any.
    pub fn instance_id(&self) -> Option<&str> {
        self.step_work().map(|w| w.instance_id.as_str())
    }

    /// The step's id; "" for action items.
    pub fn step_id(&self) -> &str {
        self.step_work().map_or("", |w| w.step.as_str())
    }

    fn require_open(&self, action: &'static str) -> Result<(), Refusal> {
        self.status
            .require(action, &[TaskStatus::Open])
            .map_err(Refusal::State)
    }

    /// `actor` takes the task.
    pub fn claim(&mut self, actor: &Actor) -> Result<(), Refusal> {
        self.require_open("claim")?;
        self.eligible(actor)
            .map_err(|d| Refusal::Denied(d.message()))?;
        self.assignee.clone_from(&actor.subject);
        self.version += 1;
        Ok(())
    }

    /// The head of the task's department hands it to `assignee`; returns
    /// who held it.
    pub fn reassign(&mut self, assignee: String, by: &Actor) -> Result<String, Refusal> {
        self.require_open("reassign")?;
        if !by.has(Role::Admin) && !self.department.is_empty() && self.department != by.department {
            return Err(Refusal::Denied(format!(
                "only the head of {} may reassign this task",
                self.department
            )));
        }
        let previous = std::mem::replace(&mut self.assignee, assignee);
        self.delegated_by.clear();
        self.version += 1;
        Ok(previous)
    }

    /// The assignee hands the task to `delegate`, keeping the record of who
    /// delegated.
    pub fn delegate(&mut self, delegate: String, by: &Actor) -> Result<(), Refusal> {
        self.require_open("delegate")?;
        if self.assignee != by.subject {
            return Err(Refusal::Denied(
                "only the task's assignee may delegate it; claim it first".into(),
            ));
        }
        self.delegated_by.clone_from(&by.subject);
        self.assignee = delegate;
        self.version += 1;
        Ok(())
    }

    /// Whether `actor` may complete the task now (what the completion
    /// carries is the engine's to check).
    pub fn check_completer(&self, actor: &Actor) -> Result<(), Refusal> {
        self.require_open("complete")?;
        self.eligible(actor)
            .map_err(|d| Refusal::Denied(d.message()))
    }

    /// Completes an action item; it takes COMPLETE only.
    pub fn complete_action_item(
        &mut self,
        completion: &Completion,
        actor: &Actor,
        now: Millis,
        calendar: &Stored,
    ) -> Result<(), Refusal> {
        self.check_completer(actor)?;
        if completion.decision != Some(Decision::Complete) {
            return Err(Refusal::Unfit(Unfit {
                field: "decision",
                description: "an action item is completed with COMPLETE".into(),
            }));
        }
        self.complete(Decision::Complete, completion, actor, now, calendar);
        Ok(())
    }

    /// Records the checked `decision`, the opinion and the actor's
    /// signature (§3.2.1, §3.2.5); a failed acceptance keeps what must be
    /// rectified and by when (due on `calendar`, counted from `now`).
    pub fn complete(
        &mut self,
        decision: Decision,
        completion: &Completion,
        actor: &Actor,
        now: Millis,
        calendar: &Stored,
    ) {
        self.status = TaskStatus::Completed;
        self.decision = Some(decision);
        self.opinion.clone_from(&completion.opinion);
        self.signature = Some(Signature::of(actor, now));
        self.document.clone_from(&completion.document);
        if decision == Decision::Fail {
            self.requirements.clone_from(&completion.requirements);
            self.rectification_limit = match completion.rectification {
                Some(Rectify::Within(limit)) => Some(limit),
                _ => None,
            };
            self.rectification_deadline = completion
                .rectification
                .map(|rectify| rectify.due(now, calendar));
        }
        // Open, so its clock runs or is paused: both can be met.
        let _ = self.deadline.meet(now);
        if self.assignee.is_empty() {
            self.assignee.clone_from(&actor.subject);
        }
        self.completed_at = Some(now);
        self.version += 1;
    }

    pub fn is_overdue(&self, now: Millis) -> bool {
        self.status == TaskStatus::Open && now > self.deadline.due
    }

    /// Follows a new version of the calendar its clock counts on; the due
    /// time before, when it moved.
    pub fn follow_calendar(&mut self, calendar: &Stored) -> Option<Millis> {
        if self.status != TaskStatus::Open {
            return None;
        }
        let before = self.deadline.recompute(calendar)?;
        self.version += 1;
        Some(before)
    }

    /// Whether `actor` may act on this task now: it is open and they are
    /// [`Task::eligible`].
    pub fn actionable_by(&self, actor: &Actor) -> bool {
        self.status == TaskStatus::Open && self.eligible(actor).is_ok()
    }

    /// Whether `actor` may claim or complete this task: the role, the
    /// department, the approval level, and the assignee once there is one.
    /// Admins may act on every task.
    pub fn eligible(&self, actor: &Actor) -> Result<(), Denied> {
        if actor.has(Role::Admin) {
            return Ok(());
        }
        if !self.assignee.is_empty() {
            return if actor.subject == self.assignee {
                Ok(())
            } else {
                Err(Denied::Assignee(self.assignee.clone()))
            };
        }
        if !self.role.is_empty()
            && !Role::parse(&self.role).is_some_and(|r| actor.roles.contains(&r))
        {
            return Err(Denied::Role(self.role.clone()));
        }
        if !self.department.is_empty() && actor.department != self.department {
            return Err(Denied::Department(self.department.clone()));
        }
        if actor.approval_level < self.approval_level {
            return Err(Denied::Level(self.approval_level));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use procedo_platform::identity::Clearance;

    fn actor(roles: &[Role], department: &str, level: i32) -> Actor {
        Actor {
            subject: "u1".into(),
            name: "U".into(),
            title: String::new(),
            department: department.into(),
            roles: roles.to_vec(),
            approval_level: level,
            clearance: Clearance::Internal,
        }
    }

    fn utc() -> Stored {
        Stored::seed(procedo_platform::calendar::Calendar::standard(
            chrono_tz::UTC,
        ))
    }

    pub(crate) fn task() -> Task {
        Task {
            id: "t".into(),
            work: Work::Step(StepWork {
                instance_id: "i".into(),
                step: "approval".into(),
                visit: 1,
                kind: StepKind::Approval,
                chain_index: 1,
            }),
            title: String::new(),
            content: String::new(),
            standard: vec![],
            role: "approver".into(),
            department: "finance".into(),
            approval_level: 2,
            assignee: String::new(),
            delegated_by: String::new(),
            status: TaskStatus::Open,
            deadline: Deadline::recorded(0, 100, None),
            overdue_at: None,
            escalated_at: None,
            decision: None,
            opinion: String::new(),
            signature: None,
            document: String::new(),
            requirements: vec![],
            rectification_deadline: None,
            rectification_limit: None,
            prior_opinions: vec![],
            created_at: 0,
            completed_at: None,
            version: 1,
        }
    }

    #[test]
    fn role_department_and_level_all_have_to_match() {
        let t = task();
        assert_eq!(t.eligible(&actor(&[Role::Approver], "finance", 2)), Ok(()));
        assert_eq!(
            t.eligible(&actor(&[Role::Executor], "finance", 2)),
            Err(Denied::Role("approver".into()))
        );
        assert_eq!(
            t.eligible(&actor(&[Role::Approver], "sales", 3)),
            Err(Denied::Department("finance".into()))
        );
        assert_eq!(
            t.eligible(&actor(&[Role::Approver], "finance", 1)),
            Err(Denied::Level(2))
        );
        assert_eq!(t.eligible(&actor(&[Role::Admin], "x", 0)), Ok(()));
    }

    #[test]
    fn once_assigned_only_the_assignee_may_act() {
        let mut t = task();
        t.assignee = "someone-else".into();
        assert_eq!(
            t.eligible(&actor(&[Role::Approver], "finance", 3)),
            Err(Denied::Assignee("someone-else".into()))
        );
        t.assignee = "u1".into();
        assert_eq!(t.eligible(&actor(&[], "elsewhere", 0)), Ok(()));
    }

    #[test]
    fn a_claimed_task_is_delegated_by_its_assignee_and_reassigned_by_its_head() {
        let mut t = task();
        let approver = actor(&[Role::Approver], "finance", 2);
        t.claim(&approver).expect("claimed");
        assert_eq!(t.assignee, "u1");
        let other_head = Actor {
            subject: "h2".into(),
            ..actor(&[Role::DepartmentHead], "sales", 0)
        };
        assert!(matches!(
            t.reassign("x".into(), &other_head),
            Err(Refusal::Denied(_))
        ));
        assert!(matches!(
            t.delegate("x".into(), &other_head),
            Err(Refusal::Denied(_))
        ));
        t.delegate("u2".into(), &approver).expect("delegated");
        assert_eq!((t.assignee.as_str(), t.delegated_by.as_str()), ("u2", "u1"));
        let head = actor(&[Role::DepartmentHead], "finance", 0);
        assert_eq!(t.reassign("u3".into(), &head), Ok("u2".into()));
        assert!(t.delegated_by.is_empty());
    }

    #[test]
    fn an_action_item_is_completed_only_with_complete_and_only_once() {
        let mut item = Task::action_item(
            "a".into(),
            "m",
            "Weekly",
            "order chairs".into(),
            "ops",
            "u1".into(),
            Deadline::recorded(0, 10, None),
            0,
        );
        let owner = actor(&[], "ops", 0);
        let approve = Completion {
            decision: Some(Decision::Approve),
            ..Completion::default()
        };
        assert!(matches!(
            item.complete_action_item(&approve, &owner, 5, &utc()),
            Err(Refusal::Unfit(_))
        ));
        let done = Completion {
            decision: Some(Decision::Complete),
            ..Completion::default()
        };
        item.complete_action_item(&done, &owner, 5, &utc())
            .expect("done");
        assert_eq!(item.status, TaskStatus::Completed);
        assert!(matches!(
            item.complete_action_item(&done, &owner, 6, &utc()),
            Err(Refusal::State(_))
        ));
    }

    #[test]
    fn a_task_is_overdue_only_while_open_after_its_due_time() {
        let mut t = task();
        assert!(!t.is_overdue(100));
        assert!(t.is_overdue(101));
        t.status = TaskStatus::Completed;
        assert!(!t.is_overdue(101));
    }
}
