//! Checking a downloaded file against its signature bundle with the
//! published keys, away from the service (`procedo document verify`): the
//! same checks `VerifyDocument` makes, on the client's copy.

use procedo_proto::document as pb;
use sha2::{Digest as _, Sha256};

use crate::domain::signing::{self, Claimed, Problem};

/// Each signature of `bundle` on the content whose SHA-256 is
/// `content_sha256`, checked against `keys`: its name and what failed.
pub fn verify(
    content_sha256: &str,
    bundle: &[pb::Signature],
    keys: &[pb::SigningKey],
) -> Vec<(String, Result<(), Problem>)> {
    let keys: Vec<(String, String)> = keys
        .iter()
        .map(|k| (k.key_id.clone(), k.public_key.clone()))
        .collect();
    bundle
        .iter()
        .map(|s| {
            let claimed = Claimed {
                key_id: &s.key_id,
                signature: &s.signature,
                statement: &s.statement,
                content_sha256: &s.content_sha256,
                version: s.version,
                signer: s.signer.as_ref().map_or("", |a| a.subject.as_str()),
            };
            (
                s.name.clone(),
                signing::verify(&claimed, &keys, content_sha256),
            )
        })
        .collect()
}

/// The SHA-256 of `content`, lower-case hex.
pub fn sha256(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}
