//! Bearer JWTs become an [`Actor`]; each RPC says which [`Role`]s it allows.
//!
//! Verification keys: an HS256 shared secret for local use, or the public
//! keys of an identity provider (RS256, ES256, EdDSA) from a PEM file or a
//! JWKS document such as Keycloak publishes. The [`AuthInterceptor`]
//! authenticates every call of the services it wraps and leaves the actor in
//! the request's extensions; health and reflection are not wrapped.

use std::fmt;
use std::str::FromStr as _;
use std::sync::Arc;

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    jwk::JwkSet,
};
use tonic::{Request, Status};

use crate::identity::{Actor, Claims, Clearance, Role};

/// The authenticated actor of a request wrapped by [`AuthInterceptor`].
pub fn actor<T>(request: &Request<T>) -> Result<&Actor, Status> {
    request
        .extensions()
        .get::<Actor>()
        .ok_or_else(|| Status::unauthenticated("no authenticated caller"))
}

/// Authenticates the request and checks its actor holds one of `allowed`.
/// The request's `authorization` header as it came, for calls made to
/// other services on the caller's behalf.
pub fn bearer<T>(request: &Request<T>) -> Option<String> {
    request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub fn authorize<T>(request: &Request<T>, allowed: &[Role]) -> Result<Actor, Status> {
    let actor = actor(request)?;
    actor
        .require(allowed)
        .map_err(|missing| Status::permission_denied(missing.to_string()))?;
    Ok(actor.clone())
}

#[derive(Clone)]
struct VerifyKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// Checks bearer tokens against the configured keys.
#[derive(Clone)]
pub struct Verifier {
    keys: Arc<Vec<VerifyKey>>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys, and above all the shared secret, never reach a log line.
        f.debug_struct("Verifier")
            .field("keys", &self.keys.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl Verifier {
    /// A verifier that accepts HS256 tokens signed with `secret`.
    pub fn hs256(secret: &[u8]) -> Verifier {
        Verifier::from_keys(vec![VerifyKey {
            kid: None,
            key: DecodingKey::from_secret(secret),
            algorithms: vec![Algorithm::HS256],
        }])
    }

    /// A verifier with no keys yet, accepting nothing.
    pub fn empty() -> Verifier {
        Verifier::from_keys(Vec::new())
    }

    fn from_keys(keys: Vec<VerifyKey>) -> Verifier {
        Verifier {
            keys: Arc::new(keys),
            issuer: None,
            audience: None,
        }
    }

    /// Adds the public key in a PEM file (RSA, EC P-256 or Ed25519).
    pub fn with_public_key_pem(self, pem: &[u8]) -> anyhow::Result<Verifier> {
        let key = if let Ok(k) = DecodingKey::from_rsa_pem(pem) {
            VerifyKey {
                kid: None,
                key: k,
                algorithms: vec![Algorithm::RS256, Algorithm::RS384, Algorithm::RS512],
            }
        } else if let Ok(k) = DecodingKey::from_ec_pem(pem) {
            VerifyKey {
                kid: None,
                key: k,
                algorithms: vec![Algorithm::ES256, Algorithm::ES384],
            }
        } else if let Ok(k) = DecodingKey::from_ed_pem(pem) {
            VerifyKey {
                kid: None,
                key: k,
                algorithms: vec![Algorithm::EdDSA],
            }
        } else {
            anyhow::bail!("not an RSA, EC or Ed25519 public key in PEM form");
        };
        Ok(self.add(key))
    }

    /// Adds every signing key of a JWKS document.
    pub fn with_jwks(self, json: &[u8]) -> anyhow::Result<Verifier> {
        let set: JwkSet = serde_json::from_slice(json)?;
        let mut verifier = self;
        for jwk in &set.keys {
            let key = DecodingKey::from_jwk(jwk)?;
            let algorithms = match jwk.common.key_algorithm {
                // Key algorithm names (RS256, ES256, EdDSA…) are the JWS names.
                Some(alg) => vec![
                    Algorithm::from_str(&format!("{alg:?}"))
                        .map_err(|_| anyhow::anyhow!("unsupported JWKS key algorithm {alg:?}"))?,
                ],
                None => match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => vec![Algorithm::RS256],
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => {
                        vec![Algorithm::ES256]
                    }
                    jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_) => {
                        vec![Algorithm::EdDSA]
                    }
                    jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_) => vec![Algorithm::HS256],
                    _ => anyhow::bail!("unsupported JWKS key type"),
                },
            };
            verifier = verifier.add(VerifyKey {
                kid: jwk.common.key_id.clone(),
                key,
                algorithms,
            });
        }
        anyhow::ensure!(!verifier.keys.is_empty(), "the JWKS document holds no keys");
        Ok(verifier)
    }

    fn add(self, key: VerifyKey) -> Verifier {
        let mut keys = Vec::clone(&self.keys);
        keys.push(key);
        Verifier {
            keys: Arc::new(keys),
            ..self
        }
    }

    /// Requires the `iss` claim to equal `issuer`.
    pub fn with_issuer(mut self, issuer: Option<String>) -> Verifier {
        self.issuer = issuer;
        self
    }

    /// Requires the `aud` claim to contain `audience`.
    pub fn with_audience(mut self, audience: Option<String>) -> Verifier {
        self.audience = audience;
        self
    }

    /// The actor a token stands for, or UNAUTHENTICATED saying why not.
    pub fn verify(&self, token: &str) -> Result<Actor, Status> {
        let header = decode_header(token)
            .map_err(|_| Status::unauthenticated("the bearer token is not a JWT"))?;
        let candidates = self.keys.iter().filter(|k| {
            k.algorithms.contains(&header.alg)
                && match (&header.kid, &k.kid) {
                    (Some(wanted), Some(have)) => wanted == have,
                    _ => true,
                }
        });
        let mut last = Status::unauthenticated(format!(
            "no verification key accepts tokens signed with {:?}",
            header.alg
        ));
        for key in candidates {
            let mut validation = Validation::new(header.alg);
            validation.leeway = LEEWAY_SECS;
            validation.validate_nbf = true;
            match &self.issuer {
                Some(iss) => validation.set_issuer(&[iss]),
                None => validation.iss = None,
            }
            match &self.audience {
                Some(aud) => validation.set_audience(&[aud]),
                None => validation.validate_aud = false,
            }
            match decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => return checked(data.claims).map(Actor::from_claims),
                Err(e) => last = Status::unauthenticated(token_error(&e)),
            }
        }
        Err(last)
    }
}

/// How far clocks may disagree when times in a token are checked.
const LEEWAY_SECS: u64 = 30;

/// What the signature cannot vouch for: a subject to hold to account, and
/// an issue time that has come.
fn checked(claims: Claims) -> Result<Claims, Status> {
    if claims.sub.trim().is_empty() {
        return Err(Status::unauthenticated(
            "the bearer token names no subject (sub)",
        ));
    }
    let now = crate::time::now().max(0).unsigned_abs() / 1000;
    if claims.iat > now + LEEWAY_SECS {
        return Err(Status::unauthenticated(
            "the bearer token was issued in the future (iat)",
        ));
    }
    Ok(claims)
}

/// The authenticated caller, whatever roles they hold: for calls open to
/// anyone who may call at all.
pub fn authenticated<T>(request: &Request<T>) -> Result<Actor, Status> {
    actor(request).cloned()
}

fn token_error(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "the bearer token has expired".into(),
        ErrorKind::ImmatureSignature => "the bearer token is not valid yet (nbf)".into(),
        ErrorKind::InvalidSignature => "the bearer token's signature is not valid".into(),
        ErrorKind::InvalidIssuer => "the bearer token's issuer is not accepted".into(),
        ErrorKind::InvalidAudience => "the bearer token's audience is not accepted".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the bearer token lacks the {c} claim"),
        _ => "the bearer token is not valid".into(),
    }
}

/// Mints HS256 tokens; for `procedo dev`, `procedo token` and tests.
#[derive(Clone)]
pub struct DevSigner {
    key: EncodingKey,
}

impl fmt::Debug for DevSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DevSigner(..)")
    }
}

impl DevSigner {
    pub fn new(secret: &[u8]) -> DevSigner {
        DevSigner {
            key: EncodingKey::from_secret(secret),
        }
    }

    /// A token for `claims`.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(encode(&Header::new(Algorithm::HS256), claims, &self.key)?)
    }

    /// A token valid for `ttl_secs` for a person holding `roles`.
    pub fn token(&self, subject: &str, department: &str, roles: &[Role], ttl_secs: u64) -> String {
        let now = crate::time::now().max(0).unsigned_abs() / 1000;
        let claims = Claims {
            sub: subject.to_owned(),
            name: subject.to_owned(),
            title: String::new(),
            department: department.to_owned(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            approval_level: 0,
            clearance: Clearance::Internal,
            exp: now + ttl_secs,
            iat: now,
            iss: None,
            aud: None,
        };
        // Encoding claims with an HMAC key cannot fail.
        self.sign(&claims).unwrap_or_default()
    }
}

/// How a service proves itself to its peers: a token issued by the
/// identity provider, or (local use) tokens it mints with the shared HS256
/// secret.
#[derive(Clone)]
pub enum ServiceCredentials {
    Token(String),
    Minted { signer: DevSigner, subject: String },
}

impl fmt::Debug for ServiceCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceCredentials::Token(_) => f.write_str("ServiceCredentials::Token(..)"),
            ServiceCredentials::Minted { subject, .. } => {
                write!(f, "ServiceCredentials::Minted({subject})")
            }
        }
    }
}

impl ServiceCredentials {
    /// The `authorization` header value for the next call.
    pub fn bearer(&self) -> String {
        match self {
            ServiceCredentials::Token(token) => format!("Bearer {token}"),
            ServiceCredentials::Minted { signer, subject } => {
                format!(
                    "Bearer {}",
                    signer.token(subject, "procedo", &[Role::Service], 300)
                )
            }
        }
    }
}

/// Adds the service's credentials to every call (the trace context is the
/// connection's: [`crate::outgoing`]).
#[derive(Debug, Clone)]
pub struct ServiceAuth(pub ServiceCredentials);

impl tonic::service::Interceptor for ServiceAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let value =
            self.0.bearer().parse().map_err(|_| {
                Status::internal("the service token holds characters a header cannot")
            })?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}

/// The verifier in use, replaced while calls are served when the key
/// files change (keys rotated without a restart).
#[derive(Debug, Clone)]
pub struct Keys(Arc<std::sync::RwLock<Verifier>>);

impl Keys {
    pub fn new(verifier: Verifier) -> Keys {
        Keys(Arc::new(std::sync::RwLock::new(verifier)))
    }

    /// Calls from now on are verified with `verifier`.
    pub fn replace(&self, verifier: Verifier) {
        // A poisoned lock only means a verification panicked; the verifier
        // itself is whole.
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = verifier;
    }

    pub fn verify(&self, token: &str) -> Result<Actor, Status> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .verify(token)
    }
}

/// Authenticates every call of the service it wraps.
#[derive(Debug, Clone)]
pub struct AuthInterceptor {
    keys: Keys,
}

impl AuthInterceptor {
    /// Verifies with `keys`, as they are when each call comes.
    pub fn new(keys: Keys) -> AuthInterceptor {
        AuthInterceptor { keys }
    }
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .ok_or_else(|| Status::unauthenticated("missing authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(|| Status::unauthenticated("authorization must be: Bearer <token>"))?;
        let actor = self.keys.verify(token.trim())?;
        tracing::Span::current().record("enduser.id", actor.subject.as_str());
        request.extensions_mut().insert(actor);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dev_token_verifies_into_its_actor() {
        let signer = DevSigner::new(b"secret");
        let token = signer.token("alice", "sales", &[Role::IntakeClerk], 60);
        let actor = Verifier::hs256(b"secret").verify(&token).expect("valid");
        assert_eq!(actor.subject, "alice");
        assert_eq!(actor.department, "sales");
        assert!(actor.has(Role::IntakeClerk));
        assert!(!actor.has(Role::Auditor));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = DevSigner::new(b"other").token("mallory", "x", &[Role::Admin], 60);
        let err = Verifier::hs256(b"secret")
            .verify(&token)
            .expect_err("refused");
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn an_expired_token_is_refused_saying_so() {
        let signer = DevSigner::new(b"secret");
        let mut claims = Claims {
            sub: "bob".into(),
            name: String::new(),
            title: String::new(),
            department: String::new(),
            roles: vec![],
            approval_level: 0,
            clearance: Clearance::Public,
            exp: 1,
            iat: 0,
            iss: None,
            aud: None,
        };
        let token = signer.sign(&claims).expect("signed");
        let err = Verifier::hs256(b"secret")
            .verify(&token)
            .expect_err("expired");
        assert!(err.message().contains("expired"));
        claims.exp = u64::MAX / 2;
        assert!(
            Verifier::hs256(b"secret")
                .verify(&signer.sign(&claims).expect("signed"))
                .is_ok()
        );
    }
}
