//! Review (§4.2): a version goes to seats — named reviewers, or any holder
//! of a role in a department — each of which approves or requests changes;
//! the round closes when every seat has decided.

use procedo_platform::identity::{Actor, Role};
use procedo_platform::state::{IllegalTransition, State};
use procedo_platform::time::Millis;
use serde::{Deserialize, Serialize};

use super::person::Person;

/// Who reviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seat {
    Person(String),
    Pool { department: String, role: String },
}

impl Seat {
    fn filled_by(&self, actor: &Actor) -> bool {
        match self {
            Seat::Person(subject) => *subject == actor.subject,
            Seat::Pool { department, role } => {
                actor.department == *department
                    && Role::parse(role).is_some_and(|r| actor.roles.contains(&r))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approve,
    RequestChanges,
}

/// A seat and what was decided there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatDecision {
    pub seat: Seat,
    pub decision: Option<Decision>,
    /// Who decided.
    pub decided_by: Option<Person>,
    pub comment: String,
    pub at: Option<Millis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundStatus {
    Open,
    Approved,
    ChangesRequested,
}

impl State for RoundStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl RoundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RoundStatus::Open => "OPEN",
            RoundStatus::Approved => "APPROVED",
            RoundStatus::ChangesRequested => "CHANGES_REQUESTED",
        }
    }

    pub fn parse(s: &str) -> Option<RoundStatus> {
        match s {
            "OPEN" => Some(RoundStatus::Open),
            "APPROVED" => Some(RoundStatus::Approved),
            "CHANGES_REQUESTED" => Some(RoundStatus::ChangesRequested),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub document_id: String,
    /// 1, 2, 3… per document.
    pub round: i32,
    /// The version under review.
    pub version: i32,
    pub status: RoundStatus,
    pub seats: Vec<SeatDecision>,
    pub submitted_by: Actor,
    pub submitted_at: Millis,
    pub closed_at: Option<Millis>,
    pub row_version: i64,
}

/// Why a reviewer's act is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    State(IllegalTransition),
    Denied(String),
    Unfit {
        field: &'static str,
        description: String,
    },
}

/// Aspects a comment is about (§4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    Accuracy,
    Format,
    Compliance,
    Other,
}

impl Aspect {
    pub fn as_str(self) -> &'static str {
        match self {
            Aspect::Accuracy => "ACCURACY",
            Aspect::Format => "FORMAT",
            Aspect::Compliance => "COMPLIANCE",
            Aspect::Other => "OTHER",
        }
    }

    pub fn parse(s: &str) -> Option<Aspect> {
        [
            Aspect::Accuracy,
            Aspect::Format,
            Aspect::Compliance,
            Aspect::Other,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub document_id: String,
    pub round: i32,
    pub seq: i64,
    pub version: i32,
    pub aspect: Aspect,
    pub anchor: String,
    pub text: String,
    pub author: Actor,
    pub at: Millis,
}

impl Round {
    pub fn open(
        document_id: String,
        round: i32,
        version: i32,
        seats: Vec<Seat>,
        actor: &Actor,
        now: Millis,
    ) -> Round {
        Round {
            document_id,
            round,
            version,
            status: RoundStatus::Open,
            seats: seats
                .into_iter()
                .map(|seat| SeatDecision {
                    seat,
                    decision: None,
                    decided_by: None,
                    comment: String::new(),
                    at: None,
                })
                .collect(),
            submitted_by: actor.clone(),
            submitted_at: now,
            closed_at: None,
            row_version: 1,
        }
    }

    pub fn resource(&self) -> String {
        format!("documents/{}/reviewRounds/{}", self.document_id, self.round)
    }

    /// Whether `actor` sits on the round (decided or not).
    pub fn is_reviewer(&self, actor: &Actor) -> bool {
        self.seats.iter().any(|s| s.seat.filled_by(actor))
    }

    /// Records `actor`'s decision on the first undecided seat they fill;
    /// closes the round when every seat has decided.
    pub fn decide(
        &mut self,
        actor: &Actor,
        decision: Decision,
        comment: String,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.status
            .require("decide on", &[RoundStatus::Open])
            .map_err(Refusal::State)?;
        if decision == Decision::RequestChanges && comment.trim().is_empty() {
            return Err(Refusal::Unfit {
                field: "comment",
                description: "say what must change".into(),
            });
        }
        if self.seats.iter().any(|s| {
            s.decided_by
                .as_ref()
                .is_some_and(|d| d.subject == actor.subject)
        }) {
            return Err(Refusal::Denied(
                "you have already decided in this round".into(),
            ));
        }
        let seat = self
            .seats
            .iter_mut()
            .find(|s| s.decision.is_none() && s.seat.filled_by(actor))
            .ok_or_else(|| Refusal::Denied("you hold no open seat of this review round".into()))?;
        seat.decision = Some(decision);
        seat.decided_by = Some(Person::of(actor));
        seat.comment = comment;
        seat.at = Some(now);
        if self.seats.iter().all(|s| s.decision.is_some()) {
            self.status = if self
                .seats
                .iter()
                .any(|s| s.decision == Some(Decision::RequestChanges))
            {
                RoundStatus::ChangesRequested
            } else {
                RoundStatus::Approved
            };
            self.closed_at = Some(now);
        }
        self.row_version += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use procedo_platform::identity::Clearance;

    use super::*;

    fn actor(subject: &str, department: &str, roles: &[Role]) -> Actor {
        Actor {
            subject: subject.into(),
            name: subject.into(),
            title: String::new(),
            department: department.into(),
            roles: roles.to_vec(),
            approval_level: 0,
            clearance: Clearance::Internal,
        }
    }

    fn round() -> Round {
        Round::open(
            "d".into(),
            1,
            1,
            vec![
                Seat::Person("zhang".into()),
                Seat::Pool {
                    department: "legal".into(),
                    role: "reviewer".into(),
                },
            ],
            &actor("li", "sales", &[Role::Executor]),
            0,
        )
    }

    #[test]
    fn the_round_closes_approved_when_every_seat_approves() {
        let mut r = round();
        r.decide(
            &actor("zhang", "ops", &[]),
            Decision::Approve,
            String::new(),
            1,
        )
        .expect("a named reviewer");
        assert_eq!(r.status, RoundStatus::Open);
        let outsider = actor("wu", "ops", &[Role::Reviewer]);
        assert!(matches!(
            r.decide(&outsider, Decision::Approve, String::new(), 2),
            Err(Refusal::Denied(_))
        ));
        r.decide(
            &actor("qian", "legal", &[Role::Reviewer]),
            Decision::Approve,
            String::new(),
            3,
        )
        .expect("the legal reviewer takes the pool's seat");
        assert_eq!((r.status, r.closed_at), (RoundStatus::Approved, Some(3)));
        assert!(matches!(
            r.decide(
                &actor("zhang", "ops", &[]),
                Decision::Approve,
                String::new(),
                4
            ),
            Err(Refusal::State(_))
        ));
    }

    #[test]
    fn one_request_for_changes_sends_it_back_and_needs_a_comment() {
        let mut r = round();
        let zhang = actor("zhang", "ops", &[]);
        assert!(matches!(
            r.decide(&zhang, Decision::RequestChanges, " ".into(), 1),
            Err(Refusal::Unfit {
                field: "comment",
                ..
            })
        ));
        r.decide(&zhang, Decision::RequestChanges, "§2 is wrong".into(), 1)
            .expect("decided");
        assert!(matches!(
            r.decide(&zhang, Decision::Approve, String::new(), 2),
            Err(Refusal::Denied(_))
        ));
        r.decide(
            &actor("qian", "legal", &[Role::Reviewer]),
            Decision::Approve,
            String::new(),
            3,
        )
        .expect("decided");
        assert_eq!(r.status, RoundStatus::ChangesRequested);
    }
}
