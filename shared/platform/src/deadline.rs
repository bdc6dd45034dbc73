//! One shape for everything time-limited (inquiry responses, application
//! processing, tasks, rectifications, loans, notices, filings): when it
//! started, its [`Limit`], the pauses while the company waited on someone
//! else, and the due time those give on a [`Calendar`]. A pause moves the
//! due time by the working (or, for elapsed limits, wall-clock) time it
//! lasted; a calendar change recomputes a running deadline and leaves a
//! met one as it was.

use procedo_proto::common;

use crate::calendar::{Calendar, Limit};
use crate::calendars::Stored;
use crate::state::{IllegalTransition, State};
use crate::time::{self, Millis};
use crate::validate::Violations;

/// Where a deadline is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DeadlineState {
    Running,
    Paused,
    /// Done in time or not; see [`Deadline::met_at`].
    Met,
}

impl State for DeadlineState {
    fn name(self) -> &'static str {
        match self {
            DeadlineState::Running => "RUNNING",
            DeadlineState::Paused => "PAUSED",
            DeadlineState::Met => "MET",
        }
    }
}

/// A stretch of time the clock stood still, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pause {
    pub from: Millis,
    /// `None` while the pause lasts.
    pub to: Option<Millis>,
    pub reason: String,
}

/// A time limit running on a calendar; stored as JSON by the services
/// that hold one (the limit as its text, `5wd`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deadline {
    pub start: Millis,
    pub limit: Limit,
    pub pauses: Vec<Pause>,
    /// When it runs out; while paused, when it would if resumed at the
    /// pause's start.
    pub due: Millis,
    pub state: DeadlineState,
    pub met_at: Option<Millis>,
    /// The calendar it counts on; empty on deadlines kept before calendars
    /// had ids, which count on the company's default.
    #[serde(default)]
    pub calendar: String,
    /// The version of the calendar `due` was computed with.
    pub calendar_version: i64,
}

impl Deadline {
    /// A deadline kept before clocks were: an elapsed limit from `start`
    /// to `due`, met at `met_at` if it was.
    pub fn recorded(start: Millis, due: Millis, met_at: Option<Millis>) -> Deadline {
        Deadline {
            start,
            limit: Limit::Elapsed((due - start).max(1)),
            pauses: Vec::new(),
            due,
            state: if met_at.is_some() {
                DeadlineState::Met
            } else {
                DeadlineState::Running
            },
            met_at,
            calendar: String::new(),
            calendar_version: 0,
        }
    }

    /// A deadline starting at `start`, counting on calendar `on`.
    pub fn start(start: Millis, limit: Limit, on: &Stored) -> Deadline {
        Deadline {
            start,
            limit,
            pauses: Vec::new(),
            due: on.calendar.due(start, limit),
            state: DeadlineState::Running,
            met_at: None,
            calendar: on.id.clone(),
            calendar_version: on.version,
        }
    }

    /// A deadline at a fixed instant someone set (`due`, possibly already
    /// past), started at `start`: an elapsed limit, which no calendar
    /// change moves.
    pub fn until(start: Millis, due: Millis, on: &Stored) -> Deadline {
        let mut deadline = Deadline::start(start, Limit::Elapsed((due - start).max(0)), on);
        deadline.due = due;
        deadline
    }

    /// Whether it counts on calendar `on`.
    pub fn counts_on(&self, on: &Stored) -> bool {
        self.calendar == on.id || (self.calendar.is_empty() && on.company_default)
    }

    /// Stops the clock at `at`, for `reason`.
    pub fn pause(&mut self, at: Millis, reason: String) -> Result<(), IllegalTransition> {
        self.state.require("pause", &[DeadlineState::Running])?;
        self.pauses.push(Pause {
            from: at,
            to: None,
            reason,
        });
        self.state = DeadlineState::Paused;
        Ok(())
    }

    /// Starts the clock again at `at`; the due time moves by the paused
    /// time.
    pub fn resume(&mut self, at: Millis, on: &Stored) -> Result<(), IllegalTransition> {
        self.state.require("resume", &[DeadlineState::Paused])?;
        if let Some(pause) = self.pauses.last_mut() {
            pause.to = Some(at.max(pause.from));
        }
        self.state = DeadlineState::Running;
        self.due = self.computed(&on.calendar);
        self.calendar_version = on.version;
        Ok(())
    }

    /// The thing is done at `at` (a paused clock ends its pause there).
    pub fn meet(&mut self, at: Millis) -> Result<(), IllegalTransition> {
        self.state
            .require("meet", &[DeadlineState::Running, DeadlineState::Paused])?;
        if let Some(pause) = self.pauses.last_mut().filter(|p| p.to.is_none()) {
            pause.to = Some(at.max(pause.from));
        }
        self.state = DeadlineState::Met;
        self.met_at = Some(at);
        Ok(())
    }

    /// Recomputes the due time on a newer version of its calendar; a met
    /// deadline keeps the due time it was met against, and a deadline on
    /// another calendar is left alone. The due time before, when it moved
    /// (only then need it be stored again: the version it records is the
    /// last one that moved it).
    pub fn recompute(&mut self, on: &Stored) -> Option<Millis> {
        // Elapsed time runs the same on every calendar.
        if self.state == DeadlineState::Met
            || matches!(self.limit, Limit::Elapsed(_))
            || !self.counts_on(on)
            || self.calendar_version >= on.version
        {
            return None;
        }
        let before = self.due;
        let after = self.computed(&on.calendar);
        if after == before {
            return None;
        }
        self.due = after;
        self.calendar_version = on.version;
        Some(before)
    }

    /// What a history says of a due time that calendar `on` moved from
    /// `before`.
    pub fn moved_note(&self, before: Millis, on: &Stored) -> String {
        use chrono::TimeZone as _;
        let local = |ms: Millis| {
            on.calendar
                .zone
                .timestamp_millis_opt(ms)
                .single()
                .map_or_else(
                    || ms.to_string(),
                    |t| t.format("%Y-%m-%d %H:%M %Z").to_string(),
                )
        };
        format!(
            "due time moved from {} to {} by version {} of calendar {}",
            local(before),
            local(self.due),
            on.version,
            on.id
        )
    }

    /// Whether it ran out unmet by `now` (a paused clock is never overdue).
    pub fn is_overdue(&self, now: Millis) -> bool {
        match self.state {
            DeadlineState::Running => now > self.due,
            DeadlineState::Paused => false,
            DeadlineState::Met => self.met_at.is_some_and(|met| met > self.due),
        }
    }

    /// The due time: the limit from the start, moved on by every finished
    /// pause — by its working time for working limits, its wall-clock time
    /// for elapsed ones.
    fn computed(&self, calendar: &Calendar) -> Millis {
        let base = calendar.due(self.start, self.limit);
        let finished = self
            .pauses
            .iter()
            .filter_map(|p| p.to.map(|to| (p.from, to)));
        match self.limit {
            Limit::Elapsed(_) => base + finished.map(|(from, to)| to - from).sum::<Millis>(),
            Limit::WorkingTime(_) | Limit::WorkingDays(_) => {
                let paused: Millis = finished
                    .map(|(from, to)| calendar.working_between(from, to))
                    .sum();
                calendar.add_working(base, paused)
            }
        }
    }
}

impl Limit {
    pub fn to_proto(self) -> common::TimeLimit {
        use common::time_limit::Kind;
        let kind = match self {
            Limit::Elapsed(ms) => Kind::Elapsed(time::to_proto_duration(ms)),
            Limit::WorkingTime(ms) => Kind::WorkingTime(time::to_proto_duration(ms)),
            Limit::WorkingDays(days) => Kind::WorkingDays(days),
        };
        common::TimeLimit { kind: Some(kind) }
    }

    /// A limit as the wire gives it, unchecked (for showing one; requests
    /// go through [`Violations::time_limit`]).
    pub fn from_proto(limit: &common::TimeLimit) -> Option<Limit> {
        use common::time_limit::Kind;
        Some(match limit.kind.as_ref()? {
            Kind::Elapsed(d) => Limit::Elapsed(time::from_proto_duration(d)?),
            Kind::WorkingTime(d) => Limit::WorkingTime(time::from_proto_duration(d)?),
            Kind::WorkingDays(days) => Limit::WorkingDays(*days),
        })
    }
}

impl Deadline {
    /// The wire shape; `now` decides `overdue`.
    pub fn to_proto(&self, now: Millis) -> common::Deadline {
        common::Deadline {
            start_time: Some(time::to_timestamp(self.start)),
            limit: Some(self.limit.to_proto()),
            due_time: Some(time::to_timestamp(self.due)),
            state: match self.state {
                DeadlineState::Running => common::DeadlineState::Running,
                DeadlineState::Paused => common::DeadlineState::Paused,
                DeadlineState::Met => common::DeadlineState::Met,
            } as i32,
            pauses: self
                .pauses
                .iter()
                .map(|p| common::DeadlinePause {
                    start_time: Some(time::to_timestamp(p.from)),
                    end_time: time::to_timestamp_opt(p.to),
                    reason: p.reason.clone(),
                })
                .collect(),
            met_time: time::to_timestamp_opt(self.met_at),
            overdue: self.is_overdue(now),
        }
    }
}

/// Which clocks a list keeps — the filters every list of time-limited
/// things offers: overdue now, paused, or running out within a while.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClockFilter {
    #[default]
    Any,
    /// Running, with the due time in `[from, to)`: `(MIN, now)` for
    /// overdue, `(now, now + while)` for "due within".
    RunningDue { from: Millis, to: Millis },
    /// Paused.
    Paused,
}

impl ClockFilter {
    /// The filter as the query binds it: "" (any), "RUNNING" or "PAUSED",
    /// and the due-time window of running clocks.
    pub fn binds(self) -> (&'static str, Millis, Millis) {
        match self {
            ClockFilter::Any => ("", 0, 0),
            ClockFilter::RunningDue { from, to } => ("RUNNING", from, to),
            ClockFilter::Paused => ("PAUSED", 0, 0),
        }
    }
}

/// The longest time limit anything takes: ten years.
pub const MAX_LIMIT_MS: Millis = 10 * 366 * 86_400_000;

impl Violations {
    /// A duration a time limit is made of: valid, positive, at most ten
    /// years. `None` (and a violation at `field`) otherwise.
    pub fn limit_duration(&mut self, field: &str, d: &prost_types::Duration) -> Option<Millis> {
        match time::from_proto_duration(d) {
            Some(ms) if ms <= 0 => self.add(field, "must be positive"),
            Some(ms) if ms > MAX_LIMIT_MS => self.add(field, "must be at most ten years"),
            Some(ms) => return Some(ms),
            None => self.add(field, "must be a valid, non-negative duration"),
        }
        None
    }

    /// The clock filter of a list request (`overdue_only`, `paused_only`,
    /// `due_within`, each at `prefix` + its name): at most one of them.
    pub fn clock_filter(
        &mut self,
        prefix: &str,
        overdue_only: bool,
        paused_only: bool,
        due_within: Option<&prost_types::Duration>,
        now: Millis,
    ) -> ClockFilter {
        let given = usize::from(overdue_only)
            + usize::from(paused_only)
            + usize::from(due_within.is_some());
        if given > 1 {
            self.add(
                format!("{prefix}due_within"),
                "give at most one of overdue_only, paused_only and due_within",
            );
            return ClockFilter::Any;
        }
        if overdue_only {
            return ClockFilter::RunningDue {
                from: Millis::MIN,
                to: now,
            };
        }
        if paused_only {
            return ClockFilter::Paused;
        }
        match due_within {
            Some(d) => self
                .limit_duration(&format!("{prefix}due_within"), d)
                .map_or(ClockFilter::Any, |within| ClockFilter::RunningDue {
                    from: now,
                    to: now.saturating_add(within),
                }),
            None => ClockFilter::Any,
        }
    }

    /// A time limit from the wire: positive, at most ten years, working
    /// time in whole minutes. `None` (and a violation) when absent or wrong.
    pub fn time_limit(&mut self, field: &str, limit: Option<&common::TimeLimit>) -> Option<Limit> {
        use common::time_limit::Kind;
        let Some(kind) = limit.and_then(|l| l.kind.as_ref()) else {
            self.add(field, "is required: elapsed, working_days or working_time");
            return None;
        };
        let mut duration = |name: &str, d: &prost_types::Duration| {
            self.limit_duration(&format!("{field}.{name}"), d)
        };
        match kind {
            Kind::Elapsed(d) => duration("elapsed", d).map(Limit::Elapsed),
            Kind::WorkingTime(d) => {
                let ms = duration("working_time", d)?;
                if ms % 60_000 != 0 {
                    self.add(
                        format!("{field}.working_time"),
                        "must be whole minutes of working time",
                    );
                    return None;
                }
                Some(Limit::WorkingTime(ms))
            }
            Kind::WorkingDays(days) if (1..=3_660).contains(days) => {
                Some(Limit::WorkingDays(*days))
            }
            Kind::WorkingDays(_) => {
                self.add(format!("{field}.working_days"), "must be 1 to 3660");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime, TimeZone as _};

    use super::*;
    use crate::calendar::{Holiday, Period};

    fn shanghai() -> Stored {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("time");
        Stored::seed(Calendar::weekdays(
            chrono_tz::Asia::Shanghai,
            &[Period {
                start: t(9),
                end: t(17),
            }],
        ))
    }

    fn at(d: u32, h: u32) -> Millis {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 12, d, h, 0, 0)
            .single()
            .expect("a time")
            .timestamp_millis()
    }

    #[test]
    fn a_pause_moves_the_due_time_by_the_working_time_it_lasted() {
        let c = shanghai();
        // Monday 7 December 10:00, two working days: Wednesday 10:00.
        let mut d = Deadline::start(at(7, 10), Limit::WorkingDays(2), &c);
        assert_eq!(d.due, at(9, 10));
        // Waiting on the customer from Monday 15:00 to Tuesday 11:00: four
        // working hours.
        d.pause(at(7, 15), "waiting for the supplement".into())
            .expect("paused");
        assert!(!d.is_overdue(at(31, 9)), "a paused clock is never overdue");
        d.resume(at(8, 11), &c).expect("resumed");
        assert_eq!(d.due, at(9, 14));
        assert!(d.pause(at(8, 12), String::new()).is_ok());
        assert!(d.pause(at(8, 13), String::new()).is_err(), "already paused");
    }

    #[test]
    fn a_fixed_time_already_past_is_kept_and_stored() {
        let c = shanghai();
        let d = Deadline::until(at(7, 10), at(7, 9), &c);
        assert_eq!(d.due, at(7, 9));
        assert!(d.is_overdue(at(7, 10)));
        let stored = serde_json::to_string(&d).expect("stored");
        assert_eq!(
            serde_json::from_str::<Deadline>(&stored).expect("read back"),
            d
        );
        let mut later = c;
        later.version += 1;
        let mut d = d;
        assert_eq!(
            d.recompute(&later),
            None,
            "elapsed time moves with no calendar"
        );
        assert!(
            Limit::parse("0s").is_err(),
            "a request may not give a zero limit"
        );
    }

    #[test]
    fn a_holiday_added_later_moves_a_running_deadline_and_not_a_met_one() {
        let mut c = shanghai();
        let mut running = Deadline::start(at(7, 10), Limit::WorkingDays(2), &c);
        let mut met = running.clone();
        met.meet(at(8, 16)).expect("met");
        let mut elsewhere = running.clone();
        elsewhere.calendar = "elsewhere".into();
        c.calendar.holidays.push(Holiday {
            from: NaiveDate::from_ymd_opt(2026, 12, 8).expect("date"),
            to: NaiveDate::from_ymd_opt(2026, 12, 8).expect("date"),
            name: "Announced late".into(),
        });
        c.version += 1;

        assert_eq!(running.recompute(&c), Some(at(9, 10)));
        assert_eq!(running.due, at(10, 10));
        assert_eq!(running.calendar_version, c.version);
        assert!(
            running
                .moved_note(at(9, 10), &c)
                .contains("2026-12-09 10:00 CST to 2026-12-10 10:00 CST"),
            "{}",
            running.moved_note(at(9, 10), &c)
        );
        assert_eq!(running.recompute(&c), None, "once per version");
        assert_eq!(met.recompute(&c), None);
        assert_eq!(met.due, at(9, 10));
        assert!(!met.is_overdue(at(20, 9)));
        assert_eq!(elsewhere.recompute(&c), None, "another calendar's deadline");
    }
}
