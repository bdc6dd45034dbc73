//! Regulatory communication (§5.2.3): obligations to file with a regulator
//! on a recurrence, the filing each period owes with its due time, a
//! reminder once it is upcoming and an escalation once it is overdue.

use chrono::{Datelike as _, NaiveDate, TimeZone as _};
use chrono_tz::Tz;
use procedo_platform::calendars::Stored;
use procedo_platform::deadline::Deadline;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::person::Person;
use procedo_platform::state::{IllegalTransition, State};
use procedo_platform::time::Millis;
use serde::{Deserialize, Serialize};

use super::history::Entry;

/// How often a filing is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recurrence {
    Monthly,
    Quarterly,
    Yearly,
    /// Once, due at a set time.
    OneOff,
}

/// The most periods one look generates for one obligation (a new
/// obligation whose first period lies years back catches up this many at a
/// time).
pub const MAX_CATCH_UP: usize = 120;

/// A reporting period: [start, end) in the company's zone, and its label
/// ("2026-11", "2026-Q4", "2026", "once").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub label: String,
    pub start: Millis,
    pub end: Millis,
}

fn midnight(zone: Tz, date: NaiveDate) -> Millis {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    zone.from_local_datetime(&naive)
        .earliest()
        .map_or(0, |t| t.timestamp_millis())
}

impl Recurrence {
    pub fn as_str(self) -> &'static str {
        match self {
            Recurrence::Monthly => "MONTHLY",
            Recurrence::Quarterly => "QUARTERLY",
            Recurrence::Yearly => "YEARLY",
            Recurrence::OneOff => "ONE_OFF",
        }
    }

    /// The period containing `date`; `None` for one-off obligations.
    pub fn period_of(self, zone: Tz, date: NaiveDate) -> Option<Period> {
        let (year, month) = (date.year(), date.month());
        let (first, months, label) = match self {
            Recurrence::Monthly => (month, 1, format!("{year}-{month:02}")),
            Recurrence::Quarterly => {
                let q = (month - 1) / 3;
                (q * 3 + 1, 3, format!("{year}-Q{}", q + 1))
            }
            Recurrence::Yearly => (1, 12, format!("{year}")),
            Recurrence::OneOff => return None,
        };
        let start = NaiveDate::from_ymd_opt(year, first, 1)?;
        let end = start.checked_add_months(chrono::Months::new(months))?;
        Some(Period {
            label,
            start: midnight(zone, start),
            end: midnight(zone, end),
        })
    }

    /// The periods from the one containing `first` through the one
    /// containing `now`, at most [`MAX_CATCH_UP`] (the earliest first).
    pub fn periods(self, zone: Tz, first: Millis, now: Millis) -> Vec<Period> {
        let date = |ms: Millis| {
            zone.timestamp_millis_opt(ms)
                .single()
                .map(|t| t.date_naive())
        };
        let (Some(mut day), Some(today)) = (date(first), date(now)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while day <= today && out.len() < MAX_CATCH_UP {
            let Some(period) = self.period_of(zone, day) else {
                break;
            };
            day = date(period.end).unwrap_or(today + chrono::Days::new(1));
            out.push(period);
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obligation {
    pub id: String,
    pub regulator: String,
    pub subject: String,
    pub recurrence: Recurrence,
    /// Subject of the person who submits.
    pub responsible: String,
    pub department: String,
    /// Subject of who is told when a filing is overdue.
    pub escalate_to: String,
    /// How long before the due time a filing is upcoming (and the
    /// responsible person reminded).
    pub lead_time: Millis,
    /// For recurring obligations: how long after the period's end a
    /// filing is due.
    pub due_after: Millis,
    /// For recurring ones, the first period is the one containing this;
    /// for one-off ones, the due time.
    pub first: Millis,
    pub active: bool,
    pub creator: Person,
    pub created_at: Millis,
    pub row_version: i64,
}

impl Obligation {
    pub fn resource(&self) -> String {
        format!("obligations/{}", self.id)
    }

    /// The periods owed by `now` (the one-off filing, once created).
    pub fn owed(&self, zone: Tz, now: Millis) -> Vec<Period> {
        if !self.active {
            return Vec::new();
        }
        match self.recurrence {
            Recurrence::OneOff => vec![Period {
                label: "once".into(),
                start: self.created_at,
                end: self.first,
            }],
            r => r.periods(zone, self.first, now),
        }
    }

    /// The due time of `period`'s filing.
    pub fn due(&self, period: &Period) -> Millis {
        match self.recurrence {
            Recurrence::OneOff => self.first,
            _ => period.end.saturating_add(self.due_after),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilingStatus {
    Pending,
    Submitted,
}

impl State for FilingStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl FilingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FilingStatus::Pending => "PENDING",
            FilingStatus::Submitted => "SUBMITTED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    State(IllegalTransition),
    Denied(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    pub id: String,
    pub obligation_id: String,
    pub regulator: String,
    pub subject: String,
    pub period: String,
    pub period_start: Millis,
    pub period_end: Millis,
    pub responsible: String,
    pub escalate_to: String,
    pub status: FilingStatus,
    pub deadline: Deadline,
    /// When it is upcoming: the due time less the lead time.
    pub remind_at: Millis,
    pub reminded_at: Option<Millis>,
    pub escalated_at: Option<Millis>,
    pub documents: Vec<String>,
    pub regulator_reference: String,
    pub notes: String,
    pub submitted_by: Option<Person>,
    pub history: Vec<Entry>,
    pub created_at: Millis,
    pub row_version: i64,
}

impl Filing {
    /// The filing `obligation` owes for `period`.
    pub fn owed(
        id: String,
        obligation: &Obligation,
        period: &Period,
        calendar: &Stored,
        actor: &Actor,
        now: Millis,
    ) -> Filing {
        let due = obligation.due(period);
        let mut filing = Filing {
            id,
            obligation_id: obligation.id.clone(),
            regulator: obligation.regulator.clone(),
            subject: obligation.subject.clone(),
            period: period.label.clone(),
            period_start: period.start,
            period_end: period.end,
            responsible: obligation.responsible.clone(),
            escalate_to: obligation.escalate_to.clone(),
            status: FilingStatus::Pending,
            deadline: Deadline::until(now.min(due), due, calendar),
            remind_at: due.saturating_sub(obligation.lead_time),
            reminded_at: None,
            escalated_at: None,
            documents: Vec::new(),
            regulator_reference: String::new(),
            notes: String::new(),
            submitted_by: None,
            history: Vec::new(),
            created_at: now,
            row_version: 1,
        };
        let detail = format!("for {}", period.label);
        filing.note("owed", detail, actor, now);
        filing
    }

    pub fn resource(&self) -> String {
        format!("filings/{}", self.id)
    }

    fn note(&mut self, action: &str, detail: String, actor: &Actor, now: Millis) {
        self.history.push(Entry {
            action: action.to_owned(),
            detail,
            actor: Person::of(actor),
            at: now,
        });
        self.row_version += 1;
    }

    /// Whether `actor` may see it: the responsible person, whoever is
    /// escalated to, auditors and admins.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        actor.subject == self.responsible
            || actor.subject == self.escalate_to
            || actor.has(Role::Auditor)
            || actor.has(Role::Admin)
    }

    /// Records the submission to the regulator.
    pub fn submit(
        &mut self,
        actor: &Actor,
        documents: Vec<String>,
        regulator_reference: String,
        notes: String,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.status
            .require("submit", &[FilingStatus::Pending])
            .map_err(Refusal::State)?;
        if actor.subject != self.responsible && !actor.has(Role::Admin) {
            return Err(Refusal::Denied(format!(
                "only {} (responsible for it) submits this filing",
                self.responsible
            )));
        }
        self.deadline.meet(now).map_err(Refusal::State)?;
        self.status = FilingStatus::Submitted;
        self.documents = documents;
        self.notes = notes;
        let detail = format!(
            "{} reference {}{}",
            self.regulator,
            regulator_reference,
            if now > self.deadline.due {
                ", late"
            } else {
                ""
            }
        );
        self.regulator_reference = regulator_reference;
        self.submitted_by = Some(Person::of(actor));
        self.note("submitted", detail, actor, now);
        Ok(())
    }

    /// Reminds the responsible person once it is upcoming; whether it did.
    pub fn remind(&mut self, actor: &Actor, now: Millis) -> bool {
        let due = self.status == FilingStatus::Pending
            && self.reminded_at.is_none()
            && now >= self.remind_at;
        if due {
            self.reminded_at = Some(now);
            let detail = format!(
                "{} reminded: due {}",
                self.responsible,
                procedo_platform::time::to_timestamp(self.deadline.due)
            );
            self.note("upcoming", detail, actor, now);
        }
        due
    }

    /// Escalates it once when overdue; whether it did.
    pub fn escalate(&mut self, actor: &Actor, now: Millis) -> bool {
        let overdue = self.status == FilingStatus::Pending
            && self.escalated_at.is_none()
            && self.deadline.is_overdue(now);
        if overdue {
            self.escalated_at = Some(now);
            let detail = self.escalated_to();
            self.note("overdue", detail, actor, now);
        }
        overdue
    }

    /// Who an overdue filing goes to.
    pub fn escalated_to(&self) -> String {
        if self.escalate_to.is_empty() || self.escalate_to == self.responsible {
            format!("escalated to {} (responsible)", self.responsible)
        } else {
            format!(
                "escalated to {} (responsible) and {}",
                self.responsible, self.escalate_to
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use procedo_platform::calendar::Calendar;
    use procedo_platform::identity::Clearance;

    use super::*;

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    fn at(y: i32, m: u32, d: u32) -> Millis {
        midnight(SHANGHAI, NaiveDate::from_ymd_opt(y, m, d).expect("a date"))
    }

    #[test]
    fn periods_are_calendar_months_quarters_and_years_in_the_company_zone() {
        let m = Recurrence::Monthly
            .period_of(
                SHANGHAI,
                NaiveDate::from_ymd_opt(2026, 12, 15).expect("date"),
            )
            .expect("a month");
        assert_eq!(
            m,
            Period {
                label: "2026-12".into(),
                start: at(2026, 12, 1),
                end: at(2027, 1, 1)
            }
        );
        let q = Recurrence::Quarterly
            .period_of(
                SHANGHAI,
                NaiveDate::from_ymd_opt(2026, 8, 31).expect("date"),
            )
            .expect("a quarter");
        assert_eq!(
            q,
            Period {
                label: "2026-Q3".into(),
                start: at(2026, 7, 1),
                end: at(2026, 10, 1)
            }
        );
        let y = Recurrence::Yearly
            .period_of(SHANGHAI, NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"))
            .expect("a year");
        assert_eq!(y.label, "2026");
        assert_eq!((y.start, y.end), (at(2026, 1, 1), at(2027, 1, 1)));
        // Midnight in Shanghai is 16:00 UTC the day before.
        assert_eq!(at(2026, 1, 1) % 86_400_000, 16 * 3_600_000);
    }

    #[test]
    fn the_periods_owed_run_from_the_first_through_the_current_one() {
        let labels = |r: Recurrence, first, now| -> Vec<String> {
            r.periods(SHANGHAI, first, now)
                .into_iter()
                .map(|p| p.label)
                .collect()
        };
        assert_eq!(
            labels(Recurrence::Monthly, at(2026, 10, 20), at(2026, 12, 1)),
            ["2026-10", "2026-11", "2026-12"]
        );
        assert_eq!(
            labels(Recurrence::Quarterly, at(2026, 2, 1), at(2026, 6, 30)),
            ["2026-Q1", "2026-Q2"]
        );
        assert!(
            labels(Recurrence::Yearly, at(2027, 1, 1), at(2026, 12, 31)).is_empty(),
            "not yet"
        );
        assert_eq!(
            Recurrence::Monthly
                .periods(SHANGHAI, at(1990, 1, 1), at(2026, 1, 1))
                .len(),
            MAX_CATCH_UP
        );
    }

    fn person(subject: &str, roles: &[Role]) -> Actor {
        Actor {
            subject: subject.into(),
            name: subject.into(),
            title: String::new(),
            department: "finance".into(),
            roles: roles.to_vec(),
            approval_level: 0,
            clearance: Clearance::Internal,
        }
    }

    fn filing() -> Filing {
        let obligation = Obligation {
            id: "o1".into(),
            regulator: "Tax bureau".into(),
            subject: "VAT return".into(),
            recurrence: Recurrence::Monthly,
            responsible: "rita".into(),
            department: "finance".into(),
            escalate_to: "fred".into(),
            lead_time: 5 * 86_400_000,
            due_after: 15 * 86_400_000,
            first: at(2026, 11, 1),
            active: true,
            creator: Person::of(&person("admin", &[Role::Admin])),
            created_at: at(2026, 11, 1),
            row_version: 1,
        };
        let period = &obligation.owed(SHANGHAI, at(2026, 11, 2))[0];
        let calendar = Stored::seed(Calendar::standard(SHANGHAI));
        Filing::owed(
            "f1".into(),
            &obligation,
            period,
            &calendar,
            &person("timer", &[Role::Service]),
            at(2026, 11, 2),
        )
    }

    #[test]
    fn a_filing_is_reminded_once_escalated_once_and_submitted_by_its_responsible_person() {
        let mut f = filing();
        assert_eq!(f.deadline.due, at(2026, 12, 16), "15 days after November");
        assert_eq!(f.remind_at, at(2026, 12, 11));
        let timer = person("timer", &[Role::Service]);
        assert!(!f.remind(&timer, at(2026, 12, 10)));
        assert!(f.remind(&timer, at(2026, 12, 11)));
        assert!(!f.remind(&timer, at(2026, 12, 12)), "once");
        assert!(!f.escalate(&timer, at(2026, 12, 16)), "due, not past");
        assert!(f.escalate(&timer, at(2026, 12, 16) + 1));
        assert!(!f.escalate(&timer, at(2026, 12, 20)), "once");
        assert!(f.history.last().expect("an entry").detail.contains("fred"));

        let other = f.submit(
            &person("fred", &[Role::DepartmentHead]),
            Vec::new(),
            "R-1".into(),
            String::new(),
            at(2026, 12, 20),
        );
        assert!(matches!(other, Err(Refusal::Denied(_))));
        f.submit(
            &person("rita", &[]),
            vec!["documents/d1".into()],
            "SH-2026-11-778".into(),
            String::new(),
            at(2026, 12, 20),
        )
        .expect("submitted");
        assert_eq!(f.status, FilingStatus::Submitted);
        assert!(f.history.last().expect("an entry").detail.ends_with("late"));
        let again = f.submit(
            &person("rita", &[]),
            Vec::new(),
            "x".into(),
            String::new(),
            at(2026, 12, 21),
        );
        assert!(matches!(again, Err(Refusal::State(t)) if t.current == "SUBMITTED"));
    }
}
