//! Department meetings (§5.1): progress, problems, coordination items and
//! action items that become owned, dated tasks.

use procedo_platform::identity::{Actor, Role};
use procedo_platform::time::Millis;

/// A meeting as recorded, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeeting {
    pub department: String,
    pub title: String,
    pub held_at: Millis,
    pub attendees: Vec<String>,
    pub progress: String,
    pub problems: Vec<String>,
    /// (problem, responsible department).
    pub coordination: Vec<(String, String)>,
    pub action_items: Vec<NewActionItem>,
}

/// An action item: one person's, by a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActionItem {
    pub description: String,
    pub owner: String,
    pub due_at: Millis,
}

/// Heads record their own department's meetings; admins any department's.
pub fn may_record(actor: &Actor, department: &str) -> Result<(), String> {
    if actor.has(Role::Admin) || department == actor.department {
        Ok(())
    } else {
        Err(format!(
            "only the head of {department} may record its meetings"
        ))
    }
}
