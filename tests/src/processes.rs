//! Procedo's service binaries run as processes of their own, as an ops
//! team runs them: started with `PROCEDO_*` settings, killed with SIGKILL,
//! started again on the same port and database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// Where the service binaries are: `PROCEDO_BIN_DIR` (CI points it at the
/// release build), else beside this test's own build.
pub fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("PROCEDO_BIN_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // target/<profile>/deps/<test> → target/<profile>
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.to_path_buf())
        })
        .expect("a folder with the service binaries");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (cargo build --bins), or set PROCEDO_BIN_DIR",
        path.display()
    );
    path
}

/// A free port on 127.0.0.1.
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// One running service binary.
#[derive(Debug)]
pub struct ServiceProcess {
    program: PathBuf,
    pub addr: SocketAddr,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl ServiceProcess {
    /// Starts `program` listening on `addr` with `env` (beside quiet logs
    /// and quick outbox retries), and waits until it serves.
    pub async fn start(program: PathBuf, addr: SocketAddr, env: &[(&str, String)]) -> Self {
        let mut service = ServiceProcess {
            program,
            addr,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            child: None,
        };
        service.restart().await;
        service
    }

    /// Starts the process (again) and waits until it serves.
    pub async fn restart(&mut self) {
        let child = Command::new(&self.program)
            .env("PROCEDO_LISTEN", self.addr.to_string())
            .env("PROCEDO_LOG", "error")
            .env("PROCEDO_OUTBOX_RETRY_BASE", "100ms")
            .env("PROCEDO_OUTBOX_RETRY_MAX", "1s")
            .env("PROCEDO_OUTBOX_POLL", "100ms")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", self.program.display()));
        self.child = Some(child);
        self.wait_serving().await;
    }

    async fn wait_serving(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            let endpoint = format!("http://{}", self.addr);
            if let Ok(channel) = tonic::transport::Endpoint::from_shared(endpoint)
                .expect("a URI")
                .connect()
                .await
                && HealthClient::new(channel)
                    .check(HealthCheckRequest::default())
                    .await
                    .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} did not serve within 30 s", self.program.display());
    }

    /// SIGKILL: no drain, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A channel to the service (a fresh connection, so it works across
    /// restarts).
    pub fn endpoint(&self) -> tonic::transport::Endpoint {
        tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .expect("a URI")
            .connect_timeout(Duration::from_secs(2))
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
