//! The shape of every mutating RPC: replay a repeated `request_id`, or run
//! in a fresh transaction, then store the response under the request id,
//! commit, and wake the outbox relays for the events just written.
//!
//! Request ids belong to their caller: the key is the RPC and the caller's
//! subject, so one caller's id never replays another caller's response.

use std::sync::Arc;

use prost::Message;
use sqlx::{Any, Transaction};
use tokio::sync::Notify;
use tonic::{Response, Status};

use crate::auth::Actor;
use crate::db::Database;
use crate::{error, idempotency};

/// A mutation either replays the response stored under its request id, or
/// runs in a fresh transaction.
#[derive(Debug)]
pub enum Begun<M> {
    Replay(M),
    Fresh(Transaction<'static, Any>),
}

/// Begins and finishes mutations against one service's database.
#[derive(Debug, Clone)]
pub struct Mutations {
    db: Database,
    wake: Vec<Arc<Notify>>,
}

fn key(scope: &str, actor: &Actor) -> String {
    format!("{scope}/{}", actor.subject)
}

impl Mutations {
    /// `wake`: the relays to notify after each commit.
    pub fn new(db: Database, wake: Vec<Arc<Notify>>) -> Mutations {
        Mutations { db, wake }
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
    ) -> Result<Begun<M>, Status> {
        let mut tx = self.db.begin().await.map_err(|e| error::unexpected(&e))?;
        match idempotency::claim::<M>(&mut tx, &key(scope, actor), request_id)
            .await
            .map_err(|e| error::unexpected(&e))?
        {
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
    ) -> Result<Response<M>, Status> {
        idempotency::record(&mut tx, &key(scope, actor), request_id, &response)
            .await
            .map_err(|e| error::unexpected(&e))?;
        tx.commit().await.map_err(|e| error::unexpected(&e))?;
        self.wake_relays();
        Ok(Response::new(response))
    }

    /// Tells the relays new events are committed.
    pub fn wake_relays(&self) {
        for relay in &self.wake {
            relay.notify_one();
        }
    }
}

/// Runs `$body` as a mutation of `$mutations` ([`Mutations`]) by `$actor`:
/// replays the caller's repeated request id, otherwise hands the body the
/// transaction (as `$tx`); the body evaluates to the response, and may
/// return early with a `Status`.
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
            }
        }
    }};
}
