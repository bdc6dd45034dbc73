//! What every client command shares: where the service is, who calls.

use procedo_platform::auth::DevSigner;
use procedo_platform::config::DEV_JWT_SECRET;
use procedo_platform::identity::Role;
use procedo_platform::telemetry::TracePropagation;
use procedo_platform::tls::TlsArgs;
use tonic::service::Interceptor;
use tonic::transport::Channel;

use crate::output::Format;

#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The service's gRPC endpoint; defaults to PROCEDO_INTAKE_ENDPOINT,
    /// PROCEDO_WORKFLOW_ENDPOINT, PROCEDO_DOCUMENT_ENDPOINT or
    /// PROCEDO_COMPLIANCE_ENDPOINT, else the
    /// `procedo dev` port.
    #[arg(long, global = true)]
    pub endpoint: Option<String>,

    /// Bearer token; when unset, a development admin token is minted (which
    /// only a server using the development secret accepts).
    #[arg(long, global = true, env = "PROCEDO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// PEM CA certificates an https:// endpoint's certificate is checked
    /// against; the system's roots when unset.
    #[arg(long, global = true, env = "PROCEDO_TLS_CA_FILE")]
    pub tls_ca_file: Option<std::path::PathBuf>,

    /// PEM certificate to present to a server that asks for one (mutual
    /// TLS), with --tls-key-file.
    #[arg(
        long,
        global = true,
        env = "PROCEDO_TLS_CERT_FILE",
        requires = "tls_key_file"
    )]
    pub tls_cert_file: Option<std::path::PathBuf>,

    /// PEM private key of --tls-cert-file.
    #[arg(
        long,
        global = true,
        env = "PROCEDO_TLS_KEY_FILE",
        requires = "tls_cert_file"
    )]
    pub tls_key_file: Option<std::path::PathBuf>,

    /// Lists: at most this many items (all of them, page by page, when
    /// unset); a list cut short says so on standard error.
    #[arg(long, global = true)]
    pub limit: Option<usize>,

    /// Output: a table for people, JSON (canonical proto3 JSON) for scripts.
    #[arg(long, short = 'o', global = true, value_enum, default_value = "table")]
    pub output: Format,
}

/// Where a service is when `--endpoint` is not given.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    pub env: &'static str,
    pub default: &'static str,
}

pub const INTAKE: Service = Service {
    env: "PROCEDO_INTAKE_ENDPOINT",
    default: "http://127.0.0.1:7101",
};

pub const WORKFLOW: Service = Service {
    env: "PROCEDO_WORKFLOW_ENDPOINT",
    default: "http://127.0.0.1:7102",
};

pub const DOCUMENT: Service = Service {
    env: "PROCEDO_DOCUMENT_ENDPOINT",
    default: "http://127.0.0.1:7103",
};

pub const COMPLIANCE: Service = Service {
    env: "PROCEDO_COMPLIANCE_ENDPOINT",
    default: "http://127.0.0.1:7104",
};

impl Connection {
    /// Where `service` is: `--endpoint`, else its variable, else the
    /// `procedo dev` port.
    pub fn endpoint_of(&self, service: Service) -> String {
        self.endpoint
            .clone()
            .or_else(|| std::env::var(service.env).ok().filter(|e| !e.is_empty()))
            .unwrap_or_else(|| service.default.to_owned())
    }

    pub async fn channel(&self, service: Service) -> anyhow::Result<Channel> {
        crate::output::set_limit(self.limit);
        let endpoint = self.endpoint_of(service);
        let tls = TlsArgs {
            tls_cert_file: self.tls_cert_file.clone(),
            tls_key_file: self.tls_key_file.clone(),
            tls_client_ca_file: None,
            tls_ca_file: self.tls_ca_file.clone(),
        };
        tls.dialer()?
            .endpoint(&endpoint)
            .map_err(|e| anyhow::anyhow!("endpoint {endpoint:?}: {e:#}"))?
            .connect()
            .await
            .map_err(|e| anyhow::Error::new(e).context(format!("cannot reach {endpoint}")))
    }

    /// Adds the bearer token and the trace context to every call.
    pub fn auth(&self) -> Auth {
        let token = self.token.clone().unwrap_or_else(|| {
            DevSigner::new(DEV_JWT_SECRET.as_bytes()).token(
                "cli-admin",
                "ops",
                &[Role::Admin],
                3600,
            )
        });
        Auth::bearer(&token)
    }
}

#[derive(Debug, Clone)]
pub struct Auth(String);

impl Auth {
    /// Sends `token` as the bearer.
    pub fn bearer(token: &str) -> Auth {
        Auth(format!("Bearer {token}"))
    }
}

impl Interceptor for Auth {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = TracePropagation.call(request)?;
        let value = self.0.parse().map_err(|_| {
            tonic::Status::invalid_argument("the token holds characters a header cannot")
        })?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}
