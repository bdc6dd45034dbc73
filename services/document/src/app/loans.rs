//! Borrowing (§4.3): requests, approvals, renewals, returns with their
//! integrity check, the overdue sweep, and loans following the calendar.

use procedo_platform::calendars::{Calendars, Recompute, Stored};
use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::{Actor, Clearance, Role};
use procedo_platform::paging::Page;
use procedo_platform::time::Millis;
use procedo_proto::events;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, Call};
use crate::domain::document::Status;
use crate::domain::loan::{self, Loan, NewLoan};
use crate::store::{self, LoanFilter};

/// Loans marked overdue per transaction.
const SWEEP_BATCH: i64 = 200;

/// How a loan is named in a request: by the document, or (a caller who
/// cannot see the document yet) by its number.
#[derive(Debug, Clone)]
pub enum Lendable {
    Document(String),
    Number(String),
}

fn loan_refused(resource: &str, r: loan::Refusal) -> Error {
    match r {
        loan::Refusal::State(t) => Error::illegal(resource, t),
        loan::Refusal::Denied(message) => Error::Denied(message),
        loan::Refusal::Unfit { field, description } => Error::invalid(field, description),
    }
}

/// The actor the loan sweep acts as.
fn sweeper() -> Actor {
    Actor {
        subject: "procedo-document".into(),
        name: "Procedo document loan timer".into(),
        title: String::new(),
        department: String::new(),
        roles: vec![Role::Service],
        approval_level: 0,
        clearance: Clearance::Secret,
    }
}

impl App {
    fn calendars(&self) -> &Calendars {
        &self.inner.calendars
    }

    /// Asks to borrow an archived document.
    pub async fn request_loan<M: Message + Default>(
        &self,
        call: &Call,
        what: Lendable,
        new: NewLoan,
        respond: impl FnOnce(&Loan) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let actor = &call.actor;
        // A borrower cleared for the level may ask by number for a document
        // they do not see yet; anyone else learns nothing of it.
        let document = match &what {
            Lendable::Document(id) => store::get_document(&mut tx, id).await?,
            Lendable::Number(number) => store::get_document_by_number(&mut tx, number).await?,
        }
        .filter(|d| d.visible_to(actor) || actor.clearance >= d.confidentiality)
        .ok_or_else(|| match &what {
            Lendable::Document(id) => Error::NotFound(format!("documents/{id}")),
            Lendable::Number(number) => {
                Error::NotFound(format!("the document numbered {number:?}"))
            }
        })?;
        if document.status != Status::Archived {
            return Err(Error::illegal(
                document.resource(),
                procedo_platform::state::IllegalTransition {
                    action: "borrow",
                    current: document.status.as_str(),
                    allowed: vec!["ARCHIVED"],
                },
            ));
        }
        let now = self.now();
        let loan = Loan::request(
            uuid::Uuid::now_v7().to_string(),
            document.id.clone(),
            document.number.clone(),
            document.owning_department.clone(),
            document.current_version,
            document.confidentiality >= Clearance::Confidential,
            new,
            actor,
            now,
        );
        store::insert_loan(&mut tx, &loan).await?;
        super::events::audit(
            &mut tx,
            actor,
            "document.loans.request",
            &loan.resource(),
            document.resource(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&loan)).await
    }

    async fn loan_for(
        &self,
        conn: &mut AnyConnection,
        id: &str,
        actor: &Actor,
    ) -> Result<Loan, Error> {
        store::get_loan(conn, id)
            .await?
            .filter(|l| l.visible_to(actor))
            .ok_or_else(|| Error::NotFound(format!("loans/{id}")))
    }

    /// Loan `id` read for a change by `call`'s caller, guarded by
    /// `given_etag`; with the version it was read at.
    async fn loan_for_change(
        &self,
        tx: &mut AnyConnection,
        id: &str,
        call: &Call,
        given_etag: &str,
    ) -> Result<(Loan, i64), Error> {
        let loan = self.loan_for(tx, id, &call.actor).await?;
        etag::check(&loan.resource(), given_etag, loan.row_version)?;
        let read = loan.row_version;
        Ok((loan, read))
    }

    /// Writes the changed `loan` (still at `read`) and its audit record.
    async fn save_loan(
        tx: &mut AnyConnection,
        loan: &Loan,
        read: i64,
        actor: &Actor,
        action: &str,
        detail: String,
    ) -> Result<(), Error> {
        let resource = loan.resource();
        store::update_loan(tx, loan, read)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        super::events::audit(tx, actor, action, &resource, detail).await?;
        Ok(())
    }

    /// Approves or rejects what loan `id` waits for.
    pub async fn decide_loan<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        approve: bool,
        comment: String,
        respond: impl FnOnce(&Loan) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let (mut loan, read) = self.loan_for_change(&mut tx, id, call, given_etag).await?;
        let calendar = self.calendars().default_calendar();
        loan.decide(&call.actor, approve, comment, &calendar, self.now())
            .map_err(|r| loan_refused(&loan.resource(), r))?;
        let status = loan.status.as_str().to_owned();
        Self::save_loan(
            &mut tx,
            &loan,
            read,
            &call.actor,
            "document.loans.decide",
            status,
        )
        .await?;
        self.mutations().finish(tx, call, respond(&loan)).await
    }

    pub async fn request_renewal<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        extra: procedo_platform::calendar::Limit,
        reason: String,
        respond: impl FnOnce(&Loan) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let (mut loan, read) = self.loan_for_change(&mut tx, id, call, given_etag).await?;
        loan.request_renewal(&call.actor, extra, &reason, self.now())
            .map_err(|r| loan_refused(&loan.resource(), r))?;
        Self::save_loan(
            &mut tx,
            &loan,
            read,
            &call.actor,
            "document.loans.renewal",
            extra.to_string(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&loan)).await
    }

    /// Takes loan `id` back; a returned copy that is not the archived
    /// version is flagged and reported to compliance.
    pub async fn return_loan<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        condition: String,
        returned_sha256: String,
        respond: impl FnOnce(&Loan) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let (mut loan, read) = self.loan_for_change(&mut tx, id, call, given_etag).await?;
        let resource = loan.resource();
        let archived = store::get_version(&mut tx, &loan.document_id, loan.version)
            .await?
            .ok_or_else(|| Error::unexpected(format!("{resource}'s version is missing")))?;
        let mismatch = loan
            .give_back(
                &call.actor,
                condition,
                returned_sha256,
                &archived.content_sha256,
                self.now(),
            )
            .map_err(|r| loan_refused(&resource, r))?;
        let detail = if mismatch {
            "integrity mismatch".into()
        } else {
            String::new()
        };
        Self::save_loan(
            &mut tx,
            &loan,
            read,
            &call.actor,
            "document.loans.return",
            detail,
        )
        .await?;
        if mismatch {
            tell_compliance(
                &mut tx,
                &call.actor,
                events::document::LOAN_INTEGRITY_MISMATCH,
                &loan,
                respond_pb(&loan, self.now()),
            )
            .await?;
        }
        self.mutations().finish(tx, call, respond(&loan)).await
    }

    pub async fn loan(&self, actor: &Actor, id: &str) -> Result<Loan, Error> {
        let mut conn = self.db().reader().acquire().await?;
        self.loan_for(&mut conn, id, actor).await
    }

    /// Newest first: all for who manages loans, else the caller's own.
    pub async fn loans(
        &self,
        actor: &Actor,
        mut filter: LoanFilter,
        page: &Page,
    ) -> Result<(Vec<Loan>, String), Error> {
        if !(actor.has(Role::Archivist) || actor.has(Role::Auditor)) {
            filter.borrower = Some(actor.subject.clone());
        }
        let mut rows = store::list_loans(
            self.db(),
            &filter,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |l| l.id.clone());
        Ok((rows, next))
    }

    /// Marks loans that ran out, once each; how many.
    pub async fn sweep_loans(&self) -> Result<usize, Error> {
        let now = self.now();
        let actor = sweeper();
        let mut tx = self.db().begin().await?;
        let mut marked = 0;
        for mut loan in store::overdue_loans(&mut tx, now, SWEEP_BATCH).await? {
            let read = loan.row_version;
            if !loan.mark_overdue(&actor, now) {
                continue;
            }
            match store::update_loan(&mut tx, &loan, read).await {
                Ok(()) => {}
                // Another replica's sweep took it.
                Err(store::StoreError::Conflict(_)) => continue,
                Err(e) => return Err(Error::store(&loan.resource(), e)),
            }
            super::events::audit(
                &mut tx,
                &actor,
                "document.loans.overdue",
                &loan.resource(),
                String::new(),
            )
            .await?;
            tell_compliance(
                &mut tx,
                &actor,
                events::document::LOAN_OVERDUE,
                &loan,
                respond_pb(&loan, now),
            )
            .await?;
            marked += 1;
        }
        tx.commit().await?;
        if marked > 0 {
            self.mutations().committed();
        }
        Ok(marked)
    }
}

fn respond_pb(loan: &Loan, now: Millis) -> Vec<u8> {
    crate::api::loan_to_pb(loan, now).encode_to_vec()
}

async fn tell_compliance(
    tx: &mut AnyConnection,
    actor: &Actor,
    event_type: &str,
    loan: &Loan,
    data: Vec<u8>,
) -> Result<(), Error> {
    super::events::to_compliance(
        tx,
        actor,
        event_type,
        &loan.resource(),
        events::document::LOAN,
        data,
    )
    .await?;
    Ok(())
}

/// Loans follow a new calendar version: each active loan's due time
/// moves, with an entry in its history.
#[tonic::async_trait]
impl Recompute for App {
    async fn recompute(
        &self,
        tx: &mut AnyConnection,
        calendar: &Stored,
        actor: &Actor,
        now: Millis,
    ) -> Result<u64, Error> {
        let mut moved = 0;
        let mut after = String::new();
        loop {
            let batch = store::active_loans(tx, &after, 500).await?;
            for mut loan in batch.iter().cloned() {
                let read = loan.row_version;
                if loan.follow_calendar(calendar, actor, now) {
                    store::update_loan(tx, &loan, read)
                        .await
                        .map_err(|e| Error::store(&loan.resource(), e))?;
                    moved += 1;
                }
            }
            match batch.last() {
                Some(last) if batch.len() == 500 => after.clone_from(&last.id),
                _ => break,
            }
        }
        Ok(moved)
    }
}
