//! The service's signing key (Ed25519, a PKCS#8 PEM file): read at start,
//! made when missing (as `procedo dev` needs), and published with every
//! key used before it.

use std::path::Path;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};

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
        let active = if path.exists() {
            SigningKey::read_pkcs8_pem_file(path).map_err(|e| {
                anyhow::anyhow!(
                    "PROCEDO_DOCUMENT_SIGNING_KEY_FILE {}: not an Ed25519 PKCS#8 PEM key: {e}",
                    path.display()
                )
            })?
        } else {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed)
                .map_err(|e| anyhow::anyhow!("no randomness for a signing key: {e}"))?;
            let key = SigningKey::from_bytes(&seed);
            let pem = key
                .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_private(path, pem.as_bytes())?;
            tracing::info!(path = %path.display(), "made a document signing key");
            key
        };
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

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
