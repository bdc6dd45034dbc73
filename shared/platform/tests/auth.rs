//! Verifying identity-provider tokens: RS256, ES256 and EdDSA public keys
//! from PEM files, and RSA keys from a JWKS document selected by `kid`.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use procedo_platform::auth::Verifier;
use procedo_platform::identity::{Claims, Clearance};
use tonic::Code;

const RSA_PRIVATE: &[u8] = include_bytes!("keys/rsa.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("keys/rsa.pub");
const EC_PRIVATE: &[u8] = include_bytes!("keys/ec.pem");
const EC_PUBLIC: &[u8] = include_bytes!("keys/ec.pub");
const ED_PRIVATE: &[u8] = include_bytes!("keys/ed.pem");
const ED_PUBLIC: &[u8] = include_bytes!("keys/ed.pub");
const JWKS: &[u8] = include_bytes!("keys/jwks.json");

fn claims() -> Claims {
    Claims {
        sub: "u-42".into(),
        name: "Chen Jing".into(),
        title: "Credit officer".into(),
        department: "credit".into(),
        roles: vec!["approver".into()],
        approval_level: 2,
        clearance: Clearance::Confidential,
        exp: 4_000_000_000,
        iat: 0,
        iss: Some("https://idp.example.com/realms/procedo".into()),
        aud: Some("procedo".into()),
    }
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, &claims(), key).expect("signed")
}

#[test]
fn rs256_es256_and_eddsa_tokens_verify_against_their_pem_public_keys() {
    let cases = [
        (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(RSA_PRIVATE),
            RSA_PUBLIC,
        ),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(EC_PRIVATE),
            EC_PUBLIC,
        ),
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(ED_PRIVATE),
            ED_PUBLIC,
        ),
    ];
    for (alg, key, public) in cases {
        let token = sign(alg, &key.expect("private key"), None);
        let verifier = Verifier::empty()
            .with_public_key_pem(public)
            .expect("public key");
        let actor = verifier
            .verify(&token)
            .unwrap_or_else(|e| panic!("{alg:?}: {e:?}"));
        assert_eq!(actor.subject, "u-42");
        assert_eq!(actor.approval_level, 2);
        assert_eq!(actor.clearance, Clearance::Confidential);
    }
}

#[test]
fn a_token_signed_by_another_key_of_the_same_kind_is_refused() {
    let token = sign(
        Algorithm::EdDSA,
        &EncodingKey::from_ed_pem(ED_PRIVATE).expect("key"),
        None,
    );
    let verifier = Verifier::empty()
        .with_public_key_pem(EC_PUBLIC)
        .expect("public key");
    assert_eq!(
        verifier.verify(&token).map_err(|e| e.code()).err(),
        Some(Code::Unauthenticated)
    );
}

#[test]
fn jwks_keys_are_chosen_by_kid_and_issuer_and_audience_are_enforced() {
    let key = EncodingKey::from_rsa_pem(RSA_PRIVATE).expect("key");
    let verifier = Verifier::empty()
        .with_jwks(JWKS)
        .expect("jwks")
        .with_issuer(Some("https://idp.example.com/realms/procedo".into()))
        .with_audience(Some("procedo".into()));

    assert!(
        verifier
            .verify(&sign(Algorithm::RS256, &key, Some("idp-2026")))
            .is_ok()
    );
    assert!(
        verifier
            .verify(&sign(Algorithm::RS256, &key, Some("retired-key")))
            .is_err()
    );
    let other_audience = verifier.with_audience(Some("someone-else".into()));
    let err = other_audience
        .verify(&sign(Algorithm::RS256, &key, Some("idp-2026")))
        .expect_err("wrong audience");
    assert!(err.message().contains("audience"), "{err:?}");
}

#[test]
fn an_hs256_token_is_not_accepted_by_a_public_key_verifier() {
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(RSA_PUBLIC),
        None,
    );
    let verifier = Verifier::empty()
        .with_public_key_pem(RSA_PUBLIC)
        .expect("public key");
    let err = verifier.verify(&token).expect_err("algorithm confusion");
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[test]
fn a_token_without_a_subject_or_not_yet_valid_is_refused_saying_why() {
    let key = EncodingKey::from_rsa_pem(RSA_PRIVATE).expect("key");
    let verifier = Verifier::empty()
        .with_public_key_pem(RSA_PUBLIC)
        .expect("public key");
    let now = procedo_platform::time::now().unsigned_abs() / 1000;
    let refused = |body: serde_json::Value| {
        let token = encode(&Header::new(Algorithm::RS256), &body, &key).expect("signed");
        verifier.verify(&token).expect_err("refused")
    };
    let base = serde_json::json!({"sub": "u-42", "roles": ["approver"], "exp": now + 600});
    let with = |key: &str, value: serde_json::Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };

    let nobody = refused(with("sub", serde_json::json!("")));
    let early = refused(with("nbf", serde_json::json!(now + 3600)));
    let future = refused(with("iat", serde_json::json!(now + 365 * 86_400)));

    for (status, says) in [
        (nobody, "no subject"),
        (early, "not valid yet"),
        (future, "future"),
    ] {
        assert_eq!(status.code(), Code::Unauthenticated);
        assert!(status.message().contains(says), "{status:?}");
    }
    let fine = encode(&Header::new(Algorithm::RS256), &base, &key).expect("signed");
    assert!(verifier.verify(&fine).is_ok());
}
