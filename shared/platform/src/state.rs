//! State machines: every resource with a lifecycle names its states, and an
//! action taken in the wrong state says which states would have allowed it.

use tonic::Status;

/// An action the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalTransition {
    /// What was attempted, e.g. "review".
    pub action: &'static str,
    /// The state the resource is in.
    pub current: &'static str,
    /// The states that allow the action.
    pub allowed: Vec<&'static str>,
}

impl IllegalTransition {
    /// FAILED_PRECONDITION about `resource`, with the allowed states.
    pub fn into_status(self, resource: &str) -> Status {
        crate::error::illegal_transition(resource, self.action, self.current, &self.allowed)
    }
}

/// A state of some lifecycle.
pub trait State: Copy + PartialEq + Sized + 'static {
    /// The state's name as clients see it, e.g. "PENDING_REVIEW".
    fn name(self) -> &'static str;

    /// Ok when `self` is one of `allowed`; otherwise says what would be.
    fn require(self, action: &'static str, allowed: &[Self]) -> Result<(), IllegalTransition> {
        if allowed.contains(&self) {
            Ok(())
        } else {
            Err(IllegalTransition {
                action,
                current: self.name(),
                allowed: allowed.iter().map(|s| s.name()).collect(),
            })
        }
    }
}
