//! Starting Procedo services for tests: through the platform's runner, as
//! the binaries start them, on `127.0.0.1:0`, against a fresh database
//! each, with tokens for any role.
//!
//! Every test of a service's behaviour runs on both backends through
//! [`backend_tests!`]: once on a SQLite temp file, once on a fresh
//! PostgreSQL schema. The PostgreSQL half is an ignored test unless asked
//! for, so a run's summary says what did not run; asked for without
//! `PROCEDO_TEST_POSTGRES_URL`, or against a server that cannot be reached,
//! it fails.

pub mod calendar;
pub mod fuzz;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use clap::Parser as _;
use procedo_platform::auth::{DevSigner, Verifier};
use procedo_platform::config::DEV_JWT_SECRET;
pub use procedo_platform::db::Backend;
use procedo_platform::db::{Database, DbOptions};
use procedo_platform::identity::Role;
use procedo_platform::server;
use procedo_platform::service::{self, Config, Service};
use procedo_platform::shutdown::{self, Trigger};
use tonic::transport::Channel;

/// The variable that switches the PostgreSQL half of the suite on.
pub const POSTGRES_URL_VAR: &str = "PROCEDO_TEST_POSTGRES_URL";

/// The PostgreSQL server the suite uses, when switched on.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
}

/// A database of its own for one test, and a data folder of its own
/// (SQLite files, document content); removed when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    options: DbOptions,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh SQLite file or PostgreSQL schema for `service`.
    pub fn new(backend: Backend, service: &str) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                TestDatabase {
                    options: DbOptions::sqlite_file(dir.path(), service),
                    dir,
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let url = postgres_url().unwrap_or_else(|| {
                    panic!("{POSTGRES_URL_VAR} must be set for PostgreSQL tests")
                });
                TestDatabase::postgres(&url, service)
            }
        }
    }

    /// A fresh schema for `service` on the PostgreSQL server at `url`.
    pub fn postgres(url: &str, service: &str) -> TestDatabase {
        let schema = format!("test_{service}_{}", uuid::Uuid::now_v7().simple());
        TestDatabase {
            options: DbOptions {
                url: url.to_owned(),
                schema: schema.clone(),
                max_connections: 8,
                acquire_timeout: procedo_platform::db::DEFAULT_ACQUIRE_TIMEOUT,
            },
            dir: tempfile::tempdir().expect("a temp dir"),
            postgres: Some((url.to_owned(), schema)),
        }
    }

    pub fn options(&self) -> &DbOptions {
        &self.options
    }

    /// The data folder the service starts with.
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((url, schema)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on;
        // a thread with its own runtime removes the schema.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            if let Err(e) = runtime.block_on(procedo_platform::db::drop_schema(&url, &schema)) {
                eprintln!("could not drop the test schema {schema}: {e}");
            }
        });
        let _ = cleanup.join();
    }
}

/// Mints tokens that the servers started here accept.
#[derive(Debug, Clone)]
pub struct Tokens {
    signer: DevSigner,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            signer: DevSigner::new(DEV_JWT_SECRET.as_bytes()),
        }
    }
}

impl Tokens {
    /// The verifier matching these tokens.
    pub fn verifier() -> Verifier {
        Verifier::hs256(DEV_JWT_SECRET.as_bytes())
    }

    /// A token for a person of department "ops" holding `role`.
    pub fn token(&self, role: Role) -> String {
        self.signer
            .token(&format!("{role}-user"), "ops", &[role], 3600)
    }

    /// A token for `subject` of `department` holding `roles`.
    pub fn token_for(&self, subject: &str, department: &str, roles: &[Role]) -> String {
        self.signer.token(subject, department, roles, 3600)
    }

    /// A token for a named person with a title and an approval level.
    pub fn person(
        &self,
        subject: &str,
        department: &str,
        roles: &[Role],
        title: &str,
        approval_level: i32,
    ) -> String {
        self.sign(
            subject,
            department,
            roles,
            title,
            approval_level,
            procedo_platform::identity::Clearance::Internal,
        )
    }

    /// A token for `subject` of `department` holding `roles`, cleared to
    /// `clearance`.
    pub fn cleared(
        &self,
        subject: &str,
        department: &str,
        roles: &[Role],
        clearance: procedo_platform::identity::Clearance,
    ) -> String {
        self.sign(subject, department, roles, "", 0, clearance)
    }

    fn sign(
        &self,
        subject: &str,
        department: &str,
        roles: &[Role],
        title: &str,
        approval_level: i32,
        clearance: procedo_platform::identity::Clearance,
    ) -> String {
        let now = procedo_platform::time::now().max(0).unsigned_abs() / 1000;
        let claims = procedo_platform::identity::Claims {
            sub: subject.to_owned(),
            name: subject.to_owned(),
            title: title.to_owned(),
            department: department.to_owned(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            approval_level,
            clearance,
            exp: now + 3600,
            iat: now,
            iss: None,
            aud: None,
        };
        self.signer.sign(&claims).expect("an HMAC signature")
    }
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Debug, Clone)]
pub struct Bearer(pub Option<String>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = &self.0 {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| tonic::Status::internal("token is not ASCII"))?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }
}

/// The settings a test service starts with: the defaults every binary
/// has, the test's own database, and quick outbox retries.
pub fn test_config<A: clap::Args>(database: &TestDatabase) -> Config<A> {
    let options = database.options();
    Config::try_parse_from([
        "procedo-test",
        "--database-url",
        &options.url,
        "--database-schema",
        &options.schema,
        "--data-dir",
        &database.data_dir().display().to_string(),
        "--outbox-retry-base",
        "50ms",
        "--outbox-retry-max",
        "200ms",
        "--outbox-poll",
        "50ms",
        "--outbox-delivery-timeout",
        "2s",
    ])
    .expect("the test settings parse")
}

/// A service running on `127.0.0.1`, started through the platform's runner.
#[derive(Debug)]
pub struct TestService {
    pub addr: SocketAddr,
    pub channel: Channel,
    /// The service's own database handle, for tests that hold its locks
    /// or look at what it stored.
    pub db: Database,
    trigger: Option<Trigger>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestService {
    /// Starts service `S` on a free port against `database`, with
    /// [`test_config`] changed by `configure`; returns once it accepts
    /// connections.
    pub async fn spawn<S: Service>(
        database: &TestDatabase,
        configure: impl FnOnce(&mut Config<S::Args>),
    ) -> TestService {
        let listener = server::bind("127.0.0.1:0".parse().expect("an address"))
            .await
            .expect("a free port");
        TestService::start_on::<S>(database, listener, configure).await
    }

    /// Like [`TestService::spawn`], on a listener bound beforehand (to know
    /// the address before the service starts, or to reuse a port).
    pub async fn start_on<S: Service>(
        database: &TestDatabase,
        listener: tokio::net::TcpListener,
        configure: impl FnOnce(&mut Config<S::Args>),
    ) -> TestService {
        let mut config = test_config::<S::Args>(database);
        configure(&mut config);
        // A service serving TLS is reached as its peers reach it: by name,
        // presenting its own certificate.
        let tls = config.tls.serves_tls().then(|| config.tls.clone());
        let started = service::start::<S>(config, listener)
            .await
            .unwrap_or_else(|e| panic!("{} does not start: {e:#}", S::NAME));
        let addr = started.local_addr().expect("a bound address");
        let db = started.db().clone();
        let (trigger, stop) = shutdown::channel();
        let task = tokio::spawn(started.serve(stop.wait()));
        let endpoint = match &tls {
            Some(tls) => tls
                .dialer()
                .and_then(|d| d.endpoint(&format!("https://localhost:{}", addr.port())))
                .expect("a TLS endpoint"),
            None => Channel::from_shared(format!("http://{addr}")).expect("a URI"),
        };
        let channel = endpoint
            .connect()
            .await
            .expect("the server accepts connections");
        TestService {
            addr,
            channel,
            db,
            trigger: Some(trigger),
            task: Some(task),
        }
    }

    /// Triggers shutdown and waits until the service has drained and
    /// stopped.
    pub async fn stop(&mut self) {
        if let Some(trigger) = self.trigger.take() {
            trigger.fire();
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }
}

/// Runs each named `async fn name(backend: Backend)` as two tests,
/// `sqlite::name` and `postgres::name`. The PostgreSQL half is ignored by
/// default, so a run without PostgreSQL reports it as not run instead of
/// passed; running ignored tests (`--run-ignored all` with nextest,
/// `-- --include-ignored` with cargo test) without
/// `PROCEDO_TEST_POSTGRES_URL`, or with an unreachable server, fails.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set PROCEDO_TEST_POSTGRES_URL and run ignored tests"]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// One RPC called with a default request, for role matrices.
pub type Call<C> =
    Box<dyn Fn(C) -> Pin<Box<dyn Future<Output = Result<(), tonic::Status>> + Send>>>;

/// A [`Call`] of `$method` with `<$request>::default()` on a client of type
/// `$client`.
#[macro_export]
macro_rules! rpc {
    ($client:ty, $method:ident, $request:ty) => {
        Box::new(|mut client: $client| {
            Box::pin(async move { client.$method(<$request>::default()).await.map(|_| ()) })
                as ::std::pin::Pin<
                    Box<dyn ::std::future::Future<Output = Result<(), ::tonic::Status>> + Send>,
                >
        }) as $crate::Call<$client>
    };
}

/// Calls every RPC of `matrix` as every role and lists where the role gate
/// answered wrong: a role the RPC admits (or admin) was refused, or one it
/// does not admit got past the gate.
pub async fn role_matrix_violations<C>(
    matrix: Vec<(&'static str, Vec<Role>, Call<C>)>,
    client: impl Fn(Role) -> C,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (rpc, allowed, call) in matrix {
        for role in Role::ALL {
            let admitted = role == Role::Admin || allowed.contains(&role);
            let outcome = call(client(role)).await;
            let gated = matches!(&outcome, Err(s) if s.code() == tonic::Code::PermissionDenied
                && s.message().starts_with("this call needs"));
            if admitted == gated {
                wrong.push(format!("{rpc} as {role}: {outcome:?}"));
            }
        }
    }
    wrong
}
