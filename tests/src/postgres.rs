//! A PostgreSQL server of a test's own, started and stopped by the test
//! (the shared one cannot be restarted under other tests' feet).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A PostgreSQL server of the test's own, in a temporary folder.
#[derive(Debug)]
pub struct OwnPostgres {
    bin: PathBuf,
    data: tempfile::TempDir,
    port: u16,
}

/// Runs a PostgreSQL program; as the `postgres` user when this is root,
/// which PostgreSQL refuses to run as.
fn pg(bin: &Path, program: &str, args: &[&str]) {
    let path = bin.join(program);
    let status = if running_as_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&path)
            .args(args)
            .status()
    } else {
        Command::new(&path).args(args).status()
    }
    .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(status.success(), "{program} {args:?} failed");
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl OwnPostgres {
    pub fn start() -> OwnPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries in /usr/lib/postgresql")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("pg_ctl").exists())
            .expect("pg_ctl");
        let data = tempfile::tempdir().expect("a folder");
        if running_as_root() {
            let owner = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(data.path())
                .status()
                .expect("chown runs");
            assert!(owner.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = data.path().to_str().expect("a UTF-8 path").to_owned();
        pg(
            &bin,
            "initdb",
            &["-D", &dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        let server = OwnPostgres { bin, data, port };
        server.up();
        server
    }

    fn dir(&self) -> String {
        self.data.path().to_str().expect("UTF-8").to_owned()
    }

    /// Starts the server (again).
    pub fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir()
        );
        let log = format!("{}/server.log", self.dir());
        pg(
            &self.bin,
            "pg_ctl",
            &["-D", &self.dir(), "-o", &options, "-l", &log, "-w", "start"],
        );
    }

    /// Stops the server, fast: connections are cut.
    pub fn down(&self) {
        pg(
            &self.bin,
            "pg_ctl",
            &["-D", &self.dir(), "-m", "fast", "-w", "stop"],
        );
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.dir(), "-m", "immediate", "stop"])
            .status();
    }
}
