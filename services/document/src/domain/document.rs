//! Documents (§4.2) and who may see them (§1.3.5).

use std::collections::BTreeSet;

use procedo_platform::identity::{Actor, Clearance, Role};
use procedo_platform::state::{IllegalTransition, State};
use procedo_platform::time::Millis;
use serde::{Deserialize, Serialize};

use super::person::Person;

/// Where a document is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    InReview,
    Approved,
    Signed,
    Archived,
    Voided,
    Disposed,
}

impl State for Status {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "DRAFT",
            Status::InReview => "IN_REVIEW",
            Status::Approved => "APPROVED",
            Status::Signed => "SIGNED",
            Status::Archived => "ARCHIVED",
            Status::Voided => "VOIDED",
            Status::Disposed => "DISPOSED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "DRAFT" => Some(Status::Draft),
            "IN_REVIEW" => Some(Status::InReview),
            "APPROVED" => Some(Status::Approved),
            "SIGNED" => Some(Status::Signed),
            "ARCHIVED" => Some(Status::Archived),
            "DISPOSED" => Some(Status::Disposed),
            "VOIDED" => Some(Status::Voided),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub number: String,
    pub title: String,
    pub category: String,
    pub owning_department: String,
    pub confidentiality: Clearance,
    pub tags: Vec<String>,
    pub related: Vec<String>,
    pub grantees: Vec<String>,
    pub author: Actor,
    pub status: Status,
    pub void_reason: String,
    /// 0 before the first upload.
    pub current_version: i32,
    pub archive: Option<Archive>,
    pub disposal: Option<Disposal>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
}

/// Where a paper original is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperLocation {
    pub room: String,
    pub shelf: String,
    #[serde(rename = "box")]
    pub box_: String,
}

/// When and by whom a document was archived, until when it is kept, and
/// where its paper original is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    pub at: Millis,
    pub archivist: Person,
    /// `None`: kept for ever.
    pub retain_until: Option<Millis>,
    pub paper: Option<PaperLocation>,
}

/// A disposal asked for, and once approved, done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disposal {
    pub reason: String,
    pub requested_by: Person,
    pub requested_at: Millis,
    pub approved_by: Option<Person>,
    pub disposed_at: Option<Millis>,
}

/// What a registration gives, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub category: String,
    pub title: String,
    /// Empty: the author's department.
    pub owning_department: String,
    /// `None`: the category's default.
    pub confidentiality: Option<Clearance>,
    pub tags: Vec<String>,
    pub related: Vec<String>,
    pub grantees: Vec<String>,
}

/// What an update replaces, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentEdit {
    pub title: String,
    pub tags: Vec<String>,
    pub related: Vec<String>,
    pub grantees: Vec<String>,
}

/// Why a caller may not act on a document they can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    State(IllegalTransition),
    Denied(String),
    /// It lacks something the act needs (content to review).
    Missing(String),
}

impl Document {
    pub fn resource(&self) -> String {
        format!("documents/{}", self.id)
    }

    /// Whether `actor` may see it: clearance at least its level, and for
    /// confidential and secret documents, its owning department or a
    /// grant. Admins are no exception.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        actor.clearance >= self.confidentiality
            && (self.confidentiality <= Clearance::Internal
                || actor.department == self.owning_department
                || self.grantees.contains(&actor.subject))
    }

    /// Whether `actor` may see it, holding an active loan of it or not: a
    /// loan opens a confidential document to its borrower (their clearance
    /// still has to reach its level).
    pub fn visible_with_loan(&self, actor: &Actor, holds_loan: bool) -> bool {
        self.visible_to(actor) || (holds_loan && actor.clearance >= self.confidentiality)
    }

    /// Whether `actor` may change it: its author, or a department head of
    /// its owning department.
    fn editable_by(&self, actor: &Actor) -> Result<(), Refusal> {
        if actor.subject == self.author.subject
            || (actor.has(Role::DepartmentHead) && actor.department == self.owning_department)
        {
            Ok(())
        } else {
            Err(Refusal::Denied(
                "only its author or a department head of its owning department may change it"
                    .into(),
            ))
        }
    }

    pub fn edit(&mut self, edit: DocumentEdit, actor: &Actor, now: Millis) -> Result<(), Refusal> {
        self.editable_by(actor)?;
        self.status
            .require("edit", &[Status::Draft])
            .map_err(Refusal::State)?;
        self.title = edit.title;
        self.tags = edit.tags;
        self.related = edit.related;
        self.grantees = edit.grantees;
        self.touch(now);
        Ok(())
    }

    /// Voids a draft; the number stays with it, with the reason.
    pub fn void(&mut self, reason: String, actor: &Actor, now: Millis) -> Result<(), Refusal> {
        if !actor.has(Role::Archivist) {
            self.editable_by(actor)?;
        }
        self.status
            .require("void", &[Status::Draft])
            .map_err(Refusal::State)?;
        self.status = Status::Voided;
        self.void_reason = reason;
        self.touch(now);
        Ok(())
    }

    /// Whether `actor` may upload a new version now.
    pub fn check_upload(&self, actor: &Actor) -> Result<(), Refusal> {
        self.editable_by(actor)?;
        self.status
            .require("upload a version of", &[Status::Draft])
            .map_err(Refusal::State)
    }

    /// Sends the current version to review.
    pub fn submit_for_review(&mut self, actor: &Actor, now: Millis) -> Result<(), Refusal> {
        self.editable_by(actor)?;
        self.status
            .require("submit for review", &[Status::Draft])
            .map_err(Refusal::State)?;
        if self.current_version == 0 {
            return Err(Refusal::Missing(
                "has no version to review: upload one first".into(),
            ));
        }
        self.status = Status::InReview;
        self.touch(now);
        Ok(())
    }

    /// The review round closed: approved, or back to the author.
    pub fn close_review(&mut self, approved: bool, now: Millis) {
        self.status = if approved {
            Status::Approved
        } else {
            Status::Draft
        };
        self.touch(now);
    }

    /// Whether its current version may be signed now.
    pub fn check_signable(&self) -> Result<(), Refusal> {
        self.status
            .require("sign", &[Status::Approved, Status::Signed])
            .map_err(Refusal::State)
    }

    /// Its current version carries every required signature.
    pub fn mark_signed(&mut self, now: Millis) {
        if self.status == Status::Approved {
            self.status = Status::Signed;
            self.touch(now);
        }
    }

    /// Archives it: a signed document, or an approved one whose category
    /// requires no signature; kept for `retention_years` (0: for ever).
    pub fn archive(
        &mut self,
        actor: &Actor,
        requires_signatures: bool,
        retention_years: i32,
        paper: Option<PaperLocation>,
        now: Millis,
    ) -> Result<(), Refusal> {
        let allowed: &[Status] = if requires_signatures {
            &[Status::Signed]
        } else {
            &[Status::Approved, Status::Signed]
        };
        self.status
            .require("archive", allowed)
            .map_err(Refusal::State)?;
        self.status = Status::Archived;
        self.archive = Some(Archive {
            at: now,
            archivist: Person::of(actor),
            retain_until: retention_end(now, retention_years),
            paper,
        });
        self.touch(now);
        Ok(())
    }

    /// Records where the paper original is now.
    pub fn relocate(&mut self, paper: Option<PaperLocation>, now: Millis) -> Result<(), Refusal> {
        self.status
            .require("move the paper original of", &[Status::Archived])
            .map_err(Refusal::State)?;
        if let Some(archive) = self.archive.as_mut() {
            archive.paper = paper;
        }
        self.touch(now);
        Ok(())
    }

    /// Asks to dispose of it once its retention has passed.
    pub fn request_disposal(
        &mut self,
        reason: String,
        actor: &Actor,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.status
            .require("request the disposal of", &[Status::Archived])
            .map_err(Refusal::State)?;
        if self.disposal.is_some() {
            return Err(Refusal::Missing(
                "has a disposal waiting for approval already".into(),
            ));
        }
        match self.archive.as_ref().and_then(|a| a.retain_until) {
            None => return Err(Refusal::Missing("is kept for ever".into())),
            Some(until) if now < until => {
                return Err(Refusal::Missing(format!(
                    "is kept until {}",
                    crate::domain::signing::statement_time(until)
                )));
            }
            Some(_) => {}
        }
        self.disposal = Some(Disposal {
            reason,
            requested_by: Person::of(actor),
            requested_at: now,
            approved_by: None,
            disposed_at: None,
        });
        self.touch(now);
        Ok(())
    }

    /// Approves the requested disposal: a department head of its owning
    /// department other than who asked.
    pub fn approve_disposal(&mut self, actor: &Actor, now: Millis) -> Result<(), Refusal> {
        self.status
            .require("dispose of", &[Status::Archived])
            .map_err(Refusal::State)?;
        let Some(disposal) = self.disposal.as_mut() else {
            return Err(Refusal::Missing("has no disposal requested".into()));
        };
        if !(actor.has(Role::DepartmentHead) && actor.department == self.owning_department) {
            return Err(Refusal::Denied(
                "a department head of its owning department approves its disposal".into(),
            ));
        }
        if disposal.requested_by.subject == actor.subject {
            return Err(Refusal::Denied(
                "who asks for a disposal does not approve it".into(),
            ));
        }
        disposal.approved_by = Some(Person::of(actor));
        disposal.disposed_at = Some(now);
        self.status = Status::Disposed;
        self.touch(now);
        Ok(())
    }

    /// Lets `subject` see it (a named reviewer of a confidential document).
    pub fn grant(&mut self, subject: &str) {
        if !self.grantees.iter().any(|g| g == subject) {
            self.grantees.push(subject.to_owned());
        }
    }

    /// A version was added.
    pub fn add_version(&mut self, now: Millis) -> i32 {
        self.current_version += 1;
        self.touch(now);
        self.current_version
    }

    fn touch(&mut self, now: Millis) {
        self.updated_at = now;
        self.version += 1;
    }
}

/// A new document id registered at `at`: a UUIDv7 carrying that time, so
/// ids sort by registration and a range of registration times is a range
/// of ids (lists page by id, newest first, and a date filter reads the
/// same index). Ids this process makes in one millisecond sort in the
/// order they were made; the counter starts at random, so replicas'
/// ids do not collide.
pub fn new_id(at: Millis) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();
    let counter = COUNTER.get_or_init(|| {
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).expect("the system's random numbers");
        AtomicU64::new(u64::from_be_bytes(seed) >> 25)
    });
    let n = counter.fetch_add(1, Ordering::Relaxed) & ((1 << 39) - 1);
    // Bytes 0–2 are where the version and variant bits go; the counter
    // follows, then two random bytes.
    let mut bytes = [0u8; 10];
    bytes[3..8].copy_from_slice(&n.to_be_bytes()[3..]);
    getrandom::fill(&mut bytes[8..]).expect("the system's random numbers");
    let millis = u64::try_from(at.max(0)).unwrap_or(0).min((1 << 48) - 1);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
        .into_uuid()
        .to_string()
}

/// The smallest id of a document registered at or after `at`: ids of
/// documents registered from `at` on sort at or above it, earlier ones
/// below.
pub fn first_id_at(at: Millis) -> String {
    let millis = u64::try_from(at.max(0)).unwrap_or(0).min((1 << 48) - 1);
    format!("{:08x}-{:04x}", millis >> 16, millis & 0xffff)
}

/// The words a title is found by: lower-case runs of letters and digits,
/// and, since Chinese is written without spaces, each pair of adjacent
/// CJK characters (a lone one on its own).
pub fn title_words(title: &str) -> BTreeSet<String> {
    let mut words = BTreeSet::new();
    let mut word = String::new();
    let mut han: Vec<char> = Vec::new();
    let flush_han = |han: &mut Vec<char>, words: &mut BTreeSet<String>| {
        match han.len() {
            0 => {}
            1 => {
                words.insert(han[0].to_string());
            }
            _ => {
                for pair in han.windows(2) {
                    words.insert(pair.iter().collect());
                }
            }
        }
        han.clear();
    };
    for c in title.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                words.insert(std::mem::take(&mut word));
            }
            han.push(c);
        } else if c.is_alphanumeric() {
            flush_han(&mut han, &mut words);
            word.extend(c.to_lowercase());
        } else {
            flush_han(&mut han, &mut words);
            if !word.is_empty() {
                words.insert(std::mem::take(&mut word));
            }
        }
    }
    flush_han(&mut han, &mut words);
    if !word.is_empty() {
        words.insert(word);
    }
    words
}

/// When `years` of retention from `from` end; `None` for 0 (for ever).
fn retention_end(from: Millis, years: i32) -> Option<Millis> {
    let years = u32::try_from(years).ok().filter(|y| *y > 0)?;
    let start = chrono::DateTime::from_timestamp_millis(from)?;
    Some(
        start
            .checked_add_months(chrono::Months::new(years * 12))?
            .timestamp_millis(),
    )
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // kana
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xF900..=0xFAFF   // compatibility ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_registration_time_and_a_time_bounds_them() {
        let t = 1_764_000_000_123;
        let same: Vec<String> = (0..1000).map(|_| new_id(t)).collect();
        assert!(
            same.windows(2).all(|w| w[0] < w[1]),
            "made in one millisecond, in order"
        );
        let earlier = new_id(t - 1);
        let later = new_id(t + 1);
        let bound = first_id_at(t);
        assert!(earlier < bound && bound <= same[0] && same[999] < first_id_at(t + 1));
        assert!(first_id_at(t + 1) <= later);
        let parsed = uuid::Uuid::parse_str(&same[0]).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 7);
        let (secs, nanos) = parsed.get_timestamp().expect("a time").to_unix();
        assert_eq!(
            secs * 1000 + u64::from(nanos / 1_000_000),
            1_764_000_000_123
        );
        assert_eq!(first_id_at(-5), "00000000-0000", "before 1970 is the start");
    }

    fn actor(subject: &str, department: &str, clearance: Clearance, roles: &[Role]) -> Actor {
        Actor {
            subject: subject.into(),
            name: String::new(),
            title: String::new(),
            department: department.into(),
            roles: roles.to_vec(),
            approval_level: 0,
            clearance,
        }
    }

    fn document(level: Clearance) -> Document {
        Document {
            id: "d".into(),
            number: "HT-2026-000001".into(),
            title: "Supply contract".into(),
            category: "contract".into(),
            owning_department: "sales".into(),
            confidentiality: level,
            tags: vec![],
            related: vec![],
            grantees: vec!["guest".into()],
            author: actor("li", "sales", Clearance::Secret, &[Role::Executor]),
            status: Status::Draft,
            void_reason: String::new(),
            current_version: 0,
            archive: None,
            disposal: None,
            created_at: 0,
            updated_at: 0,
            version: 1,
        }
    }

    #[test]
    fn clearance_and_department_decide_who_sees_it_for_admins_too() {
        use Clearance::*;
        let admin_elsewhere = actor("root", "it", Secret, &[Role::Admin]);
        let sales_internal = actor("wang", "sales", Internal, &[Role::Executor]);
        let sales_secret = actor("zhao", "sales", Secret, &[Role::Executor]);
        let guest = actor("guest", "legal", Confidential, &[]);
        assert!(document(Internal).visible_to(&admin_elsewhere));
        assert!(!document(Confidential).visible_to(&admin_elsewhere));
        assert!(!document(Confidential).visible_to(&sales_internal));
        assert!(document(Secret).visible_to(&sales_secret));
        assert!(document(Confidential).visible_to(&guest));
        assert!(
            !document(Secret).visible_to(&guest),
            "a grant does not raise clearance"
        );
    }

    #[test]
    fn a_draft_is_voided_by_its_author_its_head_or_an_archivist_and_only_once() {
        let mut d = document(Clearance::Internal);
        let stranger = actor("x", "ops", Clearance::Secret, &[Role::Executor]);
        assert!(matches!(
            d.void("no".into(), &stranger, 1),
            Err(Refusal::Denied(_))
        ));
        let archivist = actor("a", "archive", Clearance::Secret, &[Role::Archivist]);
        d.void("duplicate".into(), &archivist, 2).expect("voided");
        assert_eq!(
            (d.status, d.void_reason.as_str()),
            (Status::Voided, "duplicate")
        );
        assert!(matches!(
            d.void("again".into(), &archivist, 3),
            Err(Refusal::State(_))
        ));
    }

    #[test]
    fn titles_are_found_by_words_and_by_pairs_of_chinese_characters() {
        let words = title_words("Supply contract, 2026 — 采购合同");
        for w in ["supply", "contract", "2026", "采购", "购合", "合同"] {
            assert!(words.contains(w), "{w} in {words:?}");
        }
        assert_eq!(title_words("合"), BTreeSet::from(["合".to_owned()]));
    }
}
