//! Submissions filed together (group commit). Every application takes the
//! next number of its year's ledger, and gap-free numbers need the counter
//! row held until commit, so one transaction per submission would file one
//! application per commit of the database at best. Instead, the
//! submissions that arrive while a transaction is committing wait for it
//! and are filed together in the next one: numbered consecutively, written
//! in a few statements, committed once, each caller answered with its own
//! application. Nothing waits for company: a lone submission is filed at
//! once, and a batch grows only as far as callers queue behind the commit.
//!
//! A submission that cannot be filed fails alone: an unknown type is
//! refused before anything is written, and when the database refuses a
//! batch, each of its submissions is filed again on its own. Replicas
//! each batch their own callers; the counter row serialises their batches,
//! so the ledger stays one gap-free sequence.

use std::collections::{HashMap, HashSet};
use std::sync::Weak;

use procedo_platform::error::Error;
use procedo_platform::idempotency::{self, Claimed};
use procedo_platform::outbox;
use procedo_platform::time;
use tokio::sync::{mpsc, oneshot};

use super::applications::queue_change;
use super::{App, Call, Inner};
use crate::domain::application::{Application, NewApplication};
use crate::domain::application_type::ApplicationType;
use crate::domain::ledger::LedgerNumber;
use crate::store;

/// Most submissions one transaction files.
const MAX_BATCH: usize = 128;

/// Submissions waiting to be filed, at most.
const QUEUE: usize = 4096;

/// The response kept for a submission, encoded.
pub(super) type Respond = Box<dyn Fn(&Application) -> Vec<u8> + Send + Sync>;

/// One caller's submission, waiting for its batch.
pub(super) struct Submission {
    pub call: Call,
    pub new: NewApplication,
    pub respond: Respond,
    /// The caller's span: its events carry the caller's trace.
    pub span: tracing::Span,
    pub answer: oneshot::Sender<Result<Vec<u8>, Error>>,
}

/// Starts the filer of `app`'s submissions; it ends when the app is gone.
pub(super) fn start(app: Weak<Inner>) -> mpsc::Sender<Submission> {
    let (sender, receiver) = mpsc::channel(QUEUE);
    tokio::spawn(file_as_they_come(app, receiver));
    sender
}

async fn file_as_they_come(app: Weak<Inner>, mut queue: mpsc::Receiver<Submission>) {
    let mut carried = Vec::new();
    loop {
        let mut batch: Vec<Submission> = std::mem::take(&mut carried);
        if batch.is_empty() {
            match queue.recv().await {
                Some(first) => batch.push(first),
                None => return,
            }
        }
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // A repeat of a request id already in the batch waits for the
        // next one, where it finds the first's response (or is refused, if
        // it is another request).
        let mut keys = HashSet::new();
        let (batch, later): (Vec<_>, Vec<_>) = batch.into_iter().partition(|s| {
            request_key(&s.call).is_none_or(|key| keys.insert((key.scope, key.request.id)))
        });
        carried = later;
        let Some(inner) = app.upgrade() else { return };
        App { inner }.file_batch(batch).await;
    }
}

fn request_key(call: &Call) -> Option<idempotency::Key> {
    call.request_id.clone().map(|request| idempotency::Key {
        scope: call.key(),
        request,
    })
}

/// What became of one submission of a batch.
type Outcome = Result<Vec<u8>, Error>;

impl App {
    /// Files `batch` in one transaction, or each alone when the database
    /// refuses it, and answers every caller.
    async fn file_batch(&self, mut batch: Vec<Submission>) {
        match self.file_live(&mut batch).await {
            Ok(outcomes) => answer(batch, outcomes),
            Err(e) if batch.len() == 1 => answer(batch, vec![Err(e)]),
            Err(_) => {
                for alone in batch {
                    let mut alone = vec![alone];
                    let outcomes = self
                        .file_live(&mut alone)
                        .await
                        .unwrap_or_else(|e| vec![Err(e)]);
                    answer(alone, outcomes);
                }
            }
        }
    }

    /// Files the submissions of `batch` whose callers still wait: a caller
    /// that went away (its deadline passed, it was cancelled) was told its
    /// call failed, so nothing of it may be kept — when one leaves while
    /// its batch is being written, the batch is written again without it.
    async fn file_live(&self, batch: &mut Vec<Submission>) -> Result<Vec<Outcome>, Error> {
        loop {
            batch.retain(|s| !s.answer.is_closed());
            if batch.is_empty() {
                return Ok(Vec::new());
            }
            if let Some(outcomes) = self.file_together(batch).await? {
                return Ok(outcomes);
            }
        }
    }

    /// One transaction filing `batch`: each submission's outcome; `None`
    /// when a caller went away before the commit (nothing was filed); the
    /// database's error when it refused the batch.
    async fn file_together(&self, batch: &[Submission]) -> Result<Option<Vec<Outcome>>, Error> {
        let mut tx = self.mutations().db().begin().await?;
        let now = self.now();
        let mut outcomes: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();

        let mut kinds: HashMap<&str, Option<ApplicationType>> = HashMap::new();
        for s in batch {
            if !kinds.contains_key(s.new.type_code.as_str()) {
                let kind = store::get_type(&mut tx, &s.new.type_code).await?;
                kinds.insert(&s.new.type_code, kind);
            }
        }
        for (s, outcome) in batch.iter().zip(&mut outcomes) {
            if kinds[s.new.type_code.as_str()].is_none() {
                *outcome = Some(Err(Error::invalid(
                    "type_code",
                    format!("no application type has the code {:?}", s.new.type_code),
                )));
            }
        }

        // Request ids: a repeat gets the response kept for it.
        let (claimed, keys): (Vec<usize>, Vec<_>) = batch
            .iter()
            .enumerate()
            .filter(|(i, _)| outcomes[*i].is_none())
            .filter_map(|(i, s)| request_key(&s.call).map(|key| (i, key)))
            .unzip();
        let kept = idempotency::claim_many(&mut tx, &keys).await?;
        for (i, kept) in claimed.into_iter().zip(kept) {
            match kept {
                Claimed::Fresh => {}
                Claimed::Kept(response) => outcomes[i] = Some(Ok(response)),
                Claimed::Conflict => {
                    outcomes[i] = Some(Err(idempotency::conflict(batch[i].call.scope)));
                }
            }
        }

        // Numbers for the rest, consecutive; past the year's last number
        // they are refused and given back.
        let fresh: Vec<usize> = (0..batch.len())
            .filter(|i| outcomes[*i].is_none())
            .collect();
        let year = time::year_in(now, self.inner.zone);
        let mut filed = Vec::with_capacity(fresh.len());
        let mut responses = Vec::new();
        let mut failed_claims = Vec::new();
        let mut queued = outbox::Batch::default();
        if !fresh.is_empty() {
            let count = i64::try_from(fresh.len()).unwrap_or(i64::MAX);
            let last = store::take_ledger_numbers(&mut tx, year, count).await?;
            let first = last - count + 1;
            let usable_last = last.min((first - 1).max(LedgerNumber::MAX_SEQ));
            if usable_last < last {
                store::return_ledger_numbers(&mut tx, year, usable_last).await?;
            }
            for (k, &i) in fresh.iter().enumerate() {
                let s = &batch[i];
                let seq = first + i64::try_from(k).unwrap_or(i64::MAX);
                let Some(number) = LedgerNumber::new(year, seq) else {
                    outcomes[i] = Some(Err(Error::Exhausted(format!(
                        "the intake ledger of {year} has used all {} numbers",
                        LedgerNumber::MAX_SEQ
                    ))));
                    failed_claims.extend(request_key(&s.call));
                    continue;
                };
                let kind = kinds[s.new.type_code.as_str()]
                    .as_ref()
                    .expect("submissions of unknown types were refused above");
                let calendar = self.inner.calendars.get(&kind.calendar)?;
                let (application, entry) = Application::submit(
                    uuid::Uuid::now_v7().to_string(),
                    number.to_string(),
                    s.new.clone(),
                    kind,
                    &s.call.actor,
                    now,
                    &calendar,
                );
                s.span.in_scope(|| {
                    queue_change(
                        &mut queued,
                        &s.call.actor,
                        &application,
                        &entry,
                        "intake.applications.submit",
                        Some(kind),
                    );
                });
                let response = (s.respond)(&application);
                if let Some(key) = request_key(&s.call) {
                    responses.push((key.scope, key.request.id, response.clone()));
                }
                outcomes[i] = Some(Ok(response));
                filed.push((application, entry));
            }
        }
        store::insert_applications(&mut tx, &filed).await?;
        queued.write(&mut tx).await?;
        idempotency::record_many(&mut tx, &responses).await?;
        idempotency::release(&mut tx, &failed_claims).await?;
        if batch.iter().any(|s| s.answer.is_closed()) {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        self.mutations().committed();
        Ok(Some(
            outcomes
                .into_iter()
                .map(|o| o.expect("every submission has an outcome"))
                .collect(),
        ))
    }
}

/// Tells each caller of `batch` its outcome.
fn answer(batch: Vec<Submission>, outcomes: Vec<Outcome>) {
    for (submission, outcome) in batch.into_iter().zip(outcomes) {
        // A caller that went away after the commit is told nothing; what
        // it filed stays, as when a reply is lost on the way.
        let _ = submission.answer.send(outcome);
    }
}
