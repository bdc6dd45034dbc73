//! Signing (§4.3): the service signs the canonical statement of a version
//! for the signer; verification checks content and signatures and says
//! what failed.

use futures::StreamExt as _;
use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::Actor;
use prost::Message;
use sha2::{Digest as _, Sha256};

use super::{App, Call, events, refused, visible};
use crate::domain::signing::{self, Intent, Problem, SignatureRecord, Statement};
use crate::store;

/// A version checked: its recorded and actual SHA-256, and each signature
/// with what (if anything) failed.
#[derive(Debug, Clone)]
pub struct Verification {
    pub version: i32,
    pub recorded_sha256: String,
    pub actual_sha256: String,
    pub checks: Vec<(SignatureRecord, Result<(), Problem>)>,
}

impl App {
    /// Signs the current version of document `id` as the caller.
    pub async fn sign<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        intent: Intent,
        respond: impl FnOnce(&SignatureRecord) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut document = visible(&mut tx, id, &call.actor).await?;
        let resource = document.resource();
        let read_version = document.version;
        etag::check(&resource, given_etag, read_version)?;
        document
            .check_signable()
            .map_err(|r| refused(&resource, r))?;
        let version = store::get_version(&mut tx, id, document.current_version)
            .await?
            .ok_or_else(|| Error::unexpected(format!("{resource} has no current version")))?;
        let signed = store::signatures(&mut tx, id, Some(version.version)).await?;
        if signed
            .iter()
            .any(|s| s.signer.subject == call.actor.subject)
        {
            return Err(Error::Precondition {
                kind: "SIGNED",
                resource: version.resource(),
                description: "you have signed this version already".into(),
            });
        }
        let now = self.now();
        let statement = Statement {
            number: document.number.clone(),
            document: resource.clone(),
            version: version.version,
            content_sha256: version.content_sha256.clone(),
            signer: call.actor.subject.clone(),
            name: call.actor.name.clone(),
            title: call.actor.title.clone(),
            department: call.actor.department.clone(),
            time: signing::statement_time(now),
            intent,
        }
        .text();
        let keys = &self.inner.keys;
        let mut record = SignatureRecord {
            document_id: document.id.clone(),
            seq: 0,
            version: version.version,
            content_sha256: version.content_sha256.clone(),
            signer: call.actor.clone(),
            intent,
            at: now,
            key_id: keys.id().to_owned(),
            signature: keys.sign(&statement),
            statement,
        };
        record.seq = store::insert_signature(&mut tx, &record).await?;
        let category = store::get_category(&mut tx, &document.category)
            .await?
            .ok_or_else(|| Error::unexpected(format!("{resource}'s category is missing")))?;
        let mut all = signed;
        all.push(record.clone());
        if signing::requirements_met(
            &category.required_signatures,
            &document.owning_department,
            &all,
        ) {
            document.mark_signed(now);
        }
        store::update_document(&mut tx, &document, read_version)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        events::document_fact(
            &mut tx,
            &call.actor,
            procedo_proto::events::document::SIGNED,
            &document,
        )
        .await?;
        events::audit(
            &mut tx,
            &call.actor,
            "document.signatures.sign",
            &record.resource(),
            format!("{} version {}", intent.as_str(), record.version),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&record)).await
    }

    /// The signatures of document `id`, oldest first.
    pub async fn signatures(&self, actor: &Actor, id: &str) -> Result<Vec<SignatureRecord>, Error> {
        let mut conn = self.db().reader().acquire().await?;
        visible(&mut conn, id, actor).await?;
        Ok(store::signatures(&mut conn, id, None).await?)
    }

    /// Every key signatures were made with: (id, public key, active,
    /// created at).
    pub async fn signing_keys(&self) -> Result<Vec<(String, String, bool, i64)>, Error> {
        Ok(store::keys(self.db()).await?)
    }

    /// Reads version `version` (the current one when `None`) of document
    /// `id` back from the store, hashing it, and checks every signature on
    /// it.
    pub async fn verify(
        &self,
        actor: &Actor,
        id: &str,
        version: Option<i32>,
    ) -> Result<Verification, Error> {
        let (stored, signatures) = {
            let mut conn = self.db().reader().acquire().await?;
            let document = visible(&mut conn, id, actor).await?;
            let wanted = version.unwrap_or(document.current_version);
            let stored = store::get_version(&mut conn, id, wanted)
                .await?
                .ok_or_else(|| Error::NotFound(format!("documents/{id}/versions/{wanted}")))?;
            let signatures = store::signatures(&mut conn, id, Some(wanted)).await?;
            (stored, signatures)
        };
        let mut content = self.inner.blobs.read(&stored.content_sha256).await?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = content.next().await {
            hasher.update(&chunk?);
        }
        let actual = hex::encode(hasher.finalize());
        let keys: Vec<(String, String)> = store::keys(self.db())
            .await?
            .into_iter()
            .map(|(id, key, _, _)| (id, key))
            .collect();
        let checks = signatures
            .into_iter()
            .map(|s| {
                let checked = signing::verify(&s.claimed(), &keys, &actual);
                (s, checked)
            })
            .collect();
        Ok(Verification {
            version: stored.version,
            recorded_sha256: stored.content_sha256,
            actual_sha256: actual,
            checks,
        })
    }
}
