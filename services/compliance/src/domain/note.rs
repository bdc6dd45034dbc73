//! Checkpoints as signed notes, in the C2SP formats Go's checksum
//! database, Sigstore and the transparency-dev witnesses use
//! (c2sp.org/tlog-checkpoint, c2sp.org/signed-note):
//!
//! ```text
//! <origin>\n
//! <tree size, decimal>\n
//! <root hash, standard base64>\n
//! \n
//! — <key name> <base64(key id ‖ Ed25519 signature)>\n
//! ```
//!
//! The signature covers the three body lines, final newline included. The
//! key name is the origin; the key id is the first four bytes of
//! `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`; a verifier key is published
//! as `<name>+<key id, 8 hex digits>+<base64(0x01 ‖ public key)>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use super::merkle::Hash;

/// The signature type byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;

/// The em dash and space that start a signature line.
const SIGNATURE_START: &str = "\u{2014} ";

/// A tree head: the log's origin, its size and its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note body the signature covers.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Reads a checkpoint body (extension lines after the root are
    /// allowed and ignored).
    pub fn parse(body: &str) -> Option<Checkpoint> {
        let mut lines = body.strip_suffix('\n')?.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty())?.to_owned();
        let size = lines.next()?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return None;
        }
        let size = size.parse().ok()?;
        let root = STANDARD.decode(lines.next()?).ok()?.try_into().ok()?;
        Some(Checkpoint { origin, size, root })
    }
}

/// A note verifier: a key name and an Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteKey {
    pub name: String,
    pub public: VerifyingKey,
}

impl NoteKey {
    /// The four-byte key id of `name` and `public`.
    pub fn id(&self) -> [u8; 4] {
        let mut h = Sha256::new();
        h.update(self.name.as_bytes());
        h.update([b'\n', ED25519]);
        h.update(self.public.as_bytes());
        let digest = h.finalize();
        [digest[0], digest[1], digest[2], digest[3]]
    }

    /// The key id as 8 hex digits.
    pub fn id_hex(&self) -> String {
        hex::encode(self.id())
    }

    /// The published verifier key: `name+keyid+base64(0x01 ‖ key)`.
    pub fn verifier(&self) -> String {
        let mut typed = vec![ED25519];
        typed.extend_from_slice(self.public.as_bytes());
        format!("{}+{}+{}", self.name, self.id_hex(), STANDARD.encode(typed))
    }

    /// Reads a published verifier key; checks its id matches.
    pub fn parse_verifier(text: &str) -> Option<NoteKey> {
        let mut parts = text.trim().splitn(3, '+');
        let (name, id, key) = (parts.next()?, parts.next()?, parts.next()?);
        let typed = STANDARD.decode(key).ok()?;
        let (&kind, public) = typed.split_first()?;
        if kind != ED25519 {
            return None;
        }
        let public = VerifyingKey::from_bytes(public.try_into().ok()?).ok()?;
        let key = NoteKey {
            name: name.to_owned(),
            public,
        };
        (key.id_hex() == id).then_some(key)
    }
}

/// Signs `body` (which ends in a newline) as `name`: the whole note.
pub fn sign(body: &str, name: &str, key: &SigningKey) -> String {
    let note_key = NoteKey {
        name: name.to_owned(),
        public: key.verifying_key(),
    };
    let mut signature = note_key.id().to_vec();
    signature.extend_from_slice(&key.sign(body.as_bytes()).to_bytes());
    format!(
        "{body}\n{SIGNATURE_START}{name} {}\n",
        STANDARD.encode(signature)
    )
}

/// Why a note does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("not a signed note")]
    Malformed,
    #[error("signed by no known key")]
    UnknownKey,
    #[error("the signature of key {0} does not match the text")]
    BadSignature(String),
}

/// Checks `note` against `keys`: the body, and the key that signed it.
/// A line by an unknown key is ignored; a line by a known key that does
/// not verify rejects the note.
pub fn open<'k>(note: &str, keys: &'k [NoteKey]) -> Result<(String, &'k NoteKey), NoteError> {
    let split = note.rfind("\n\n").ok_or(NoteError::Malformed)?;
    let (body, signatures) = (&note[..=split], &note[split + 2..]);
    let signatures = signatures.strip_suffix('\n').ok_or(NoteError::Malformed)?;
    let mut found = None;
    for line in signatures.split('\n') {
        let rest = line
            .strip_prefix(SIGNATURE_START)
            .ok_or(NoteError::Malformed)?;
        let (name, signature) = rest.split_once(' ').ok_or(NoteError::Malformed)?;
        let signature = STANDARD
            .decode(signature)
            .map_err(|_| NoteError::Malformed)?;
        if signature.len() < 5 {
            return Err(NoteError::Malformed);
        }
        let (id, signature) = signature.split_at(4);
        let Some(key) = keys.iter().find(|k| k.name == name && k.id() == id) else {
            continue;
        };
        let signature = ed25519_dalek::Signature::from_slice(signature)
            .map_err(|_| NoteError::BadSignature(key.id_hex()))?;
        key.public
            .verify_strict(body.as_bytes(), &signature)
            .map_err(|_| NoteError::BadSignature(key.id_hex()))?;
        found.get_or_insert(key);
    }
    let key = found.ok_or(NoteError::UnknownKey)?;
    Ok((body.to_owned(), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of c2sp.org/signed-note and Go's `note` package.
    const PETER_NEUMANN_SKEY: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

    fn peter() -> SigningKey {
        let typed = STANDARD.decode(PETER_NEUMANN_SKEY).expect("base64");
        assert_eq!(typed[0], ED25519);
        SigningKey::from_bytes(typed[1..].try_into().expect("32 bytes"))
    }

    #[test]
    fn a_note_is_signed_byte_for_byte_as_the_reference_implementation_signs_it() {
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        let note = sign(text, "PeterNeumann", &peter());
        assert_eq!(
            note,
            format!(
                "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
            )
        );
        let key = NoteKey {
            name: "PeterNeumann".into(),
            public: peter().verifying_key(),
        };
        assert_eq!(key.id_hex(), "c74f20a3");
        assert_eq!(NoteKey::parse_verifier(&key.verifier()), Some(key.clone()));
        let keys = [key];
        let (body, by) = open(&note, &keys).expect("opens");
        assert_eq!(body, text);
        assert_eq!(by.id_hex(), "c74f20a3");
    }

    #[test]
    fn a_checkpoint_opens_only_unchanged_and_by_a_known_key() {
        let key = peter();
        let checkpoint = Checkpoint {
            origin: "procedo.example/audit".into(),
            size: 42,
            root: [7; 32],
        };
        let note = sign(&checkpoint.body(), &checkpoint.origin, &key);
        let keys = [NoteKey {
            name: checkpoint.origin.clone(),
            public: key.verifying_key(),
        }];
        let (body, _) = open(&note, &keys).expect("opens");
        assert_eq!(Checkpoint::parse(&body), Some(checkpoint.clone()));
        let grown = note.replacen("\n42\n", "\n43\n", 1);
        assert!(matches!(
            open(&grown, &keys),
            Err(NoteError::BadSignature(_))
        ));
        let stranger = [NoteKey {
            name: checkpoint.origin,
            public: SigningKey::from_bytes(&[9; 32]).verifying_key(),
        }];
        assert_eq!(
            open(&note, &stranger).map(|_| ()),
            Err(NoteError::UnknownKey)
        );
        assert_eq!(
            Checkpoint::parse("origin\n007\nAAAA\n"),
            None,
            "no leading zeros"
        );
    }
}
