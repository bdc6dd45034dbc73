//! Process definitions (§3.1): deployed as versions, each validated once
//! and kept decoded.

use std::sync::Arc;

use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::time::Millis;
use procedo_proto::workflow as pb;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, Call, SOURCE};
use crate::convert::{self, definition_to_pb};
use crate::domain::definition::Definition;
use crate::domain::standard;
use crate::store::{self, StoredDefinition};

/// A deployed version of a definition.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub definition: Arc<Definition>,
    pub deployed_by: Actor,
    pub created_at: Millis,
}

impl App {
    /// Deploys `definition` as the next version of its key, unless the
    /// latest version is the same.
    pub async fn deploy_definition<M: Message + Default>(
        &self,
        call: &Call,
        definition: Definition,
        respond: impl FnOnce(&Deployed) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let deployed = self
            .deploy(&mut tx, definition, &call.actor, self.now())
            .await?;
        self.mutations().finish(tx, call, respond(&deployed)).await
    }

    /// Deploys the built-in standard process (a new version only when it
    /// changed). Replicas starting together race to deploy it; the loser
    /// finds the winner's version the same and deploys nothing.
    pub async fn deploy_standard_process(&self) -> Result<(), Error> {
        let mut tries = 0;
        loop {
            let mut tx = self.db().begin().await?;
            let deployed = self
                .deploy(
                    &mut tx,
                    standard::definition(),
                    &super::own_actor(),
                    self.now(),
                )
                .await;
            let outcome = match deployed {
                Ok(_) => tx.commit().await.map_err(Error::from),
                Err(e) => Err(e),
            };
            match outcome {
                Err(Error::Conflict(_) | Error::Contention(_)) if tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    async fn deploy(
        &self,
        tx: &mut AnyConnection,
        mut definition: Definition,
        actor: &Actor,
        now: Millis,
    ) -> Result<Deployed, Error> {
        if let Some(latest) = store::get_definition(tx, &definition.key, None).await? {
            definition.version = latest.version;
            if definition_to_pb(&definition).encode_to_vec() == latest.body {
                return self.decoded(&latest);
            }
            definition.version = latest.version + 1;
        } else {
            definition.version = 1;
        }
        let body = definition_to_pb(&definition).encode_to_vec();
        store::insert_definition(
            tx,
            &definition.key,
            definition.version,
            &definition.display_name,
            &body,
            actor,
            now,
        )
        .await
        .map_err(|e| {
            if procedo_platform::db::is_unique_violation(&e) {
                Error::Conflict(definition.resource())
            } else {
                Error::from(e)
            }
        })?;
        outbox::audit(
            tx,
            SOURCE,
            actor,
            "workflow.definitions.deploy",
            &definition.resource(),
            format!("{} steps", definition.steps.len()),
        )
        .await?;
        Ok(Deployed {
            definition: Arc::new(definition),
            deployed_by: actor.clone(),
            created_at: now,
        })
    }

    /// Version `version` of `key` (the latest when `None`).
    pub async fn deployed(&self, key: &str, version: Option<i32>) -> Result<Deployed, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let stored = store::get_definition(&mut conn, key, version)
            .await?
            .ok_or_else(|| Error::NotFound(resource(key, version)))?;
        self.decoded(&stored)
    }

    /// The latest version of every definition, by key; the page and the
    /// next page's token.
    pub async fn deployed_definitions(
        &self,
        page: &Page,
    ) -> Result<(Vec<Deployed>, String), Error> {
        let mut rows = store::list_definitions(self.db(), page).await?;
        let next = page.finish(&mut rows, |d| d.key.clone());
        let deployed = rows
            .iter()
            .map(|stored| self.decoded(stored))
            .collect::<Result<_, _>>()?;
        Ok((deployed, next))
    }

    /// A deployed definition (the latest when `version` is `None`), for the
    /// engine.
    pub(super) async fn definition(
        &self,
        conn: &mut AnyConnection,
        key: &str,
        version: Option<i32>,
    ) -> Result<Arc<Definition>, Error> {
        if let Some(v) = version
            && let Some(cached) = self.cached(key, v)
        {
            return Ok(cached);
        }
        let stored = store::get_definition(conn, key, version)
            .await?
            .ok_or_else(|| Error::NotFound(resource(key, version)))?;
        Ok(self.decoded(&stored)?.definition)
    }

    fn decoded(&self, stored: &StoredDefinition) -> Result<Deployed, Error> {
        let definition = match self.cached(&stored.key, stored.version) {
            Some(cached) => cached,
            None => {
                let key = &stored.key;
                let decoded =
                    pb::ProcessDefinition::decode(stored.body.as_slice()).map_err(|e| {
                        Error::unexpected(format!("stored definition {key} does not decode: {e}"))
                    })?;
                let mut definition = convert::draft(&decoded).validate().map_err(|problems| {
                    Error::unexpected(format!("stored definition {key} is invalid: {problems:?}"))
                })?;
                definition.version = stored.version;
                let definition = Arc::new(definition);
                if let Ok(mut cache) = self.inner.definitions.lock() {
                    cache.insert((key.clone(), stored.version), Arc::clone(&definition));
                }
                definition
            }
        };
        Ok(Deployed {
            definition,
            deployed_by: stored.deployed_by.clone(),
            created_at: stored.created_at,
        })
    }

    fn cached(&self, key: &str, version: i32) -> Option<Arc<Definition>> {
        self.inner
            .definitions
            .lock()
            .ok()?
            .get(&(key.to_owned(), version))
            .cloned()
    }
}

fn resource(key: &str, version: Option<i32>) -> String {
    match version {
        Some(v) => format!("processDefinitions/{key}/versions/{v}"),
        None => format!("processDefinitions/{key}"),
    }
}
