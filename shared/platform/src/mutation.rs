//! The shape of every mutation: replay a repeated `request_id`, or run in a
//! fresh transaction, then store the response under the request id, commit,
//! and wake the outbox relays for the events just written. A service's
//! application layer runs each use case as
//!
//! ```text
//! let mut tx = procedo_platform::begin!(mutations, &call);  // or return the earlier response
//! … the change, its history, its audit record and its events, in `tx` …
//! mutations.finish(tx, &call, respond(&changed)).await
//! ```
//!
//! Request ids belong to their caller: the key is the RPC and the caller's
//! subject, so one caller's id never replays another caller's response.

use std::sync::Arc;

use prost::Message;
use sqlx::{Any, Transaction};
use tokio::sync::watch;

use crate::db::Database;
use crate::error::Error;
use crate::idempotency::{self, RequestId};
use crate::identity::Actor;

/// A mutation either replays the response stored under its request id, or
/// runs in a fresh transaction.
#[derive(Debug)]
pub enum Begun<M> {
    Replay(M),
    Fresh(Transaction<'static, Any>),
}

/// Tells a service's outbox relays that new events are committed, so they
/// deliver at once instead of at their next poll. Every relay subscribes;
/// a commit made while a relay is busy is seen when it next waits.
#[derive(Debug, Clone)]
pub struct Commits(Arc<watch::Sender<u64>>);

impl Default for Commits {
    fn default() -> Self {
        Commits(Arc::new(watch::channel(0).0))
    }
}

impl Commits {
    /// Marks that events were committed.
    pub fn notify(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every later [`Commits::notify`].
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// Begins and finishes mutations against one service's database.
#[derive(Debug, Clone)]
pub struct Mutations {
    db: Database,
    commits: Commits,
}

/// One mutation: the use case, who makes it, and the request id its
/// response is kept under (per caller: the key is the use case and the
/// caller's subject).
#[derive(Debug, Clone)]
pub struct Call {
    /// The RPC, e.g. "SubmitApplication".
    pub scope: &'static str,
    pub actor: Actor,
    pub request_id: Option<RequestId>,
    /// The caller's `authorization` header, for calls made to other
    /// services on their behalf (which then see what the caller may see).
    pub bearer: Option<String>,
}

impl Call {
    pub fn new(scope: &'static str, actor: Actor, request_id: Option<RequestId>) -> Call {
        Call {
            scope,
            actor,
            request_id,
            bearer: None,
        }
    }

    /// The call carrying the caller's `authorization` header.
    pub fn on_behalf(mut self, bearer: Option<String>) -> Call {
        self.bearer = bearer;
        self
    }

    /// What its request id is kept under: the use case and the caller.
    pub fn key(&self) -> String {
        format!("{}/{}", self.scope, self.actor.subject)
    }
}

impl Mutations {
    /// `commits`: what the service's relays wait on.
    pub fn new(db: Database, commits: Commits) -> Mutations {
        Mutations { db, commits }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Begins `call`: its earlier response, or a fresh transaction.
    pub async fn begin<M: Message + Default>(&self, call: &Call) -> Result<Begun<M>, Error> {
        let mut tx = self.db.begin().await?;
        let request_id = call.request_id.as_ref();
        match idempotency::claim::<M>(&mut tx, &call.key(), call.scope, request_id).await? {
            Some(previous) => Ok(Begun::Replay(previous)),
            None => Ok(Begun::Fresh(tx)),
        }
    }

    /// Stores the response under the request id, commits, and wakes the
    /// relays.
    pub async fn finish<M: Message>(
        &self,
        mut tx: Transaction<'static, Any>,
        call: &Call,
        response: M,
    ) -> Result<M, Error> {
        idempotency::record(&mut tx, &call.key(), call.request_id.as_ref(), &response).await?;
        tx.commit().await?;
        self.committed();
        Ok(response)
    }

    /// Tells the relays new events are committed.
    pub fn committed(&self) {
        self.commits.notify();
    }
}

/// Begins `$call` on `$mutations` ([`Mutations::begin`]) inside a function
/// returning `Result<M, Error>`: evaluates to the fresh transaction, or
/// returns the response kept for the call's repeated request id.
#[macro_export]
macro_rules! begin {
    ($mutations:expr, $call:expr) => {
        match $mutations.begin($call).await? {
            $crate::mutation::Begun::Fresh(tx) => tx,
            $crate::mutation::Begun::Replay(response) => return Ok(response),
        }
    };
}
