//! Transport security. A server with a certificate (`PROCEDO_TLS_CERT_FILE`
//! and `PROCEDO_TLS_KEY_FILE`) speaks only TLS; with
//! `PROCEDO_TLS_CLIENT_CA_FILE` it also requires every caller to present a
//! certificate that CA signed (mutual TLS between services). Outgoing
//! calls follow their URL: `https://` is TLS, checked against
//! `PROCEDO_TLS_CA_FILE` or else the system's roots, presenting the
//! service's own certificate when it has one; `http://` is plaintext.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};

/// A service's TLS settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsArgs {
    /// PEM certificate chain the server presents (and presents to its
    /// peers when they ask for one); with PROCEDO_TLS_KEY_FILE, the server
    /// speaks only TLS.
    #[arg(long, env = "PROCEDO_TLS_CERT_FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,

    /// PEM private key of PROCEDO_TLS_CERT_FILE.
    #[arg(long, env = "PROCEDO_TLS_KEY_FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,

    /// PEM CA certificates: callers must present a certificate one of them
    /// signed (mutual TLS). Needs PROCEDO_TLS_CERT_FILE.
    #[arg(long, env = "PROCEDO_TLS_CLIENT_CA_FILE", requires = "tls_cert_file")]
    pub tls_client_ca_file: Option<PathBuf>,

    /// PEM CA certificates that https:// peers' certificates are checked
    /// against; the system's roots when unset.
    #[arg(long, env = "PROCEDO_TLS_CA_FILE")]
    pub tls_ca_file: Option<PathBuf>,
}

impl TlsArgs {
    /// Whether the server speaks TLS.
    pub fn serves_tls(&self) -> bool {
        self.tls_cert_file.is_some()
    }

    /// The server's TLS, when it has a certificate.
    pub fn server(&self) -> anyhow::Result<Option<ServerTlsConfig>> {
        let Some(identity) = self.identity()? else {
            return Ok(None);
        };
        let mut config = ServerTlsConfig::new().identity(identity);
        if let Some(path) = &self.tls_client_ca_file {
            config = config.client_ca_root(certificate(path, "PROCEDO_TLS_CLIENT_CA_FILE")?);
        }
        Ok(Some(config))
    }

    /// How this service calls others.
    pub fn dialer(&self) -> anyhow::Result<Dialer> {
        Dialer::new(self.tls_ca_file.as_deref(), self.identity()?)
    }

    fn identity(&self) -> anyhow::Result<Option<Identity>> {
        let (Some(cert), Some(key)) = (&self.tls_cert_file, &self.tls_key_file) else {
            return Ok(None);
        };
        let read = |path: &Path, setting: &str| {
            std::fs::read(path).with_context(|| format!("{setting} {}", path.display()))
        };
        Ok(Some(Identity::from_pem(
            read(cert, "PROCEDO_TLS_CERT_FILE")?,
            read(key, "PROCEDO_TLS_KEY_FILE")?,
        )))
    }
}

fn certificate(path: &Path, setting: &str) -> anyhow::Result<Certificate> {
    let pem = std::fs::read(path).with_context(|| format!("{setting} {}", path.display()))?;
    anyhow::ensure!(
        String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----"),
        "{setting} {}: no PEM certificate in it",
        path.display()
    );
    Ok(Certificate::from_pem(pem))
}

/// Makes the endpoints of outgoing calls: TLS for `https://` URLs.
#[derive(Debug, Clone)]
pub struct Dialer {
    tls: ClientTlsConfig,
    /// Plaintext peers are worth a warning when the service itself
    /// serves TLS.
    warn_plaintext: bool,
}

impl Dialer {
    /// Checks servers against the CA certificates in `ca_file` (the
    /// system's roots when `None`), presenting `identity` when asked.
    pub fn new(ca_file: Option<&Path>, identity: Option<Identity>) -> anyhow::Result<Dialer> {
        let mut tls = match ca_file {
            Some(path) => {
                ClientTlsConfig::new().ca_certificate(certificate(path, "PROCEDO_TLS_CA_FILE")?)
            }
            None => ClientTlsConfig::new().with_native_roots(),
        };
        let warn_plaintext = identity.is_some();
        if let Some(identity) = identity {
            tls = tls.identity(identity);
        }
        Ok(Dialer {
            tls,
            warn_plaintext,
        })
    }

    /// The endpoint at `url`, TLS when it is `https://`; small calls are
    /// sent at once (`TCP_NODELAY`).
    pub fn endpoint(&self, url: &str) -> anyhow::Result<Endpoint> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|e| anyhow::anyhow!("{url:?} is not a URL: {e}"))?
            .tcp_nodelay(true);
        if is_tls(url) {
            endpoint
                .tls_config(self.tls.clone())
                .map_err(|e| anyhow::anyhow!("TLS for {url}: {e}"))
        } else {
            if self.warn_plaintext {
                tracing::warn!(
                    %url,
                    "calls to {url} go in plaintext (http://) while this service serves TLS"
                );
            }
            Ok(endpoint)
        }
    }

    /// A lazy, traced connection to `url` whose calls and connection
    /// attempts take at most `timeout`: a peer that is down fails the
    /// calls that need it, not the start-up. `what` names the URL's
    /// setting in errors.
    pub fn connect_lazy(
        &self,
        url: &str,
        timeout: std::time::Duration,
        what: &str,
    ) -> anyhow::Result<crate::outgoing::Outgoing> {
        let endpoint = self
            .endpoint(url)
            .map_err(|e| anyhow::anyhow!("{what}: {e:#}"))?
            .connect_timeout(timeout)
            .timeout(timeout);
        Ok(crate::outgoing::traced(&endpoint))
    }
}

/// Whether `url` asks for TLS.
pub fn is_tls(url: &str) -> bool {
    url.trim_start()
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}
