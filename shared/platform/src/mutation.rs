//! The shape of every mutating RPC: replay a repeated `request_id`, or run
//! in a fresh transaction, then store the response under the request id,
//! commit, and wake the outbox relays for the events just written.
//!
//! Request ids belong to their caller: the key is the RPC and the caller's
//! subject, so one caller's id never replays another caller's response.

use std::sync::Arc;

use prost::Message;
use sqlx::{Any, Transaction};
use tokio::sync::watch;

use crate::db::Database;
use crate::error::Error;
use crate::idempotency;
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

fn key(scope: &str, actor: &Actor) -> String {
    format!("{scope}/{}", actor.subject)
}

impl Mutations {
    /// `commits`: what the service's relays wait on.
    pub fn new(db: Database, commits: Commits) -> Mutations {
        Mutations { db, commits }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Begins `scope` (the RPC) for `actor`.
    pub async fn begin<M: Message + Default>(
        &self,
        scope: &str,
        actor: &Actor,
        request_id: Option<&str>,
    ) -> Result<Begun<M>, Error> {
        let mut tx = self.db.begin().await?;
        match idempotency::claim::<M>(&mut tx, &key(scope, actor), request_id).await? {
            Some(previous) => Ok(Begun::Replay(previous)),
            None => Ok(Begun::Fresh(tx)),
        }
    }

    /// Stores the response under the request id, commits, and wakes the
    /// relays.
    pub async fn finish<M: Message>(
        &self,
        mut tx: Transaction<'static, Any>,
        scope: &str,
        actor: &Actor,
        request_id: Option<&str>,
        response: M,
    ) -> Result<M, Error> {
        idempotency::record(&mut tx, &key(scope, actor), request_id, &response).await?;
        tx.commit().await?;
        self.committed();
        Ok(response)
    }

    /// Tells the relays new events are committed.
    pub fn committed(&self) {
        self.commits.notify();
    }
}

/// Runs `$body` as a mutation of `$mutations` ([`Mutations`]) by `$actor`:
/// replays the caller's repeated request id, otherwise hands the body the
/// transaction (as `$tx`); the body evaluates to the response, and may
/// return early with an error. Evaluates to `Result<Response<M>, Status>`.
#[macro_export]
macro_rules! mutation {
    ($mutations:expr, $scope:literal, $actor:expr, $request_id:expr, |$tx:ident| $body:block) => {{
        let request_id: Option<String> = $request_id;
        match $mutations
            .begin($scope, $actor, request_id.as_deref())
            .await?
        {
            $crate::mutation::Begun::Replay(previous) => Ok(tonic::Response::new(previous)),
            $crate::mutation::Begun::Fresh(mut $tx) => {
                let response = $body;
                $mutations
                    .finish($tx, $scope, $actor, request_id.as_deref(), response)
                    .await
                    .map(tonic::Response::new)
                    .map_err(tonic::Status::from)
            }
        }
    }};
}
