//! Services talking over mutual TLS, on certificates made for the test:
//! workflow delivers its events to intake over `https://` presenting its
//! own certificate; a caller without a certificate, or one that speaks
//! plaintext, is refused.

use std::path::PathBuf;
use std::time::Duration;

use procedo_intake::Intake;
use procedo_platform::config::Peer;
use procedo_platform::tls::{Dialer, TlsArgs};
use procedo_testkit::{Backend, TestDatabase, TestService};
use procedo_tests::eventually;
use procedo_workflow::Workflow;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, SanType,
};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// A CA and what it signed, as PEM files in a folder.
struct Pki {
    dir: tempfile::TempDir,
    ca: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("a folder");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "procedo test CA");
        let key = KeyPair::generate().expect("a key");
        let ca = params.self_signed(&key).expect("the CA");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("written");
        Pki {
            dir,
            ca: Issuer::new(params, key),
        }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A certificate for `name` (and localhost, where services are
    /// reached in the test), good to serve and to call with.
    fn leaf(&self, name: &str) -> (PathBuf, PathBuf) {
        let mut params =
            CertificateParams::new(vec![name.to_owned(), "localhost".to_owned()]).expect("params");
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &self.ca).expect("signed");
        let (cert_file, key_file) = (
            self.dir.path().join(format!("{name}.pem")),
            self.dir.path().join(format!("{name}-key.pem")),
        );
        std::fs::write(&cert_file, cert.pem()).expect("written");
        std::fs::write(&key_file, key.serialize_pem()).expect("written");
        (cert_file, key_file)
    }

    /// Mutual TLS for the service `name`.
    fn service(&self, name: &str) -> TlsArgs {
        let (cert, key) = self.leaf(name);
        TlsArgs {
            tls_cert_file: Some(cert),
            tls_key_file: Some(key),
            tls_client_ca_file: Some(self.ca_file()),
            tls_ca_file: Some(self.ca_file()),
        }
    }
}

async fn health(dialer: &Dialer, url: &str) -> Result<(), String> {
    let channel = dialer
        .endpoint(url)
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .map(|_| ())
        .map_err(|e| format!("call: {e:?}"))
}

#[tokio::test]
async fn services_deliver_over_mutual_tls_and_a_caller_without_a_certificate_is_refused() {
    let pki = Pki::new();
    let intake_db = TestDatabase::new(Backend::Sqlite, "intake");
    let intake = TestService::spawn::<Intake>(&intake_db, |c| c.tls = pki.service("intake")).await;
    let intake_url = format!("https://localhost:{}", intake.addr.port());

    // Workflow keeps the company's calendars and sends them to its peers
    // as soon as it starts: here, to intake, over mutual TLS.
    let workflow_db = TestDatabase::new(Backend::Sqlite, "workflow");
    let workflow = TestService::spawn::<Workflow>(&workflow_db, |c| {
        c.tls = pki.service("workflow");
        c.outbox.peers = vec![Peer {
            name: "intake".into(),
            url: intake_url.clone(),
        }];
    })
    .await;
    let db = workflow.db.clone();
    eventually("workflow's events delivered to intake over mutual TLS", || {
        let db = db.clone();
        async move {
            let (pending,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM outbox WHERE destination = 'intake' AND status <> 'delivered'",
            )
            .fetch_one(db.reader())
            .await
            .expect("the outbox");
            let (all,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE destination = 'intake'")
                    .fetch_one(db.reader())
                    .await
                    .expect("the outbox");
            (all > 0 && pending == 0).then_some(())
        }
    })
    .await;

    // A caller that trusts the CA and presents a certificate it signed is
    // served; one that presents none is refused, and so is plaintext.
    let with_certificate = pki.service("crm").dialer().expect("a dialer");
    health(&with_certificate, &intake_url)
        .await
        .expect("a caller with a certificate is served");
    let without = Dialer::new(Some(&pki.ca_file()), None).expect("a dialer");
    let refused = health(&without, &intake_url).await;
    let refused = refused.expect_err("no client certificate, yet served");
    assert!(refused.contains("CertificateRequired"), "{refused}");
    let plaintext = health(
        &without,
        &format!("http://127.0.0.1:{}", intake.addr.port()),
    )
    .await;
    assert!(plaintext.is_err(), "plaintext to a TLS server, yet served");
    // And a server whose certificate the caller's CA did not sign is not
    // trusted.
    let other = Pki::new();
    let stranger = Dialer::new(Some(&other.ca_file()), None).expect("a dialer");
    let untrusted = health(&stranger, &intake_url).await;
    let untrusted = untrusted.expect_err("trusted a server certificate from another CA");
    assert!(untrusted.contains("InvalidCertificate"), "{untrusted}");
    drop(workflow);
}
