//! Assessment (§6.2): schemes of weighted indicators, each computed from
//! facts or scored by an assessor; a period's figures per department and
//! per person, scored against the indicator's target, and a weighted
//! total; and the rewards and accountability records that follow.

use std::collections::{BTreeMap, HashMap};

use procedo_platform::person::Person;
use procedo_platform::state::{IllegalTransition, State};
use procedo_platform::time::Millis;
use serde::{Deserialize, Serialize};

use super::fact::{Fact, kind};
use super::filing::Recurrence;

/// Where an indicator belongs (§6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Group {
    Quality,
    Efficiency,
    Compliance,
    Satisfaction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// What a computed indicator counts. Rates are fractions from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    /// Share of step tasks completed within their time limit.
    TasksOnTime,
    /// Share of joint reviews, countersignatures and approvals decided
    /// APPROVE in their step's first round.
    ReviewFirstPass,
    /// Share of acceptances PASSED in their step's first round.
    AcceptanceFirstPass,
    /// Share of inquiries first answered within their channel's limit.
    InquiriesOnTime,
    /// Average customer satisfaction (1–5) of inquiries closed.
    CustomerSatisfaction,
    /// Share of applications rejected or completed within their processing
    /// time limit.
    ApplicationsOnTime,
    /// Average days from a document's registration to its approval.
    DocumentReviewDays,
    /// Share of rectification notices verified by their deadline.
    NoticesOnTime,
}

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::TasksOnTime,
        Metric::ReviewFirstPass,
        Metric::AcceptanceFirstPass,
        Metric::InquiriesOnTime,
        Metric::CustomerSatisfaction,
        Metric::ApplicationsOnTime,
        Metric::DocumentReviewDays,
        Metric::NoticesOnTime,
    ];

    /// The kinds of fact it reads.
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            Metric::TasksOnTime | Metric::ReviewFirstPass | Metric::AcceptanceFirstPass => {
                &[kind::TASK_COMPLETED]
            }
            Metric::InquiriesOnTime => &[kind::INQUIRY_RESPONDED],
            Metric::CustomerSatisfaction => &[kind::INQUIRY_CLOSED],
            Metric::ApplicationsOnTime => &[kind::APPLICATION_DECIDED],
            Metric::DocumentReviewDays => &[kind::DOCUMENT_APPROVED],
            Metric::NoticesOnTime => &[kind::NOTICE_VERIFIED],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    Computed(Metric),
    /// An assessor's score (0–100) with a justification.
    Manual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// Unique in its scheme, e.g. "on_time".
    pub code: String,
    pub name: String,
    pub group: Group,
    pub weight: f64,
    /// A rate's target is a fraction (0.9); an average's is in its unit.
    pub target: f64,
    pub direction: Direction,
    pub method: Method,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scheme {
    pub id: String,
    pub name: String,
    pub cycle: Recurrence,
    pub indicators: Vec<Indicator>,
    pub creator: Person,
    pub created_at: Millis,
    pub row_version: i64,
}

impl Scheme {
    pub fn resource(&self) -> String {
        format!("assessmentSchemes/{}", self.id)
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }
}

/// What is wrong with a scheme's indicators, if anything: (field, what).
pub fn check_indicators(indicators: &[Indicator]) -> Vec<(String, String)> {
    let mut wrong = Vec::new();
    if indicators.is_empty() {
        wrong.push(("indicators".to_owned(), "give at least one".to_owned()));
    }
    for (n, i) in indicators.iter().enumerate() {
        let field = |name: &str| format!("indicators[{n}].{name}");
        let code_ok = !i.code.is_empty()
            && i.code.len() <= 40
            && i.code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !code_ok {
            wrong.push((field("code"), "1–40 of a–z, 0–9 and _".to_owned()));
        } else if indicators[..n].iter().any(|o| o.code == i.code) {
            wrong.push((field("code"), format!("{:?} is given twice", i.code)));
        }
        if !(i.weight.is_finite() && i.weight > 0.0 && i.weight <= 100.0) {
            wrong.push((
                field("weight"),
                "must be above 0 and at most 100".to_owned(),
            ));
        }
        if !(i.target.is_finite() && i.target > 0.0) {
            wrong.push((field("target"), "must be above 0".to_owned()));
        }
        if let Method::Computed(m) = i.method
            && is_rate(m)
            && i.target > 1.0
        {
            wrong.push((
                field("target"),
                "a rate's target is a fraction from 0 to 1 (0.9 for 90 %)".to_owned(),
            ));
        }
    }
    wrong
}

/// Whether `metric` is a share (0–1) rather than an average.
pub fn is_rate(metric: Metric) -> bool {
    !matches!(
        metric,
        Metric::CustomerSatisfaction | Metric::DocumentReviewDays
    )
}

/// One computed figure: the value, how many facts it counts, and which.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub value: f64,
    pub count: usize,
    pub events: Vec<String>,
}

/// Sums that become a figure.
#[derive(Debug, Default)]
struct Tally {
    sum: f64,
    count: usize,
    events: Vec<String>,
}

impl Tally {
    fn add(&mut self, value: f64, event: &str) {
        self.sum += value;
        self.count += 1;
        self.events.push(event.to_owned());
    }

    fn figure(self) -> Figure {
        Figure {
            value: self.sum / self.count as f64,
            count: self.count,
            events: self.events,
        }
    }
}

/// A metric's figures per department and per person.
#[derive(Debug, Default, PartialEq)]
pub struct Figures {
    pub departments: BTreeMap<String, Figure>,
    pub people: BTreeMap<String, Figure>,
}

const DAY_MS: f64 = 86_400_000.0;

/// `metric` over `facts` (of its kinds, in the period). `first_rounds` is
/// each series' lowest round (all time); `registered` each document's
/// registration time.
pub fn compute(
    metric: Metric,
    facts: &[Fact],
    first_rounds: &HashMap<String, i64>,
    registered: &HashMap<String, Millis>,
) -> Figures {
    let mut departments: BTreeMap<String, Tally> = BTreeMap::new();
    let mut people: BTreeMap<String, Tally> = BTreeMap::new();
    let first = |f: &Fact| first_rounds.get(&f.series).is_none_or(|r| f.round <= *r);
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    for f in facts
        .iter()
        .filter(|f| metric.kinds().contains(&f.kind.as_str()))
    {
        let value = match metric {
            Metric::TasksOnTime => Some(flag(f.on_time())),
            Metric::ReviewFirstPass => {
                (matches!(f.category.as_str(), "review" | "countersign" | "approval") && first(f))
                    .then(|| flag(f.outcome == "APPROVE"))
            }
            Metric::AcceptanceFirstPass => {
                (f.category == "acceptance" && first(f)).then(|| flag(f.outcome == "PASS"))
            }
            Metric::InquiriesOnTime | Metric::ApplicationsOnTime | Metric::NoticesOnTime => {
                Some(flag(f.on_time()))
            }
            Metric::CustomerSatisfaction => f.value.filter(|v| (1.0..=5.0).contains(v)),
            Metric::DocumentReviewDays => registered
                .get(&f.resource)
                .map(|at| ((f.occurred_at - at).max(0)) as f64 / DAY_MS),
        };
        let Some(value) = value else {
            continue;
        };
        if !f.department.is_empty() {
            departments
                .entry(f.department.clone())
                .or_default()
                .add(value, &f.event_id);
        }
        if !f.person.is_empty() {
            people
                .entry(f.person.clone())
                .or_default()
                .add(value, &f.event_id);
        }
    }
    Figures {
        departments: departments
            .into_iter()
            .map(|(k, t)| (k, t.figure()))
            .collect(),
        people: people.into_iter().map(|(k, t)| (k, t.figure())).collect(),
    }
}

/// The score (0–100) of `value` against the indicator's target.
pub fn score(value: f64, target: f64, direction: Direction) -> f64 {
    let ratio = match direction {
        Direction::HigherIsBetter => value / target,
        Direction::LowerIsBetter if value <= 0.0 => 1.0,
        Direction::LowerIsBetter => target / value,
    };
    (ratio.clamp(0.0, 1.0) * 100.0 * 100.0).round() / 100.0
}

/// The weighted total of `scores` (weight, score), over the indicators
/// that have one; `None` when none has.
pub fn total(scores: &[(f64, f64)]) -> Option<f64> {
    let weights: f64 = scores.iter().map(|(w, _)| w).sum();
    (weights > 0.0).then(|| {
        let sum: f64 = scores.iter().map(|(w, s)| w * s).sum();
        (sum / weights * 100.0).round() / 100.0
    })
}

/// Whose figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SubjectKind {
    Department,
    Person,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Department => "DEPARTMENT",
            SubjectKind::Person => "PERSON",
        }
    }

    pub fn parse(s: &str) -> Option<SubjectKind> {
        match s {
            "DEPARTMENT" => Some(SubjectKind::Department),
            "PERSON" => Some(SubjectKind::Person),
            _ => None,
        }
    }
}

/// One stored figure: a subject's score on an indicator ('' for the
/// total).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    pub subject_kind: SubjectKind,
    pub subject: String,
    /// The department's own code; a person's main department.
    pub department: String,
    pub indicator: String,
    pub value: Option<f64>,
    pub count: i64,
    pub score: Option<f64>,
    pub manual: bool,
    pub justification: String,
    pub assessor: String,
}

/// The rows of `indicator`'s `figures`; `homes` gives each person's main
/// department.
pub fn rows_of(
    indicator: &Indicator,
    figures: &Figures,
    homes: &HashMap<String, String>,
) -> Vec<ScoreRow> {
    let row = |kind: SubjectKind, subject: &str, department: String, f: &Figure| ScoreRow {
        subject_kind: kind,
        subject: subject.to_owned(),
        department,
        indicator: indicator.code.clone(),
        value: Some(f.value),
        count: f.count as i64,
        score: Some(score(f.value, indicator.target, indicator.direction)),
        manual: false,
        justification: String::new(),
        assessor: String::new(),
    };
    let departments = figures
        .departments
        .iter()
        .map(|(d, f)| row(SubjectKind::Department, d, d.clone(), f));
    let people = figures.people.iter().map(|(p, f)| {
        let home = homes.get(p).cloned().unwrap_or_default();
        row(SubjectKind::Person, p, home, f)
    });
    departments.chain(people).collect()
}

/// Each subject's weighted total over the scored rows of `scheme`'s
/// indicators.
pub fn totals(scheme: &Scheme, rows: &[ScoreRow]) -> Vec<ScoreRow> {
    // Per subject: its department and the (weight, score) of each scored
    // indicator.
    type Weighed = (String, Vec<(f64, f64)>);
    let mut by_subject: BTreeMap<(SubjectKind, String), Weighed> = BTreeMap::new();
    for r in rows.iter().filter(|r| !r.indicator.is_empty()) {
        let (Some(indicator), Some(s)) = (scheme.indicator(&r.indicator), r.score) else {
            continue;
        };
        let entry = by_subject
            .entry((r.subject_kind, r.subject.clone()))
            .or_insert_with(|| (r.department.clone(), Vec::new()));
        entry.1.push((indicator.weight, s));
    }
    by_subject
        .into_iter()
        .map(|((kind, subject), (department, scores))| ScoreRow {
            subject_kind: kind,
            subject,
            department,
            indicator: String::new(),
            value: None,
            count: scores.len() as i64,
            score: total(&scores),
            manual: false,
            justification: String::new(),
            assessor: String::new(),
        })
        .collect()
}

/// Each person's main department: where most of their `facts` were.
pub fn homes<'a>(facts: impl IntoIterator<Item = &'a Fact>) -> HashMap<String, String> {
    let mut counts: HashMap<&str, BTreeMap<&str, usize>> = HashMap::new();
    for f in facts {
        if !f.person.is_empty() && !f.department.is_empty() {
            *counts
                .entry(&f.person)
                .or_default()
                .entry(&f.department)
                .or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter_map(|(person, departments)| {
            let best = departments
                .iter()
                .max_by_key(|(d, n)| (**n, std::cmp::Reverse(**d)))?;
            Some((person.to_owned(), (*best.0).to_owned()))
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeriodStatus {
    Draft,
    Published,
}

impl State for PeriodStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl PeriodStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodStatus::Draft => "DRAFT",
            PeriodStatus::Published => "PUBLISHED",
        }
    }
}

/// A scheme's period: computed as a draft, frozen once published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub id: String,
    pub scheme_id: String,
    pub label: String,
    pub start: Millis,
    pub end: Millis,
    pub status: PeriodStatus,
    pub computed_at: Millis,
    pub computed_by: Person,
    pub published_at: Option<Millis>,
    pub published_by: Option<Person>,
    pub created_at: Millis,
    pub row_version: i64,
}

impl Period {
    pub fn resource(&self) -> String {
        format!("assessmentPeriods/{}", self.id)
    }

    /// Refuses any change once published.
    pub fn draft(&self, action: &'static str) -> Result<(), IllegalTransition> {
        self.status.require(action, &[PeriodStatus::Draft])
    }
}

/// A reward or an accountability measure (§6.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordKind {
    Commendation,
    Bonus,
    Warning,
    Penalty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordStatus {
    Proposed,
    Approved,
    Rejected,
}

impl State for RecordStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Proposed => "PROPOSED",
            RecordStatus::Approved => "APPROVED",
            RecordStatus::Rejected => "REJECTED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountabilityRecord {
    pub id: String,
    pub kind: RecordKind,
    /// "people/{subject}" or "departments/{code}".
    pub subject: String,
    pub reason: String,
    /// The published result or finding it follows: "assessmentPeriods/{id}"
    /// or "findings/{id}".
    pub basis: String,
    /// For a result: the indicator ('' for the total).
    pub indicator: String,
    /// A bonus's or penalty's amount, if any.
    pub amount: Option<procedo_platform::money::Money>,
    pub status: RecordStatus,
    pub proposed_by: Person,
    pub proposed_at: Millis,
    pub decided_by: Option<Person>,
    pub decided_at: Option<Millis>,
    pub decision_comment: String,
    pub row_version: i64,
}

impl AccountabilityRecord {
    pub fn resource(&self) -> String {
        format!("accountabilityRecords/{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(id: &str, kind: &str, dept: &str, person: &str, at: i64, due: Option<i64>) -> Fact {
        Fact {
            department: dept.into(),
            person: person.into(),
            due_at: due,
            ..Fact::new(id, kind, format!("r/{id}"), at)
        }
    }

    fn task(
        id: &str,
        person: &str,
        at: i64,
        due: i64,
        step: (&str, &str, i64),
        outcome: &str,
    ) -> Fact {
        Fact {
            category: step.0.into(),
            series: step.1.into(),
            round: step.2,
            outcome: outcome.into(),
            ..fact(id, kind::TASK_COMPLETED, "sales", person, at, Some(due))
        }
    }

    #[test]
    fn rates_count_per_department_and_person_and_name_their_facts() {
        let facts = vec![
            task("e1", "ann", 10, 20, ("execution", "i1/exec", 5), "COMPLETE"),
            task("e2", "ann", 30, 20, ("execution", "i2/exec", 5), "COMPLETE"),
            task("e3", "bob", 10, 20, ("review", "i1/review", 2), "SEND_BACK"),
            task("e4", "bob", 15, 20, ("review", "i1/review", 7), "APPROVE"),
            task("e5", "bob", 15, 20, ("review", "i2/review", 3), "APPROVE"),
        ];
        let rounds: HashMap<String, i64> =
            [("i1/review".to_owned(), 2), ("i2/review".to_owned(), 3)].into();
        let on_time = compute(Metric::TasksOnTime, &facts, &rounds, &HashMap::new());
        let sales = &on_time.departments["sales"];
        assert_eq!((sales.value, sales.count), (0.8, 5));
        assert_eq!(on_time.people["ann"].value, 0.5);
        assert_eq!(on_time.people["ann"].events, ["e1", "e2"]);
        // i1's review passed in its second round, not its first; i2's in
        // its first: one of two.
        let first = compute(Metric::ReviewFirstPass, &facts, &rounds, &HashMap::new());
        assert_eq!(
            (
                first.departments["sales"].value,
                first.departments["sales"].count
            ),
            (0.5, 2)
        );
        assert_eq!(first.departments["sales"].events, ["e3", "e5"]);
    }

    #[test]
    fn averages_skip_what_they_cannot_read() {
        let closed = |id: &str, v: Option<f64>| Fact {
            value: v,
            ..fact(id, kind::INQUIRY_CLOSED, "desk", "cleo", 1, None)
        };
        let facts = vec![
            closed("c1", Some(4.0)),
            closed("c2", Some(5.0)),
            closed("c3", Some(0.0)),
            closed("c4", None),
        ];
        let s = compute(
            Metric::CustomerSatisfaction,
            &facts,
            &HashMap::new(),
            &HashMap::new(),
        );
        assert_eq!(
            (s.departments["desk"].value, s.departments["desk"].count),
            (4.5, 2)
        );
        let approved = fact(
            "a1",
            kind::DOCUMENT_APPROVED,
            "legal",
            "",
            3 * 86_400_000,
            None,
        );
        let registered: HashMap<String, i64> = [("r/a1".to_owned(), 86_400_000)].into();
        let days = compute(
            Metric::DocumentReviewDays,
            &[approved],
            &HashMap::new(),
            &registered,
        );
        assert_eq!(days.departments["legal"].value, 2.0);
        assert!(days.people.is_empty(), "no person named");
    }

    #[test]
    fn scores_meet_their_target_at_100_and_totals_are_weighted() {
        assert_eq!(score(0.45, 0.9, Direction::HigherIsBetter), 50.0);
        assert_eq!(score(0.95, 0.9, Direction::HigherIsBetter), 100.0);
        assert_eq!(score(4.0, 2.0, Direction::LowerIsBetter), 50.0);
        assert_eq!(score(1.0, 2.0, Direction::LowerIsBetter), 100.0);
        assert_eq!(total(&[(3.0, 50.0), (1.0, 100.0)]), Some(62.5));
        assert_eq!(total(&[]), None);
    }

    #[test]
    fn indicators_are_checked() {
        let i = Indicator {
            code: "on_time".into(),
            name: "On time".into(),
            group: Group::Efficiency,
            weight: 2.0,
            target: 0.9,
            direction: Direction::HigherIsBetter,
            method: Method::Computed(Metric::TasksOnTime),
        };
        assert!(check_indicators(std::slice::from_ref(&i)).is_empty());
        let wrong = check_indicators(&[
            i.clone(),
            Indicator {
                weight: 0.0,
                target: 90.0,
                ..i.clone()
            },
            Indicator {
                code: "Bad Code".into(),
                ..i
            },
        ]);
        let fields: Vec<&str> = wrong.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "indicators[1].code",
                "indicators[1].weight",
                "indicators[1].target",
                "indicators[2].code"
            ]
        );
    }
}
