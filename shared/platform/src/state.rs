//! State machines: every resource with a lifecycle names its states, and an
//! action taken in the wrong state says which states would have allowed it.

/// An action the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} while {current}; allowed only in: {}", allowed.join(", "))]
pub struct IllegalTransition {
    /// What was attempted, e.g. "review".
    pub action: &'static str,
    /// The state the resource is in.
    pub current: &'static str,
    /// The states that allow the action.
    pub allowed: Vec<&'static str>,
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
