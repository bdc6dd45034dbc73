//! A service's Ed25519 signing key in a PKCS#8 PEM file: read at start,
//! made when missing (as `procedo dev` needs), written readable by its
//! owner only. The document service signs documents with one, compliance
//! its audit log's checkpoints.

use std::path::Path;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};

/// The key in `path`; a new one written there when the file does not
/// exist. `setting` names the configuration the path came from, for
/// errors.
pub fn load_or_create(path: &Path, setting: &str) -> anyhow::Result<SigningKey> {
    if path.exists() {
        return SigningKey::read_pkcs8_pem_file(path).map_err(|e| {
            anyhow::anyhow!(
                "{setting} {}: not an Ed25519 PKCS#8 PEM key: {e}",
                path.display()
            )
        });
    }
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
    tracing::info!(path = %path.display(), "made a signing key ({setting})");
    Ok(key)
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("keys/signing.pem");
        let made = super::load_or_create(&path, "TEST_KEY").expect("made");
        let read = super::load_or_create(&path, "TEST_KEY").expect("read");
        assert_eq!(made.to_bytes(), read.to_bytes());
        std::fs::write(&path, "not a key").expect("written");
        let e = super::load_or_create(&path, "TEST_KEY").expect_err("not a key");
        assert!(e.to_string().starts_with("TEST_KEY "), "{e}");
    }
}
