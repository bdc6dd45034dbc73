//! Customer inquiries (§2.1): answered within the channel's time limit,
//! passed on when complex, resolved, and closed with the customer's
//! satisfaction.

use std::collections::HashMap;

use procedo_platform::calendar::{Calendar, Limit};
use procedo_platform::calendars::Stored;
use procedo_platform::deadline::{Deadline, DeadlineState};
use procedo_platform::identity::Actor;
use procedo_platform::time::Millis;

use super::{IllegalTransition, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Phone,
    Email,
    Online,
    WalkIn,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Phone,
        Channel::Email,
        Channel::Online,
        Channel::WalkIn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Online => "online",
            Channel::WalkIn => "walk_in",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InquiryStatus {
    Open,
    Responded,
    Escalated,
    Resolved,
    Closed,
}

impl State for InquiryStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl InquiryStatus {
    pub const ALL: [InquiryStatus; 5] = [
        InquiryStatus::Open,
        InquiryStatus::Responded,
        InquiryStatus::Escalated,
        InquiryStatus::Resolved,
        InquiryStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InquiryStatus::Open => "OPEN",
            InquiryStatus::Responded => "RESPONDED",
            InquiryStatus::Escalated => "ESCALATED",
            InquiryStatus::Resolved => "RESOLVED",
            InquiryStatus::Closed => "CLOSED",
        }
    }

    pub fn parse(s: &str) -> Option<InquiryStatus> {
        InquiryStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Responding is allowed until the inquiry is resolved.
    pub fn respond(self) -> Result<InquiryStatus, IllegalTransition> {
        use InquiryStatus::*;
        self.require("respond to", &[Open, Responded, Escalated])?;
        Ok(Responded)
    }

    pub fn escalate(self) -> Result<InquiryStatus, IllegalTransition> {
        use InquiryStatus::*;
        self.require("escalate", &[Open, Responded, Escalated])?;
        Ok(Escalated)
    }

    pub fn resolve(self) -> Result<InquiryStatus, IllegalTransition> {
        use InquiryStatus::*;
        self.require("resolve", &[Open, Responded, Escalated])?;
        Ok(Resolved)
    }

    pub fn close(self) -> Result<InquiryStatus, IllegalTransition> {
        self.require("close", &[InquiryStatus::Resolved])?;
        Ok(InquiryStatus::Closed)
    }

    /// Notes keep the status; a closed inquiry takes none.
    pub fn note(self) -> Result<InquiryStatus, IllegalTransition> {
        use InquiryStatus::*;
        self.require("add a note to", &[Open, Responded, Escalated, Resolved])?;
        Ok(self)
    }
}

/// How long each channel allows before the first response is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseLimits(HashMap<Channel, Limit>);

impl ResponseLimits {
    /// Parses `phone=4h,email=1wd,online=8wh,walk_in=1h`: elapsed time, or
    /// working hours (`wh`) and days (`wd`) on the company's calendar;
    /// every channel must be given.
    pub fn parse(spec: &str) -> Result<ResponseLimits, String> {
        let mut limits = HashMap::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not channel=duration"))?;
            let channel = Channel::parse(name.trim()).ok_or_else(|| {
                format!("{name:?} is not a channel (phone, email, online, walk_in)")
            })?;
            let limit = Limit::parse(value)
                .map_err(|e| format!("the {} time limit: {e}", channel.as_str()))?;
            limits.insert(channel, limit);
        }
        if let Some(missing) = Channel::ALL.into_iter().find(|c| !limits.contains_key(c)) {
            return Err(format!(
                "no time limit for the {} channel",
                missing.as_str()
            ));
        }
        Ok(ResponseLimits(limits))
    }

    /// The channel's limit.
    pub fn limit(&self, channel: Channel) -> Limit {
        self.0
            .get(&channel)
            .copied()
            .unwrap_or(Limit::WorkingDays(1))
    }

    /// When a response to an inquiry received at `received` is due, on
    /// `calendar`.
    pub fn due(&self, channel: Channel, received: Millis, calendar: &Calendar) -> Millis {
        calendar.due(received, self.limit(channel))
    }
}

impl Default for ResponseLimits {
    fn default() -> Self {
        ResponseLimits::parse(DEFAULT_RESPONSE_LIMITS)
            .unwrap_or_else(|_| ResponseLimits(HashMap::new()))
    }
}

/// The default per-channel response time limits.
pub const DEFAULT_RESPONSE_LIMITS: &str = "phone=4h,email=24h,online=8h,walk_in=1h";

/// Who asked, and how to reach them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub name: String,
    pub phone: String,
    pub email: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Created,
    Response,
    Note,
    Escalation,
    Resolution,
    Closure,
    Pause,
    Resume,
    DeadlineMoved,
}

impl EntryKind {
    pub const ALL: [EntryKind; 9] = [
        EntryKind::Created,
        EntryKind::Response,
        EntryKind::Note,
        EntryKind::Escalation,
        EntryKind::Resolution,
        EntryKind::Closure,
        EntryKind::Pause,
        EntryKind::Resume,
        EntryKind::DeadlineMoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Created => "created",
            EntryKind::Response => "response",
            EntryKind::Note => "note",
            EntryKind::Escalation => "escalation",
            EntryKind::Resolution => "resolution",
            EntryKind::Closure => "closure",
            EntryKind::Pause => "pause",
            EntryKind::Resume => "resume",
            EntryKind::DeadlineMoved => "deadline_moved",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One thing that happened to an inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquiryEntry {
    pub kind: EntryKind,
    pub text: String,
    pub customer_need: String,
    pub department: String,
    pub specialist: String,
    pub from: Option<InquiryStatus>,
    pub to: InquiryStatus,
    pub actor: Actor,
    pub at: Millis,
    /// A note sent to the customer as progress (§2.1).
    pub shared_with_customer: bool,
}

impl InquiryEntry {
    /// Whether the customer hears of this entry: every change of status,
    /// and the notes written for them. Internal notes stay internal.
    pub fn tells_customer(&self) -> bool {
        self.from != Some(self.to) || self.shared_with_customer
    }
}

/// How many of its latest entries an inquiry carries; the rest are read a
/// page at a time, so a long-running inquiry costs each call the same.
pub const SHOWN_ENTRIES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    pub id: String,
    pub channel: Channel,
    pub customer: Customer,
    pub subject: String,
    pub text: String,
    pub status: InquiryStatus,
    pub department: String,
    pub specialist: String,
    /// The response clock: met by the first response or the resolution.
    pub response: Deadline,
    pub first_response_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub satisfaction: i32,
    pub created_by: Actor,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
    /// The latest [`SHOWN_ENTRIES`], oldest first; empty when loaded
    /// without them.
    pub entries: Vec<InquiryEntry>,
}

/// What a new inquiry is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInquiry {
    pub channel: Channel,
    pub customer: Customer,
    pub subject: String,
    pub text: String,
}

/// A change a caller asks of an inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InquiryChange {
    Respond {
        answer: String,
        customer_need: String,
    },
    /// A progress note; `for_customer` also sends it to the customer.
    Note {
        text: String,
        for_customer: bool,
    },
    Escalate {
        department: String,
        specialist: String,
        reason: String,
    },
    Resolve {
        resolution: String,
    },
    Close {
        satisfaction: i32,
        remark: String,
    },
    /// Stops the response clock while waiting on the customer.
    Pause {
        reason: String,
    },
    Resume {
        note: String,
    },
}

impl InquiryChange {
    /// The action its audit record names.
    pub fn action(&self) -> &'static str {
        match self {
            InquiryChange::Respond { .. } => "intake.inquiries.respond",
            InquiryChange::Note { .. } => "intake.inquiries.note",
            InquiryChange::Escalate { .. } => "intake.inquiries.escalate",
            InquiryChange::Resolve { .. } => "intake.inquiries.resolve",
            InquiryChange::Close { .. } => "intake.inquiries.close",
            InquiryChange::Pause { .. } => "intake.inquiries.pause",
            InquiryChange::Resume { .. } => "intake.inquiries.resume",
        }
    }
}

impl Inquiry {
    /// "inquiries/{id}".
    pub fn resource(&self) -> String {
        format!("inquiries/{}", self.id)
    }

    /// Applies `change`; the entry records it.
    pub fn change(
        &mut self,
        change: InquiryChange,
        actor: &Actor,
        now: Millis,
        calendar: &Stored,
    ) -> Result<InquiryEntry, IllegalTransition> {
        match change {
            InquiryChange::Respond {
                answer,
                customer_need,
            } => self.respond(answer, customer_need, actor, now),
            InquiryChange::Note { text, for_customer } => self.note(text, for_customer, actor, now),
            InquiryChange::Escalate {
                department,
                specialist,
                reason,
            } => self.escalate(department, specialist, reason, actor, now),
            InquiryChange::Resolve { resolution } => self.resolve(resolution, actor, now),
            InquiryChange::Close {
                satisfaction,
                remark,
            } => self.close(satisfaction, remark, actor, now),
            InquiryChange::Pause { reason } => {
                self.status.note()?;
                self.response
                    .pause(now, reason.clone())
                    .map_err(|t| IllegalTransition {
                        action: "pause the response clock of",
                        ..t
                    })?;
                let mut entry = self.apply(EntryKind::Pause, self.status, actor, now);
                entry.text = reason;
                Ok(entry)
            }
            InquiryChange::Resume { note } => {
                self.status.note()?;
                self.response
                    .resume(now, calendar)
                    .map_err(|t| IllegalTransition {
                        action: "resume the response clock of",
                        ..t
                    })?;
                let mut entry = self.apply(EntryKind::Resume, self.status, actor, now);
                entry.text = note;
                Ok(entry)
            }
        }
    }

    /// Follows a new version of the calendar its response clock counts on;
    /// the entry that records the move, when the due time moved.
    pub fn follow_calendar(
        &mut self,
        calendar: &Stored,
        actor: &Actor,
        now: Millis,
    ) -> Option<InquiryEntry> {
        let before = self.response.recompute(calendar)?;
        let mut entry = self.apply(EntryKind::DeadlineMoved, self.status, actor, now);
        entry.text = self.response.moved_note(before, calendar);
        Some(entry)
    }

    /// The response clock stops at the first response or the resolution.
    fn stop_clock(&mut self, now: Millis) {
        if self.response.state != DeadlineState::Met {
            // Running or paused: both can be met.
            let _ = self.response.meet(now);
        }
    }

    /// Adds `entry` to the entries shown, dropping the oldest beyond
    /// [`SHOWN_ENTRIES`].
    pub fn show(&mut self, entry: InquiryEntry) {
        self.entries.push(entry);
        let excess = self.entries.len().saturating_sub(SHOWN_ENTRIES);
        self.entries.drain(..excess);
    }

    /// How many entries it has: one per version.
    pub fn entry_count(&self) -> i64 {
        self.version
    }

    /// A freshly recorded inquiry and its first entry.
    pub fn open(
        id: String,
        new: NewInquiry,
        limits: &ResponseLimits,
        calendar: &Stored,
        actor: &Actor,
        now: Millis,
    ) -> Inquiry {
        let mut inquiry = Inquiry {
            id,
            channel: new.channel,
            customer: new.customer,
            subject: new.subject,
            text: new.text,
            status: InquiryStatus::Open,
            department: String::new(),
            specialist: String::new(),
            response: Deadline::start(now, limits.limit(new.channel), calendar),
            first_response_at: None,
            resolved_at: None,
            satisfaction: 0,
            created_by: actor.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
            entries: Vec::new(),
        };
        let entry = inquiry.entry(EntryKind::Created, None, actor, now);
        inquiry.entries.push(entry);
        inquiry
    }

    /// Past its response deadline with neither a response nor a
    /// resolution; never while the clock is paused.
    pub fn is_overdue(&self, now: Millis) -> bool {
        self.response.state == DeadlineState::Running && now > self.response.due
    }

    fn entry(
        &self,
        kind: EntryKind,
        from: Option<InquiryStatus>,
        actor: &Actor,
        at: Millis,
    ) -> InquiryEntry {
        InquiryEntry {
            kind,
            text: String::new(),
            customer_need: String::new(),
            department: String::new(),
            specialist: String::new(),
            from,
            to: self.status,
            actor: actor.clone(),
            at,
            shared_with_customer: false,
        }
    }

    fn apply(
        &mut self,
        kind: EntryKind,
        next: InquiryStatus,
        actor: &Actor,
        now: Millis,
    ) -> InquiryEntry {
        let from = self.status;
        self.status = next;
        self.updated_at = now;
        self.version += 1;
        self.entry(kind, Some(from), actor, now)
    }

    pub fn respond(
        &mut self,
        answer: String,
        customer_need: String,
        actor: &Actor,
        now: Millis,
    ) -> Result<InquiryEntry, IllegalTransition> {
        let next = self.status.respond()?;
        self.first_response_at.get_or_insert(now);
        self.stop_clock(now);
        let mut entry = self.apply(EntryKind::Response, next, actor, now);
        entry.text = answer;
        entry.customer_need = customer_need;
        Ok(entry)
    }

    /// A progress note; `for_customer` also sends it to the customer.
    pub fn note(
        &mut self,
        note: String,
        for_customer: bool,
        actor: &Actor,
        now: Millis,
    ) -> Result<InquiryEntry, IllegalTransition> {
        let next = self.status.note()?;
        let mut entry = self.apply(EntryKind::Note, next, actor, now);
        entry.text = note;
        entry.shared_with_customer = for_customer;
        Ok(entry)
    }

    /// What the customer is told of `entry` (see
    /// [`InquiryEntry::tells_customer`]).
    pub fn customer_message(&self, entry: &InquiryEntry) -> String {
        if entry.shared_with_customer {
            return format!(
                "Progress on your inquiry \"{}\": {}",
                self.subject, entry.text
            );
        }
        match entry.to {
            InquiryStatus::Open => format!("We have received your inquiry \"{}\".", self.subject),
            InquiryStatus::Responded => format!("We have answered your inquiry: {}", entry.text),
            InquiryStatus::Escalated => {
                "Your inquiry has been passed to a specialist team, who will follow up.".to_owned()
            }
            InquiryStatus::Resolved => format!("Your inquiry has been resolved: {}", entry.text),
            InquiryStatus::Closed => {
                "Your inquiry is closed. Thank you for your feedback.".to_owned()
            }
        }
    }

    pub fn escalate(
        &mut self,
        department: String,
        specialist: String,
        reason: String,
        actor: &Actor,
        now: Millis,
    ) -> Result<InquiryEntry, IllegalTransition> {
        let next = self.status.escalate()?;
        self.department.clone_from(&department);
        self.specialist.clone_from(&specialist);
        let mut entry = self.apply(EntryKind::Escalation, next, actor, now);
        entry.text = reason;
        entry.department = department;
        entry.specialist = specialist;
        Ok(entry)
    }

    pub fn resolve(
        &mut self,
        resolution: String,
        actor: &Actor,
        now: Millis,
    ) -> Result<InquiryEntry, IllegalTransition> {
        let next = self.status.resolve()?;
        self.resolved_at = Some(now);
        self.stop_clock(now);
        let mut entry = self.apply(EntryKind::Resolution, next, actor, now);
        entry.text = resolution;
        Ok(entry)
    }

    pub fn close(
        &mut self,
        satisfaction: i32,
        remark: String,
        actor: &Actor,
        now: Millis,
    ) -> Result<InquiryEntry, IllegalTransition> {
        let next = self.status.close()?;
        self.satisfaction = satisfaction;
        let mut entry = self.apply(EntryKind::Closure, next, actor, now);
        entry.text = remark;
        Ok(entry)
    }
}

/// A satisfaction score: 1 (poor) to 5 (excellent).
pub fn satisfaction(score: i32) -> Option<i32> {
    (1..=5).contains(&score).then_some(score)
}

#[cfg(test)]
mod tests {
    use super::*;
    use InquiryStatus::*;

    #[test]
    fn an_inquiry_goes_from_open_through_response_and_resolution_to_closed() {
        let s = Open.respond().and_then(InquiryStatus::escalate);
        assert_eq!(s, Ok(Escalated));
        assert_eq!(Escalated.respond(), Ok(Responded));
        assert_eq!(Responded.resolve(), Ok(Resolved));
        assert_eq!(Resolved.close(), Ok(Closed));
    }

    #[test]
    fn a_closed_inquiry_allows_nothing_and_says_which_states_would() {
        for action in [
            InquiryStatus::respond,
            InquiryStatus::escalate,
            InquiryStatus::resolve,
            InquiryStatus::close,
            InquiryStatus::note,
        ] {
            let err = action(Closed).expect_err("closed is final");
            assert_eq!(err.current, "CLOSED");
            assert!(!err.allowed.is_empty());
        }
        let err = Open.close().expect_err("only resolved inquiries close");
        assert_eq!(err.allowed, ["RESOLVED"]);
    }

    #[test]
    fn notes_keep_the_status() {
        assert_eq!(Escalated.note(), Ok(Escalated));
        assert_eq!(Resolved.note(), Ok(Resolved));
    }

    #[test]
    fn the_deadline_comes_from_the_channel_limit() {
        let utc = Calendar::standard(chrono_tz::UTC);
        let limits =
            ResponseLimits::parse("phone=1h, email=2h, online=3h, walk_in=10m").expect("valid");
        assert_eq!(limits.due(Channel::Email, 1_000, &utc), 1_000 + 7_200_000);
        assert_eq!(limits.due(Channel::WalkIn, 0, &utc), 600_000);
        assert_eq!(
            ResponseLimits::default().due(Channel::Phone, 0, &utc),
            4 * 3_600_000
        );
    }

    #[test]
    fn working_limits_count_on_the_calendar() {
        let utc = Calendar::standard(chrono_tz::UTC);
        let limits =
            ResponseLimits::parse("phone=2wh,email=1wd,online=8h,walk_in=1h").expect("valid");
        // Friday 2026-11-27 17:00 UTC: one working hour left that day, the
        // second on Monday at 09:00.
        let friday_five = 1_795_798_800_000;
        assert_eq!(
            limits.due(Channel::Phone, friday_five, &utc),
            utc.due(friday_five, Limit::WorkingTime(2 * 3_600_000))
        );
        assert_eq!(
            limits.due(Channel::Phone, friday_five, &utc),
            friday_five + (2 * 24 + 17) * 3_600_000
        );
        assert_eq!(
            limits.due(Channel::Email, friday_five, &utc),
            utc.due(friday_five, Limit::WorkingDays(1))
        );
    }

    #[test]
    fn limits_must_name_every_channel_with_a_positive_duration() {
        assert!(
            ResponseLimits::parse("phone=1h")
                .expect_err("invalid")
                .contains("email")
        );
        assert!(
            ResponseLimits::parse("fax=1h")
                .expect_err("invalid")
                .contains("fax")
        );
        assert!(ResponseLimits::parse("phone=0s,email=1h,online=1h,walk_in=1h").is_err());
    }

    fn opened(limits: &str) -> Inquiry {
        let actor = Actor {
            subject: "clerk".into(),
            name: String::new(),
            title: String::new(),
            department: String::new(),
            roles: Vec::new(),
            approval_level: 0,
            clearance: procedo_platform::identity::Clearance::Internal,
        };
        let new = NewInquiry {
            channel: Channel::Phone,
            customer: Customer {
                name: "Li Wei".into(),
                phone: "1".into(),
                email: String::new(),
            },
            subject: "s".into(),
            text: "t".into(),
        };
        let limits = ResponseLimits::parse(limits).expect("limits");
        Inquiry::open("i".into(), new, &limits, &utc(), &actor, 0)
    }

    fn utc() -> Stored {
        Stored::seed(Calendar::standard(chrono_tz::UTC))
    }

    #[test]
    fn overdue_means_past_due_with_no_response_and_no_resolution() {
        let mut i = opened("phone=100ms,email=1h,online=1h,walk_in=1h");
        assert!(!i.is_overdue(100));
        assert!(i.is_overdue(101));
        let actor = i.created_by.clone();
        let respond = InquiryChange::Respond {
            answer: "a".into(),
            customer_need: String::new(),
        };
        i.change(respond, &actor, 150, &utc()).expect("answered");
        assert!(!i.is_overdue(200), "answered, if late");
        assert_eq!(i.response.met_at, Some(150));
        let pause = InquiryChange::Pause {
            reason: "waiting".into(),
        };
        let err = i
            .change(pause, &actor, 160, &utc())
            .expect_err("the clock has stopped");
        assert_eq!(
            (err.action, err.current),
            ("pause the response clock of", "MET")
        );
    }

    #[test]
    fn a_paused_inquiry_is_never_overdue_and_its_due_time_moves_on() {
        let mut i = opened("phone=100ms,email=1h,online=1h,walk_in=1h");
        let actor = i.created_by.clone();
        let pause = InquiryChange::Pause {
            reason: "waiting for the contract number".into(),
        };
        let entry = i.change(pause, &actor, 40, &utc()).expect("paused");
        assert_eq!(entry.kind, EntryKind::Pause);
        assert_eq!(entry.from, Some(Open));
        assert!(!entry.tells_customer());
        assert!(!i.is_overdue(1_000_000));
        let resume = InquiryChange::Resume {
            note: String::new(),
        };
        i.change(resume, &actor, 1_040, &utc()).expect("resumed");
        assert_eq!(i.response.due, 1_100);
        assert!(i.is_overdue(1_101));
    }

    #[test]
    fn satisfaction_is_one_to_five() {
        assert_eq!(satisfaction(1), Some(1));
        assert_eq!(satisfaction(5), Some(5));
        assert_eq!(satisfaction(0), None);
        assert_eq!(satisfaction(6), None);
    }
}
