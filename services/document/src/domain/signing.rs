//! Signatures (§4.3): the service signs a canonical statement — document
//! number, version, content SHA-256, signer, title, department, time and
//! intent — with Ed25519. Pure: the same code checks a signature on the
//! server (`VerifyDocument`) and offline (`procedo document verify`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use procedo_platform::identity::{Actor, Role};
use procedo_platform::time::Millis;
use sha2::{Digest as _, Sha256};

/// The first line of every statement: its format and version.
pub const STATEMENT_HEADER: &str = "procedo-document-signature/v1";

/// What a signer intends by signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Approve,
    Issue,
    Accept,
}

impl Intent {
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Approve => "APPROVE",
            Intent::Issue => "ISSUE",
            Intent::Accept => "ACCEPT",
        }
    }

    pub fn parse(s: &str) -> Option<Intent> {
        [Intent::Approve, Intent::Issue, Intent::Accept]
            .into_iter()
            .find(|i| i.as_str() == s)
    }
}

/// The fields a statement holds, in the order it holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub number: String,
    /// "documents/{id}".
    pub document: String,
    pub version: i32,
    pub content_sha256: String,
    pub signer: String,
    pub name: String,
    pub title: String,
    pub department: String,
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub intent: Intent,
}

/// Line breaks in a field would forge lines of their own; they are
/// written as spaces.
fn one_line(value: &str) -> String {
    value.replace(['\n', '\r'], " ")
}

impl Statement {
    /// The exact text signed: the header, then `key: value` lines in this
    /// order, each ending in a newline.
    pub fn text(&self) -> String {
        format!(
            "{STATEMENT_HEADER}\nnumber: {}\ndocument: {}\nversion: {}\nsha256: {}\nsigner: {}\n\
             name: {}\ntitle: {}\ndepartment: {}\ntime: {}\nintent: {}\n",
            one_line(&self.number),
            one_line(&self.document),
            self.version,
            one_line(&self.content_sha256),
            one_line(&self.signer),
            one_line(&self.name),
            one_line(&self.title),
            one_line(&self.department),
            one_line(&self.time),
            self.intent.as_str(),
        )
    }

    /// Reads a statement's text back; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Statement> {
        let mut lines = text.strip_suffix('\n')?.split('\n');
        if lines.next()? != STATEMENT_HEADER {
            return None;
        }
        let mut field = |key: &str| -> Option<String> {
            lines
                .next()?
                .strip_prefix(key)?
                .strip_prefix(": ")
                .map(str::to_owned)
        };
        let statement = Statement {
            number: field("number")?,
            document: field("document")?,
            version: field("version")?.parse().ok()?,
            content_sha256: field("sha256")?,
            signer: field("signer")?,
            name: field("name")?,
            title: field("title")?,
            department: field("department")?,
            time: field("time")?,
            intent: Intent::parse(&field("intent")?)?,
        };
        lines.next().is_none().then_some(statement)
    }
}

/// A signature as the service keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRecord {
    pub document_id: String,
    pub seq: i64,
    pub version: i32,
    pub content_sha256: String,
    pub signer: Actor,
    pub intent: Intent,
    pub at: Millis,
    pub key_id: String,
    pub signature: String,
    pub statement: String,
}

impl SignatureRecord {
    pub fn resource(&self) -> String {
        format!("documents/{}/signatures/{}", self.document_id, self.seq)
    }

    pub fn claimed(&self) -> Claimed<'_> {
        Claimed {
            key_id: &self.key_id,
            signature: &self.signature,
            statement: &self.statement,
            content_sha256: &self.content_sha256,
            version: self.version,
            signer: &self.signer.subject,
        }
    }
}

/// Whether `signatures` (of one version) hold every signature `required`
/// names: a signer with the role (any, when none is named) of the
/// department (the owning one, when none is named).
pub fn requirements_met(
    required: &[crate::domain::category::SignatureRequirement],
    owning_department: &str,
    signatures: &[SignatureRecord],
) -> bool {
    required.iter().all(|r| {
        let department = if r.department.is_empty() {
            owning_department
        } else {
            &r.department
        };
        signatures.iter().any(|s| {
            s.signer.department == department
                && (r.role.is_empty()
                    || Role::parse(&r.role).is_some_and(|role| s.signer.roles.contains(&role)))
        })
    })
}

/// RFC 3339, UTC, milliseconds: the time a statement holds.
pub fn statement_time(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// The id a key is known by: the first 16 hex digits of the SHA-256 of
/// its public key.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// A public key as published: base64 of its 32 bytes.
pub fn public_key_text(key: &VerifyingKey) -> String {
    STANDARD.encode(key.as_bytes())
}

/// The base64 Ed25519 signature of `text`.
pub fn sign(key: &SigningKey, text: &str) -> String {
    STANDARD.encode(key.sign(text.as_bytes()).to_bytes())
}

/// Why a signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No published key has the signature's key id.
    UnknownKey(String),
    /// The key, the signature or the statement does not read.
    Malformed(String),
    /// The signature does not match the statement under the key.
    BadSignature,
    /// A field recorded with the signature differs from the signed one.
    FieldMismatch(&'static str),
    /// The content's SHA-256 is not the signed one.
    ContentMismatch { signed: String, actual: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::UnknownKey(id) => write!(f, "no published key has the id {id}"),
            Problem::Malformed(what) => write!(f, "{what} does not read"),
            Problem::BadSignature => {
                f.write_str("the signature does not match the signed statement: it was altered")
            }
            Problem::FieldMismatch(field) => {
                write!(
                    f,
                    "the recorded {field} is not the signed one: it was altered"
                )
            }
            Problem::ContentMismatch { signed, actual } => write!(
                f,
                "the content's SHA-256 is {actual}, the signed one {signed}: the content was altered"
            ),
        }
    }
}

/// What a signature claims, as recorded beside its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed<'a> {
    pub key_id: &'a str,
    pub signature: &'a str,
    pub statement: &'a str,
    pub content_sha256: &'a str,
    pub version: i32,
    pub signer: &'a str,
}

/// Checks one signature: its key is published, it verifies over its
/// statement, the recorded fields are the signed ones, and `actual_sha256`
/// (the content at hand) is the signed content.
pub fn verify(
    claimed: &Claimed<'_>,
    keys: &[(String, String)],
    actual_sha256: &str,
) -> Result<(), Problem> {
    let public = keys
        .iter()
        .find(|(id, _)| id == claimed.key_id)
        .map(|(_, key)| key)
        .ok_or_else(|| Problem::UnknownKey(claimed.key_id.to_owned()))?;
    let public: [u8; 32] = STANDARD
        .decode(public)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Problem::Malformed("the public key".into()))?;
    let public = VerifyingKey::from_bytes(&public)
        .map_err(|_| Problem::Malformed("the public key".into()))?;
    let signature: [u8; 64] = STANDARD
        .decode(claimed.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Problem::Malformed("the signature".into()))?;
    public
        .verify(
            claimed.statement.as_bytes(),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| Problem::BadSignature)?;
    let statement = Statement::parse(claimed.statement)
        .ok_or_else(|| Problem::Malformed("the statement".into()))?;
    if statement.content_sha256 != claimed.content_sha256 {
        return Err(Problem::FieldMismatch("content SHA-256"));
    }
    if statement.version != claimed.version {
        return Err(Problem::FieldMismatch("version"));
    }
    if statement.signer != claimed.signer {
        return Err(Problem::FieldMismatch("signer"));
    }
    if statement.content_sha256 != actual_sha256 {
        return Err(Problem::ContentMismatch {
            signed: statement.content_sha256,
            actual: actual_sha256.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement() -> Statement {
        Statement {
            number: "HT-2026-000001".into(),
            document: "documents/d".into(),
            version: 2,
            content_sha256: "ab".repeat(32),
            signer: "zhao".into(),
            name: "Zhao Min".into(),
            title: "Head of Sales".into(),
            department: "sales".into(),
            time: "2026-12-07T02:00:00.000Z".into(),
            intent: Intent::Approve,
        }
    }

    #[test]
    fn a_statement_reads_back_and_a_forged_line_cannot_enter_it() {
        let s = statement();
        assert_eq!(Statement::parse(&s.text()), Some(s.clone()));
        let mut sneaky = s;
        sneaky.title = "Head\nintent: ISSUE".into();
        let text = sneaky.text();
        assert_eq!(text.matches("\nintent: ").count(), 1);
        assert_eq!(
            Statement::parse(&text).map(|s| s.intent),
            Some(Intent::Approve)
        );
    }

    #[test]
    fn one_changed_byte_of_content_or_of_a_signed_field_fails_and_says_what() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let keys = vec![(
            key_id(&key.verifying_key()),
            public_key_text(&key.verifying_key()),
        )];
        let s = statement();
        let text = s.text();
        let signature = sign(&key, &text);
        let claimed = Claimed {
            key_id: &keys[0].0,
            signature: &signature,
            statement: &text,
            content_sha256: &s.content_sha256,
            version: 2,
            signer: "zhao",
        };
        assert_eq!(verify(&claimed, &keys, &s.content_sha256), Ok(()));
        let other = "cd".repeat(32);
        assert!(matches!(
            verify(&claimed, &keys, &other),
            Err(Problem::ContentMismatch { .. })
        ));
        let forged = text.replace("Head of Sales", "Head of Salez");
        assert_eq!(
            verify(
                &Claimed {
                    statement: &forged,
                    ..claimed.clone()
                },
                &keys,
                &s.content_sha256
            ),
            Err(Problem::BadSignature)
        );
        assert_eq!(
            verify(
                &Claimed {
                    signer: "li",
                    ..claimed.clone()
                },
                &keys,
                &s.content_sha256
            ),
            Err(Problem::FieldMismatch("signer"))
        );
        assert!(matches!(
            verify(
                &Claimed {
                    key_id: "0000",
                    ..claimed
                },
                &keys,
                &s.content_sha256
            ),
            Err(Problem::UnknownKey(_))
        ));
    }
}
