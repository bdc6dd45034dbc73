//! Training (§7.1–7.2) and making the rules known (§7.3): plans, question
//! banks, sessions whose enrolment is their audience now, attendance,
//! exams scored at once, practical scores, questionnaires, records and
//! effectiveness; policy publications acknowledged by their audience,
//! again on every new version, with one reminder once overdue.

use std::collections::BTreeMap;

use procedo_platform::error::Error;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::person::Person;
use procedo_platform::time::Millis;
use prost::Message;

use super::{App, events};
use crate::domain::directory::Member;
use crate::domain::training::{self, Plan, PlanItem, Publication, Question, QuestionBank, Session};
use crate::store::{self, Outcome};

/// A new session as asked for.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    pub plan_id: String,
    pub item_id: String,
    pub start: Millis,
    pub end: Millis,
    pub location: String,
    pub materials: Vec<String>,
    /// (bank id, pass mark, attempts).
    pub exam: Option<(String, i32, i32)>,
    pub practical: bool,
}

/// A new publication as asked for.
#[derive(Debug, Clone)]
pub struct PublicationRequest {
    pub document: String,
    pub version: i32,
    pub title: String,
    pub audience: crate::domain::directory::Audience,
    pub quiz: Vec<Question>,
    pub pass_mark: i32,
    pub due: super::Due,
}

/// One enrolled person and whether they attended.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub member: Member,
    pub present: Option<bool>,
}

/// A plan item's effectiveness over its sessions.
#[derive(Debug, Clone, Default)]
pub struct Effectiveness {
    pub sessions: usize,
    pub enrolled: usize,
    pub present: usize,
    pub evaluated: usize,
    pub passed: usize,
    pub questionnaires: usize,
    pub satisfaction_sum: i64,
}

/// A person's acknowledgement state of one publication.
#[derive(Debug, Clone)]
pub struct AckState {
    pub member: Member,
    pub acknowledged: Option<(Millis, Option<i32>)>,
}

fn trains(actor: &Actor) -> bool {
    actor.has(Role::Trainer) || actor.has(Role::Admin)
}

fn oversees(actor: &Actor) -> bool {
    actor.has(Role::Auditor) || trains(actor)
}

impl App {
    pub async fn create_training_plan<M: Message + Default>(
        &self,
        call: &Call,
        year: i32,
        title: String,
        items: Vec<PlanItem>,
        respond: impl FnOnce(&Plan) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let plan = Plan {
            id: uuid::Uuid::now_v7().to_string(),
            year,
            title,
            items,
            creator: Person::of(&call.actor),
            created_at: self.now(),
        };
        store::insert_plan_record(&mut tx, &plan).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.training.plan",
            &plan.resource(),
            format!("{} items for {}", plan.items.len(), plan.year),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&plan)).await
    }

    pub async fn training_plan(&self, id: &str) -> Result<Plan, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_training_plan(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("trainingPlans/{id}")))
    }

    pub async fn training_plans(&self, page: &Page) -> Result<(Vec<Plan>, String), Error> {
        let mut rows =
            store::list_training_plans(self.db(), page.after.as_deref(), page.fetch_limit())
                .await?;
        let next = page.finish(&mut rows, |p| p.id.clone());
        Ok((rows, next))
    }

    pub async fn create_bank<M: Message + Default>(
        &self,
        call: &Call,
        title: String,
        questions: Vec<Question>,
        respond: impl FnOnce(&QuestionBank) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let bank = QuestionBank {
            id: uuid::Uuid::now_v7().to_string(),
            title,
            questions,
        };
        store::insert_bank(&mut tx, &bank, self.now()).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.training.bank",
            &bank.resource(),
            bank.title.clone(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&bank)).await
    }

    pub async fn bank(&self, id: &str) -> Result<QuestionBank, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_bank(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("questionBanks/{id}")))
    }

    pub async fn schedule_session<M: Message + Default>(
        &self,
        call: &Call,
        r: SessionRequest,
        respond: impl FnOnce(&Session) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let plan = store::get_training_plan(&mut tx, &r.plan_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("trainingPlans/{}", r.plan_id)))?;
        let item = plan.item(&r.item_id).cloned().ok_or_else(|| {
            Error::invalid(
                "item",
                format!(
                    "the plan has no item {:?}: its items are \"1\" to \"{}\"",
                    r.item_id,
                    plan.items.len()
                ),
            )
        })?;
        let exam = match r.exam {
            None => None,
            Some((bank_id, pass_mark, max_attempts)) => {
                let bank = store::get_bank(&mut tx, &bank_id)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("questionBanks/{bank_id}")))?;
                Some(training::Exam {
                    bank_id,
                    pass_mark,
                    max_attempts,
                    questions: bank.questions,
                })
            }
        };
        let session = Session {
            id: uuid::Uuid::now_v7().to_string(),
            plan_id: plan.id.clone(),
            item_id: item.id.clone(),
            title: item.title.clone(),
            start: r.start,
            end: r.end,
            location: r.location,
            trainer: item.trainer.clone(),
            audience: item.audience.clone(),
            materials: r.materials,
            exam,
            practical: r.practical,
            created_at: self.now(),
        };
        store::insert_session(&mut tx, &session).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.training.schedule",
            &session.resource(),
            format!("{} item {}", plan.resource(), item.id),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&session)).await
    }

    pub async fn session(&self, id: &str) -> Result<Session, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_session(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("trainingSessions/{id}")))
    }

    pub async fn sessions(
        &self,
        plan_id: &str,
        page: &Page,
    ) -> Result<(Vec<Session>, String), Error> {
        let mut rows = store::list_sessions(
            self.db(),
            plan_id,
            "",
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |s| s.id.clone());
        Ok((rows, next))
    }

    /// The session's audience now, with who attended; a department head
    /// sees their department's people.
    pub async fn enrolment(&self, actor: &Actor, id: &str) -> Result<Vec<Enrolled>, Error> {
        let session = self.session(id).await?;
        let members = self.audience(&session.audience).await?;
        let attendance = store::attendance(self.db(), &session.id).await?;
        Ok(members
            .into_iter()
            .filter(|m| oversees(actor) || m.department == actor.department)
            .map(|m| Enrolled {
                present: attendance.get(&m.subject).copied(),
                member: m,
            })
            .collect())
    }

    async fn enrolled(&self, session: &Session, subject: &str) -> Result<bool, Error> {
        Ok(self.member_of(&session.audience, subject).await?.is_some())
    }

    pub async fn record_attendance<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        present: Vec<String>,
        absent: Vec<String>,
        respond: impl FnOnce(usize) -> M,
    ) -> Result<M, Error> {
        let session = self.session(id).await?;
        let audience = self.audience(&session.audience).await?;
        for (n, s) in present.iter().chain(&absent).enumerate() {
            if !audience.iter().any(|m| m.subject == *s) {
                let field = if n < present.len() {
                    "present"
                } else {
                    "absent"
                };
                return Err(Error::invalid(
                    field,
                    format!("{s} is not enrolled in {}", session.resource()),
                ));
            }
        }
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let now = self.now();
        for s in &present {
            store::put_attendance(&mut tx, &session.id, s, true, &call.actor.subject, now).await?;
        }
        for s in &absent {
            store::put_attendance(&mut tx, &session.id, s, false, &call.actor.subject, now).await?;
        }
        let detail = format!("{} present, {} absent", present.len(), absent.len());
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.training.attendance",
            &session.resource(),
            detail,
        )
        .await?;
        self.mutations()
            .finish(tx, call, respond(present.len() + absent.len()))
            .await
    }

    /// Scores the caller's answers to the session's exam.
    pub async fn take_exam<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        answers: Vec<Vec<usize>>,
        respond: impl FnOnce(&Session, i64, i32, bool, i64) -> M,
    ) -> Result<M, Error> {
        let session = self.session(id).await?;
        let resource = session.resource();
        let Some(exam) = session.exam.clone() else {
            return Err(Error::Precondition {
                kind: "NO_EXAM",
                resource,
                description: "has no exam".into(),
            });
        };
        if answers.len() != exam.questions.len() {
            return Err(Error::invalid(
                "answers",
                format!("give one answer per question: {}", exam.questions.len()),
            ));
        }
        if !self.enrolled(&session, &call.actor.subject).await? {
            return Err(Error::Denied(format!(
                "{} is not enrolled in {resource}",
                call.actor.subject
            )));
        }
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let taken = store::attempts(&mut tx, &session.id, &call.actor.subject).await?;
        if taken >= i64::from(exam.max_attempts) {
            return Err(Error::Precondition {
                kind: "ATTEMPTS",
                resource,
                description: format!("all {} attempts are used", exam.max_attempts),
            });
        }
        let score = training::score(&exam.questions, &answers);
        let passed = score >= exam.pass_mark;
        let attempt = taken + 1;
        store::insert_attempt(
            &mut tx,
            &session.id,
            &call.actor.subject,
            attempt,
            score,
            passed,
            &answers,
            self.now(),
        )
        .await?;
        let detail = format!(
            "attempt {attempt}: {score} ({})",
            if passed { "passed" } else { "not passed" }
        );
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.training.exam",
            &resource,
            detail,
        )
        .await?;
        let left = i64::from(exam.max_attempts) - attempt;
        self.mutations()
            .finish(tx, call, respond(&session, attempt, score, passed, left))
            .await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn score_practical<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        subject: String,
        score: i32,
        passed: bool,
        notes: String,
        respond: impl FnOnce(&Session) -> M,
    ) -> Result<M, Error> {
        let session = self.session(id).await?;
        let resource = session.resource();
        if !session.practical {
            return Err(Error::Precondition {
                kind: "NO_PRACTICAL",
                resource,
                description: "has no practical assessment".into(),
            });
        }
        if !self.enrolled(&session, &subject).await? {
            return Err(Error::invalid(
                "subject",
                format!("{subject} is not enrolled in {resource}"),
            ));
        }
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        store::put_practical(
            &mut tx,
            &session.id,
            &subject,
            score,
            passed,
            &notes,
            &call.actor.subject,
            self.now(),
        )
        .await?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.training.practical",
            &resource,
            format!("{subject}: {score}"),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&session)).await
    }

    pub async fn submit_questionnaire<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        satisfaction: i32,
        comment: String,
        respond: impl FnOnce(&Session) -> M,
    ) -> Result<M, Error> {
        let session = self.session(id).await?;
        let resource = session.resource();
        if !self.enrolled(&session, &call.actor.subject).await? {
            return Err(Error::Denied(format!(
                "{} is not enrolled in {resource}",
                call.actor.subject
            )));
        }
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        if !store::insert_questionnaire(
            &mut tx,
            &session.id,
            &call.actor.subject,
            satisfaction,
            &comment,
            self.now(),
        )
        .await?
        {
            return Err(Error::Precondition {
                kind: "ANSWERED",
                resource,
                description: format!("{} answered its questionnaire already", call.actor.subject),
            });
        }
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.training.questionnaire",
            &resource,
            satisfaction.to_string(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&session)).await
    }

    /// `subject`'s training: every session they have a record at or are
    /// enrolled in now, soonest first.
    pub async fn training_record(
        &self,
        actor: &Actor,
        subject: &str,
    ) -> Result<Vec<(Session, Outcome)>, Error> {
        let member = store::get_member(&mut *self.db().reader().acquire().await?, subject).await?;
        let allowed = actor.subject == subject
            || oversees(actor)
            || (actor.has(Role::DepartmentHead)
                && member
                    .as_ref()
                    .is_some_and(|m| m.department == actor.department));
        if !allowed {
            return Err(Error::NotFound(format!(
                "the training record of people/{subject}"
            )));
        }
        let mut ids = store::sessions_of(self.db(), subject).await?;
        if let Some(member) = &member {
            let all = store::all_departments(self.db()).await?;
            for s in store::list_sessions(self.db(), "", "", None, 10_000).await? {
                if !ids.contains(&s.id) && s.audience.names(member, &all) {
                    ids.push(s.id);
                }
            }
        }
        let outcomes = store::outcomes(self.db(), &ids, subject).await?;
        let mut out = Vec::new();
        for id in ids {
            let session = self.session(&id).await?;
            let outcome = outcomes
                .get(&(id, subject.to_owned()))
                .cloned()
                .unwrap_or_default();
            out.push((session, outcome));
        }
        out.sort_by_key(|(s, _)| s.start);
        Ok(out)
    }

    /// A plan item's attendance, pass rate and satisfaction over its
    /// sessions.
    pub async fn item_effectiveness(
        &self,
        plan_id: &str,
        item_id: &str,
    ) -> Result<Effectiveness, Error> {
        let plan = self.training_plan(plan_id).await?;
        if plan.item(item_id).is_none() {
            return Err(Error::NotFound(format!(
                "item {item_id} of {}",
                plan.resource()
            )));
        }
        let sessions = store::list_sessions(self.db(), plan_id, item_id, None, 10_000).await?;
        let ids: Vec<String> = sessions.iter().map(|s| s.id.clone()).collect();
        let outcomes = store::outcomes(self.db(), &ids, "").await?;
        let mut e = Effectiveness {
            sessions: sessions.len(),
            ..Effectiveness::default()
        };
        for s in &sessions {
            e.enrolled += self.audience(&s.audience).await?.len();
        }
        for o in outcomes.values() {
            if o.present == Some(true) {
                e.present += 1;
            }
            let evaluations: Vec<bool> =
                o.exam.iter().chain(&o.practical).map(|(_, p)| *p).collect();
            if !evaluations.is_empty() {
                e.evaluated += 1;
                if evaluations.iter().all(|p| *p) {
                    e.passed += 1;
                }
            }
            if let Some(s) = o.satisfaction {
                e.questionnaires += 1;
                e.satisfaction_sum += i64::from(s);
            }
        }
        Ok(e)
    }

    pub async fn publish_policy<M: Message + Default>(
        &self,
        call: &Call,
        r: PublicationRequest,
        respond: impl FnOnce(&Publication) -> M,
    ) -> Result<M, Error> {
        if let Some(documents) = self.documents() {
            documents
                .check("document", &r.document, call.bearer.as_deref(), None)
                .await?;
        }
        let now = self.now();
        let acknowledge_by = match r.due {
            super::Due::At(at) if at <= now => {
                return Err(Error::invalid("acknowledge_by", "must be in the future"));
            }
            super::Due::At(at) => at,
            super::Due::Limit(limit) => {
                self.calendars().default_calendar().calendar.due(now, limit)
            }
        };
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut publication = Publication {
            id: uuid::Uuid::now_v7().to_string(),
            document: r.document,
            version: r.version,
            title: r.title,
            audience: r.audience,
            quiz: r.quiz,
            pass_mark: r.pass_mark,
            acknowledge_by,
            active: true,
            supersedes: String::new(),
            superseded_by: String::new(),
            published_by: Person::of(&call.actor),
            published_at: now,
            reminded_at: None,
        };
        if let Some(mut earlier) = store::active_publication(&mut tx, &publication.document).await?
        {
            if earlier.version >= publication.version {
                return Err(Error::invalid(
                    "version",
                    format!(
                        "{} already has version {} published ({}): publish a later one",
                        publication.document,
                        earlier.version,
                        earlier.resource()
                    ),
                ));
            }
            earlier.active = false;
            earlier.superseded_by = publication.resource();
            publication.supersedes = earlier.resource();
            store::update_publication(&mut tx, &earlier).await?;
        }
        store::insert_publication(&mut tx, &publication).await?;
        let detail = format!("{} v{}", publication.document, publication.version);
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.policies.publish",
            &publication.resource(),
            detail,
        )
        .await?;
        self.mutations()
            .finish(tx, call, respond(&publication))
            .await
    }

    pub async fn publication(&self, id: &str) -> Result<Publication, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_publication(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("policyPublications/{id}")))
    }

    /// Everyone sees what is addressed to them; auditors, admins and
    /// department heads all.
    pub async fn publications(
        &self,
        actor: &Actor,
        document: &str,
        active_only: bool,
        page: &Page,
    ) -> Result<(Vec<Publication>, String), Error> {
        let mut rows = store::list_publications(
            self.db(),
            document,
            active_only,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        if !(oversees(actor) || actor.has(Role::DepartmentHead)) {
            let me = store::get_member(&mut *self.db().reader().acquire().await?, &actor.subject)
                .await?;
            let all = store::all_departments(self.db()).await?;
            rows.retain(|p| match &me {
                Some(me) => p.audience.names(me, &all),
                None => p.audience.departments.is_empty() && p.audience.roles.is_empty(),
            });
        }
        let next = page.finish(&mut rows, |p| p.id.clone());
        Ok((rows, next))
    }

    /// The caller acknowledges `id`, after its quiz when it has one.
    pub async fn acknowledge<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        answers: Vec<Vec<usize>>,
        respond: impl FnOnce(&Publication, Millis, Option<i32>, &str) -> M,
    ) -> Result<M, Error> {
        let publication = self.publication(id).await?;
        let resource = publication.resource();
        if !publication.active {
            return Err(Error::Precondition {
                kind: "SUPERSEDED",
                resource,
                description: format!(
                    "is superseded by {}: acknowledge that one",
                    publication.superseded_by
                ),
            });
        }
        let Some(me) = self
            .member_of(&publication.audience, &call.actor.subject)
            .await?
        else {
            return Err(Error::Denied(format!(
                "{resource} is not addressed to {}",
                call.actor.subject
            )));
        };
        let department = me.department;
        let quiz_score = if publication.quiz.is_empty() {
            None
        } else {
            if answers.len() != publication.quiz.len() {
                return Err(Error::invalid(
                    "answers",
                    format!("answer the {} quiz questions first", publication.quiz.len()),
                ));
            }
            let score = training::score(&publication.quiz, &answers);
            if score < publication.pass_mark {
                return Err(Error::Precondition {
                    kind: "QUIZ",
                    resource,
                    description: format!(
                        "the quiz scored {score} of the {} needed: read it again and retry",
                        publication.pass_mark
                    ),
                });
            }
            Some(score)
        };
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let now = self.now();
        if !store::insert_acknowledgement(
            &mut tx,
            &publication.id,
            &call.actor.subject,
            quiz_score,
            now,
        )
        .await?
        {
            return Err(Error::Precondition {
                kind: "ACKNOWLEDGED",
                resource,
                description: format!("{} acknowledged it already", call.actor.subject),
            });
        }
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.policies.acknowledge",
            &resource,
            format!("{} v{}", publication.document, publication.version),
        )
        .await?;
        self.mutations()
            .finish(
                tx,
                call,
                respond(&publication, now, quiz_score, &department),
            )
            .await
    }

    /// Everyone in the audience now and whether they acknowledged; a
    /// department head sees their department's.
    pub async fn acknowledgement_states(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(Publication, Vec<AckState>), Error> {
        let reads_all = actor.has(Role::Auditor) || actor.has(Role::Admin);
        let publication = self.publication(id).await?;
        let audience = self.audience(&publication.audience).await?;
        let done =
            store::acknowledgements(&mut *self.db().reader().acquire().await?, &publication.id)
                .await?;
        Ok((
            publication,
            audience
                .into_iter()
                .filter(|m| reads_all || m.department == actor.department)
                .map(|m| AckState {
                    acknowledged: done.get(&m.subject).copied(),
                    member: m,
                })
                .collect(),
        ))
    }

    /// Per department: (audience, acknowledged).
    pub async fn acknowledgement_rates(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<BTreeMap<String, (usize, usize)>, Error> {
        let (_, states) = self.acknowledgement_states(actor, id).await?;
        let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for s in states {
            let entry = out.entry(s.member.department.clone()).or_default();
            entry.0 += 1;
            if s.acknowledged.is_some() {
                entry.1 += 1;
            }
        }
        Ok(out)
    }

    /// Reminds, once, those who have not acknowledged a publication past
    /// its deadline; how many publications.
    pub async fn sweep_publications(&self) -> Result<usize, Error> {
        let now = self.now();
        let actor = super::notices::timer();
        let due =
            store::publications_to_remind(&mut *self.db().reader().acquire().await?, now).await?;
        let mut reminded = 0;
        for mut p in due {
            let audience = self.audience(&p.audience).await?;
            let mut tx = self.db().begin().await?;
            let done = store::acknowledgements(&mut tx, &p.id).await?;
            let late: Vec<&str> = audience
                .iter()
                .filter(|m| !done.contains_key(&m.subject))
                .map(|m| m.subject.as_str())
                .collect();
            p.reminded_at = Some(now);
            store::update_publication(&mut tx, &p).await?;
            let detail = if late.is_empty() {
                "everyone acknowledged".to_owned()
            } else {
                format!("{} not acknowledged: {}", late.len(), late.join(", "))
            };
            events::audit(
                &mut tx,
                &actor,
                "compliance.policies.remind",
                &p.resource(),
                detail,
            )
            .await?;
            tx.commit().await?;
            reminded += 1;
        }
        if reminded > 0 {
            self.mutations().committed();
        }
        Ok(reminded)
    }
}
