//! The service's signing key (Ed25519, a PKCS#8 PEM file): read at start,
//! made when missing (as `procedo dev` needs), and published with every
//! key used before it.

use std::path::Path;

use ed25519_dalek::SigningKey;

use crate::domain::signing;

/// The key new signatures are made with.
#[derive(Clone)]
pub struct Keys {
    active: SigningKey,
    id: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// The key in `path`; a new one written there (readable by its owner
    /// only) when the file does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Keys> {
        let active =
            procedo_platform::keyfile::load_or_create(path, "PROCEDO_DOCUMENT_SIGNING_KEY_FILE")?;
        let id = signing::key_id(&active.verifying_key());
        Ok(Keys { active, id })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn public_text(&self) -> String {
        signing::public_key_text(&self.active.verifying_key())
    }

    pub fn sign(&self, text: &str) -> String {
        signing::sign(&self.active, text)
    }
}
