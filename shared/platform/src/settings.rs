//! Where a service's settings come from, each layer over the one before:
//! the built-in defaults, an optional configuration file (TOML,
//! `--config` or `PROCEDO_CONFIG_FILE`), secrets read from files
//! (`PROCEDO_JWT_SECRET_FILE` for `PROCEDO_JWT_SECRET`, and so for every
//! secret setting, as container platforms mount them), environment
//! variables, and flags last.
//!
//! The file's keys are the flags' names, with `-` or `_`:
//!
//! ```toml
//! listen = "0.0.0.0:7101"
//! database_url = "postgres://procedo@db/procedo"
//! peer = ["workflow=http://workflow:7102"]
//! shutdown-grace = "20s"
//! ```
//!
//! Both layers become the flags' defaults, so clap's own precedence (flag,
//! then variable, then default) puts them where they belong.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Arg, Command};

/// The variable naming the configuration file.
pub const CONFIG_FILE_ENV: &str = "PROCEDO_CONFIG_FILE";

/// `command` with the configuration file and the secrets files of the
/// process (its `args` and environment) as its defaults.
pub fn layered(command: Command, args: &[OsString]) -> anyhow::Result<Command> {
    let mut defaults = BTreeMap::new();
    if let Some(path) = config_file(args) {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("the configuration file {}", path.display()))?;
        defaults.extend(from_file(&command, &path, &text)?);
    }
    defaults.extend(secret_files(&command, |name| std::env::var_os(name))?);
    Ok(with_defaults(command, defaults))
}

/// Every environment variable `command` reads: its settings', the
/// `<VARIABLE>_FILE` of each secret one, and the configuration file's.
pub fn variables(command: &Command) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::from([CONFIG_FILE_ENV.to_owned()]);
    for arg in command.get_arguments() {
        let Some(name) = arg.get_env().and_then(|e| e.to_str()) else {
            continue;
        };
        if arg.is_hide_env_values_set() {
            names.insert(format!("{name}_FILE"));
        }
        names.insert(name.to_owned());
    }
    names
}

/// The configuration file's path: `--config PATH` or `--config=PATH`
/// before a bare `--`, else the variable.
fn config_file(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter().skip(1).take_while(|a| *a != "--");
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy();
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from)
}

/// The settings the file gives, by argument id; a key that is no setting,
/// or a value of the wrong shape, is named with the file.
fn from_file(
    command: &Command,
    path: &Path,
    text: &str,
) -> anyhow::Result<BTreeMap<clap::Id, Vec<String>>> {
    let at = path.display();
    let table: toml::Table = toml::from_str(text).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
    let mut settings = BTreeMap::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(flag.as_str()) && flag != "config")
            .ok_or_else(|| {
                anyhow::anyhow!("{at}: {key:?} is not a setting of this service (see --help)")
            })?;
        let values = match value {
            toml::Value::Array(items) => items
                .into_iter()
                .map(|item| scalar(&key, item))
                .collect::<Result<Vec<_>, _>>(),
            other => scalar(&key, other).map(|v| vec![v]),
        }
        .map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
        settings.insert(arg.get_id().clone(), values);
    }
    Ok(settings)
}

fn scalar(key: &str, value: toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!(
            "{key:?} is a {}; a setting is a string, a number, a boolean or a list of them",
            other.type_str()
        )),
    }
}

/// The secret settings (those whose values `--help` hides) given as files:
/// `<VARIABLE>_FILE` holds the value, its trailing line break ignored.
fn secret_files(
    command: &Command,
    var: impl Fn(&str) -> Option<OsString>,
) -> anyhow::Result<BTreeMap<clap::Id, Vec<String>>> {
    let mut secrets = BTreeMap::new();
    for arg in command
        .get_arguments()
        .filter(|a| a.is_hide_env_values_set())
    {
        let Some(name) = arg.get_env().and_then(|e| e.to_str()) else {
            continue;
        };
        let file_var = format!("{name}_FILE");
        let Some(path) = var(&file_var) else {
            continue;
        };
        anyhow::ensure!(
            var(name).is_none(),
            "{name} and {file_var} are both set: set one"
        );
        let path = PathBuf::from(path);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{file_var} {}", path.display()))?;
        let secret = text.trim_end_matches(['\n', '\r']);
        anyhow::ensure!(
            !secret.is_empty(),
            "{file_var} {}: the file is empty",
            path.display()
        );
        secrets.insert(arg.get_id().clone(), vec![secret.to_owned()]);
    }
    Ok(secrets)
}

fn with_defaults(mut command: Command, defaults: BTreeMap<clap::Id, Vec<String>>) -> Command {
    for (id, values) in defaults {
        // Read once at start-up and kept for the process's life, as clap
        // keeps its defaults.
        let values: Vec<&'static str> = values
            .into_iter()
            .map(|v| &*Box::leak(v.into_boxed_str()))
            .collect();
        command = command.mut_arg(id, |arg: Arg| {
            let secret = arg.is_hide_env_values_set();
            arg.default_values(values).hide_default_value(secret)
        });
    }
    command
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, FromArgMatches as _, Parser};

    use super::*;

    #[derive(Debug, Parser)]
    struct Settings {
        #[arg(long, env = "TEST_SETTINGS_LISTEN", default_value = "127.0.0.1:1")]
        listen: String,
        #[arg(long, env = "TEST_SETTINGS_SECRET", hide_env_values = true)]
        secret: Option<String>,
        #[arg(long = "peer", env = "TEST_SETTINGS_PEERS", value_delimiter = ',')]
        peers: Vec<String>,
        #[arg(long, default_value_t = 16)]
        max_connections: u32,
    }

    fn parse(command: Command, args: &[&str]) -> Result<Settings, clap::Error> {
        let matches = command.try_get_matches_from(args)?;
        Settings::from_arg_matches(&matches)
    }

    #[test]
    fn the_file_sets_what_flags_and_variables_leave_unset() {
        let file = r#"
            listen = "0.0.0.0:7101"
            max_connections = 4
            peer = ["a=http://a:1", "b=http://b:2"]
        "#;
        let defaults = from_file(&Settings::command(), Path::new("x.toml"), file).expect("read");
        let command = with_defaults(Settings::command(), defaults.clone());
        let settings = parse(command, &["t"]).expect("parsed");
        assert_eq!(settings.listen, "0.0.0.0:7101");
        assert_eq!(settings.max_connections, 4);
        assert_eq!(settings.peers, ["a=http://a:1", "b=http://b:2"]);

        let command = with_defaults(Settings::command(), defaults);
        let settings = parse(command, &["t", "--listen", "10.0.0.1:9"]).expect("parsed");
        assert_eq!(settings.listen, "10.0.0.1:9", "a flag beats the file");
    }

    #[test]
    fn a_key_that_is_no_setting_or_of_the_wrong_shape_is_named() {
        let command = Settings::command();
        let unknown = from_file(&command, Path::new("x.toml"), "databse_url = \"x\"")
            .expect_err("unknown key");
        assert!(unknown.to_string().contains("\"databse_url\""), "{unknown}");
        assert!(unknown.to_string().contains("x.toml"), "{unknown}");
        let table =
            from_file(&command, Path::new("x.toml"), "[listen]\nport = 1").expect_err("a table");
        assert!(
            table.to_string().contains("\"listen\" is a table"),
            "{table}"
        );
        let broken = from_file(&command, Path::new("x.toml"), "listen = ").expect_err("TOML");
        assert!(broken.to_string().starts_with("x.toml: "), "{broken}");
    }

    #[test]
    fn a_secret_comes_from_its_file_without_the_line_break_and_stays_hidden() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cr3t-value\n").expect("written");
        let env = |name: &str| {
            (name == "TEST_SETTINGS_SECRET_FILE").then(|| path.clone().into_os_string())
        };
        let defaults = secret_files(&Settings::command(), env).expect("read");
        let mut command = with_defaults(Settings::command(), defaults);
        let help = command.render_help().to_string();
        assert!(!help.contains("s3cr3t-value"), "{help}");
        let settings = parse(command, &["t"]).expect("parsed");
        assert_eq!(settings.secret.as_deref(), Some("s3cr3t-value"));
    }

    #[test]
    fn a_secret_set_twice_or_in_an_empty_file_is_refused() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("secret");
        std::fs::write(&path, "\n").expect("written");
        let both = |name: &str| match name {
            "TEST_SETTINGS_SECRET_FILE" => Some(path.clone().into_os_string()),
            "TEST_SETTINGS_SECRET" => Some("x".into()),
            _ => None,
        };
        let twice = secret_files(&Settings::command(), both).expect_err("both");
        assert!(twice.to_string().contains("both set"), "{twice}");
        let file_only = |name: &str| {
            (name == "TEST_SETTINGS_SECRET_FILE").then(|| path.clone().into_os_string())
        };
        let empty = secret_files(&Settings::command(), file_only).expect_err("empty");
        assert!(empty.to_string().contains("empty"), "{empty}");
    }

    #[test]
    fn the_config_flag_is_found_before_parsing() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            config_file(&args(&["svc", "--config", "a.toml"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            config_file(&args(&["svc", "--listen", "x", "--config=b.toml"])),
            Some(PathBuf::from("b.toml"))
        );
    }
}
