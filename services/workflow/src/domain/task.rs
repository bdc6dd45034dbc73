//! Tasks: the work items of instances and meetings, with who may act on
//! them.

use procedo_platform::identity::{Actor, Role};
use procedo_platform::state::State;
use procedo_platform::time::Millis;

use super::definition::{Decision, StepKind};

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: String,
    pub instance_id: Option<String>,
    pub meeting_id: Option<String>,
    pub step: String,
    /// Which entry into the step created it (tasks of one round share it).
    pub visit: i64,
    /// `None` for meeting action items.
    pub kind: Option<StepKind>,
    pub title: String,
    pub content: String,
    pub standard: Vec<String>,
    /// Empty: anyone may act (action items, which have an assignee).
    pub role: String,
    /// Empty: any department.
    pub department: String,
    pub approval_level: i32,
    /// The position in the approval chain, for approval tasks.
    pub chain_index: i32,
    pub assignee: String,
    pub delegated_by: String,
    pub status: TaskStatus,
    pub due_at: Millis,
    pub overdue_at: Option<Millis>,
    pub escalated_at: Option<Millis>,
    pub decision: Option<Decision>,
    pub opinion: String,
    pub signature: Option<Signature>,
    pub document: String,
    pub requirements: Vec<String>,
    pub rectification_deadline: Option<Millis>,
    pub prior_opinions: Vec<String>,
    pub created_at: Millis,
    pub completed_at: Option<Millis>,
    pub version: i64,
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
    pub fn resource(&self) -> String {
        format!("tasks/{}", self.id)
    }

    pub fn is_overdue(&self, now: Millis) -> bool {
        self.status == TaskStatus::Open && now > self.due_at
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

    pub(crate) fn task() -> Task {
        Task {
            id: "t".into(),
            instance_id: Some("i".into()),
            meeting_id: None,
            step: "approval".into(),
            visit: 1,
            kind: Some(StepKind::Approval),
            title: String::new(),
            content: String::new(),
            standard: vec![],
            role: "approver".into(),
            department: "finance".into(),
            approval_level: 2,
            chain_index: 1,
            assignee: String::new(),
            delegated_by: String::new(),
            status: TaskStatus::Open,
            due_at: 100,
            overdue_at: None,
            escalated_at: None,
            decision: None,
            opinion: String::new(),
            signature: None,
            document: String::new(),
            requirements: vec![],
            rectification_deadline: None,
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
    fn a_task_is_overdue_only_while_open_after_its_due_time() {
        let mut t = task();
        assert!(!t.is_overdue(100));
        assert!(t.is_overdue(101));
        t.status = TaskStatus::Completed;
        assert!(!t.is_overdue(101));
    }
}
