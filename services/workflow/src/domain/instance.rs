//! Process instances: one piece of business running through a definition.

use procedo_platform::identity::{Actor, Role};
pub use procedo_platform::money::Money;
use procedo_platform::state::{IllegalTransition, State};
use procedo_platform::time::Millis;

use super::definition::{Definition, Step, StepKind};
use super::matrix::Level;
use super::task::{Signature, Task};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceStatus {
    Running,
    Completed,
    Cancelled,
}

impl State for InstanceStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl InstanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Running => "RUNNING",
            InstanceStatus::Completed => "COMPLETED",
            InstanceStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<InstanceStatus> {
        [
            InstanceStatus::Running,
            InstanceStatus::Completed,
            InstanceStatus::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// The initiating department's form (§3.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Form {
    pub background: String,
    pub goals: String,
    pub requirements: String,
}

/// The departments taking part.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Participants {
    pub review_departments: Vec<String>,
    pub lead_department: String,
    pub supporting_departments: Vec<String>,
    pub acceptance_departments: Vec<String>,
}

impl Participants {
    /// The participants in one line, for the history.
    pub fn summary(&self) -> String {
        format!(
            "reviewers: {}; lead: {}; supporting: {}; acceptors: {}",
            self.review_departments.join(", "),
            self.lead_department,
            self.supporting_departments.join(", "),
            self.acceptance_departments.join(", ")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub definition_key: String,
    pub definition_version: i32,
    pub business_key: String,
    /// The service whose event started the instance ("" when started
    /// through the API); its progress events go back there.
    pub origin: String,
    pub business_type: String,
    pub amount: Option<Money>,
    pub title: String,
    pub status: InstanceStatus,
    pub initiator_department: String,
    pub initiator: Actor,
    pub form: Form,
    pub participants: Participants,
    pub approval_chain: Vec<Level>,
    pub matrix_version: i32,
    pub plan_document: String,
    pub acceptance_report: String,
    pub acceptance_signatures: Vec<Signature>,
    pub cancel_reason: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub ended_at: Option<Millis>,
    pub version: i64,
    /// The number of the last history entry: the next entries are numbered
    /// from here, under the row's lock, and the row keeps the count.
    pub history_seq: i64,
}

impl Instance {
    /// "instances/{id}".
    pub fn resource(&self) -> String {
        format!("instances/{}", self.id)
    }

    /// Every department taking part: the initiator and the participants.
    pub fn departments(&self) -> impl Iterator<Item = &str> {
        let p = &self.participants;
        std::iter::once(self.initiator_department.as_str())
            .chain(std::iter::once(p.lead_department.as_str()))
            .chain(p.review_departments.iter().map(String::as_str))
            .chain(p.supporting_departments.iter().map(String::as_str))
            .chain(p.acceptance_departments.iter().map(String::as_str))
            .filter(|d| !d.is_empty())
    }

    /// The execution lead: the named one, else the initiator.
    pub fn lead_department(&self) -> &str {
        if self.participants.lead_department.is_empty() {
            &self.initiator_department
        } else {
            &self.participants.lead_department
        }
    }

    /// Department heads steer (cancel, change the participants of) the
    /// instances their department initiated; admins and services steer
    /// any. `Err` says who may.
    pub fn steerable_by(&self, actor: &Actor) -> Result<(), String> {
        if actor.has(Role::Admin)
            || actor.has(Role::Service)
            || actor.department == self.initiator_department
        {
            Ok(())
        } else {
            Err(format!(
                "only the initiating department ({}) may do this",
                self.initiator_department
            ))
        }
    }

    /// Ok while the instance runs; `action` names what was attempted.
    pub fn require_running(&self, action: &'static str) -> Result<(), IllegalTransition> {
        self.status.require(action, &[InstanceStatus::Running])
    }

    /// What a completed task of `step` leaves on the instance: the
    /// initiation form (§3.2.1) when it completes the start step, the plan
    /// (§3.2.2) when the step is a task that requires a document.
    pub fn take_completion(
        &mut self,
        def: &Definition,
        step: &Step,
        task: &Task,
        form: Option<Form>,
    ) {
        if let Some(form) = form
            && step.id == def.start_step
        {
            self.form = form;
        }
        if step.requires_document && step.kind == StepKind::Task {
            self.plan_document.clone_from(&task.document);
        }
    }

    /// A passed acceptance (§3.2.5): the report the acceptors attached and
    /// their signatures.
    pub fn record_acceptance(&mut self, round: &[Task]) {
        self.acceptance_report = round
            .iter()
            .find(|t| !t.document.is_empty())
            .map(|t| t.document.clone())
            .unwrap_or_default();
        self.acceptance_signatures = round.iter().filter_map(|t| t.signature.clone()).collect();
    }

    pub fn cancel(&mut self, reason: String, now: Millis) -> Result<(), IllegalTransition> {
        self.status.require("cancel", &[InstanceStatus::Running])?;
        self.status = InstanceStatus::Cancelled;
        self.cancel_reason = reason;
        self.ended_at = Some(now);
        Ok(())
    }
}
