//! Who sees which tasks and instances (§1.3, confidentiality): the one rule
//! that ListTasks, GetTask, ListInstances, GetInstance and WatchInstance
//! apply.
//!
//! - Admins, auditors (who supervise every procedure) and other services
//!   see everything.
//! - Anyone else sees the tasks they may act on, the tasks assigned to or
//!   delegated by them, and every task of their own department — so a
//!   department head sees what their department does.
//! - An instance is visible to the departments taking part in it (the
//!   initiating department and every participant department), to its
//!   initiator, and to whoever sees one of its tasks.
//!
//! Filters on a list only ever narrow what this rule lets through.

use procedo_platform::identity::{Actor, Role};

use super::instance::Instance;
use super::task::Task;

/// What one caller may see.
#[derive(Debug, Clone)]
pub enum Scope {
    Everything,
    Limited(Actor),
}

impl Scope {
    pub fn of(actor: &Actor) -> Scope {
        if actor.has(Role::Auditor) || actor.roles.contains(&Role::Service) {
            // `has` already lets admins through.
            Scope::Everything
        } else {
            Scope::Limited(actor.clone())
        }
    }

    /// The caller, when the scope is limited.
    pub fn viewer(&self) -> Option<&Actor> {
        match self {
            Scope::Everything => None,
            Scope::Limited(actor) => Some(actor),
        }
    }

    pub fn sees_task(&self, task: &Task) -> bool {
        let Scope::Limited(actor) = self else {
            return true;
        };
        task.assignee == actor.subject
            || task.delegated_by == actor.subject
            || (!actor.department.is_empty() && task.department == actor.department)
            || task.actionable_by(actor)
    }

    /// `tasks`: the instance's tasks.
    pub fn sees_instance(&self, instance: &Instance, tasks: &[Task]) -> bool {
        let Scope::Limited(actor) = self else {
            return true;
        };
        instance.initiator.subject == actor.subject
            || (!actor.department.is_empty()
                && instance.departments().any(|d| d == actor.department))
            || tasks.iter().any(|t| self.sees_task(t))
    }
}

#[cfg(test)]
mod tests {
    use procedo_platform::identity::Clearance;

    use super::*;
    use crate::domain::task::TaskStatus;
    use crate::domain::task::tests::task;

    fn actor(subject: &str, roles: &[Role], department: &str, level: i32) -> Actor {
        Actor {
            subject: subject.into(),
            name: subject.into(),
            title: String::new(),
            department: department.into(),
            roles: roles.to_vec(),
            approval_level: level,
            clearance: Clearance::Internal,
        }
    }

    #[test]
    fn a_task_is_seen_by_who_may_act_on_it_its_assignee_and_its_department() {
        let t = task(); // an open approval task of finance at level 2
        let seen = |a: &Actor| Scope::of(a).sees_task(&t);
        assert!(seen(&actor("a", &[Role::Approver], "finance", 2)));
        assert!(
            seen(&actor("b", &[Role::Executor], "finance", 0)),
            "own department"
        );
        assert!(
            !seen(&actor("c", &[Role::Approver], "sales", 3)),
            "another department"
        );
        assert!(!seen(&actor("d", &[Role::DepartmentHead], "sales", 0)));
        assert!(seen(&actor("e", &[Role::Auditor], "audit", 0)));
        assert!(seen(&actor("f", &[Role::Admin], "", 0)));
        let mut assigned = t.clone();
        assigned.department = "legal".into();
        assigned.assignee = "g".into();
        assert!(Scope::of(&actor("g", &[], "sales", 0)).sees_task(&assigned));
    }

    #[test]
    fn a_finished_task_is_no_longer_offered_to_those_who_could_have_taken_it() {
        let mut t = task();
        t.department = String::new();
        let approver = actor("a", &[Role::Approver], "sales", 2);
        assert!(Scope::of(&approver).sees_task(&t));
        t.status = TaskStatus::Completed;
        assert!(!Scope::of(&approver).sees_task(&t));
    }
}
