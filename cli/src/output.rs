//! Printing results: aligned tables for people, canonical proto3 JSON for
//! scripts (through the descriptor set, so it matches what grpcurl shows).

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// `message` (of protobuf type `full_name`) as canonical JSON.
pub fn json<M: Message>(message: &M, full_name: &str) -> anyhow::Result<String> {
    let pool = DescriptorPool::decode(procedo_proto::FILE_DESCRIPTOR_SET)?;
    let descriptor = pool
        .get_message_by_name(full_name)
        .ok_or_else(|| anyhow::anyhow!("no message {full_name} in the contracts"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())?;
    Ok(serde_json::to_string_pretty(&dynamic)?)
}

/// Prints rows under `headers`, each column as wide as its widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Prints a list response as JSON, or its `rows` as a table.
pub fn listing<M: Message>(
    format: Format,
    message: &M,
    full_name: &str,
    headers: &[&str],
    rows: impl FnOnce() -> Vec<Vec<String>>,
) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", json(message, full_name)?),
        Format::Table => table(headers, &rows()),
    }
    Ok(())
}

/// Prints `message` as JSON, or as two-column key/value rows.
pub fn record<M: Message>(
    format: Format,
    message: &M,
    full_name: &str,
    fields: Vec<(&str, String)>,
) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", json(message, full_name)?),
        Format::Table => {
            let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (key, value) in fields {
                println!("{key:<width$}  {value}");
            }
        }
    }
    Ok(())
}

/// An error as a person reads it: a gRPC status by its code, its message
/// and each field violation or failed precondition on a line of its own.
pub fn describe_error(error: &anyhow::Error) -> String {
    use tonic_types::StatusExt as _;
    let Some(status) = error.downcast_ref::<tonic::Status>() else {
        return format!("{error:#}");
    };
    let mut text = format!("{:?}: {}", status.code(), status.message());
    if let Some(bad) = status.get_details_bad_request() {
        for v in bad.field_violations {
            text.push_str(&format!("\n  {}: {}", v.field, v.description));
        }
    }
    if let Some(failed) = status.get_details_precondition_failure() {
        for v in failed.violations {
            text.push_str(&format!("\n  {}: {}", v.subject, v.description));
        }
    }
    text
}

/// A timestamp as RFC 3339, or empty.
pub fn time(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(procedo_platform::time::from_timestamp)
        .and_then(|ms| u64::try_from(ms).ok())
        .map(|ms| {
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms),
            )
            .to_string()
        })
        .unwrap_or_default()
}

/// Money as "1234.56 CNY" (two minor digits).
pub fn money(m: Option<&procedo_proto::common::Money>) -> String {
    m.map(|m| {
        let sign = if m.minor_units < 0 { "-" } else { "" };
        let abs = m.minor_units.unsigned_abs();
        format!("{sign}{}.{:02} {}", abs / 100, abs % 100, m.currency_code)
    })
    .unwrap_or_default()
}

/// Quotes a CSV field when it needs it (RFC 4180).
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// A message of protobuf type `full_name` from a YAML or JSON file in
/// proto3 JSON form (as `-o json` prints it; `.json` files are read as
/// JSON, anything else as YAML, of which JSON is a part).
pub fn read_message<M: Message + Default>(
    path: &std::path::Path,
    full_name: &str,
) -> anyhow::Result<M> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let value: serde_json::Value = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => {
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        _ => serde_yaml_ng::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
    };
    let pool = DescriptorPool::decode(procedo_proto::FILE_DESCRIPTOR_SET)?;
    let descriptor = pool
        .get_message_by_name(full_name)
        .ok_or_else(|| anyhow::anyhow!("no message {full_name} in the contracts"))?;
    let dynamic = DynamicMessage::deserialize(descriptor, value)
        .map_err(|e| anyhow::anyhow!("{}: not a {full_name}: {e}", path.display()))?;
    Ok(dynamic.transcode_to::<M>()?)
}

/// A fresh request id for a change.
pub fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `id` as a resource name of `collection` ("findings/…"), whether given
/// with its collection or without.
pub fn named(collection: &str, id: &str) -> String {
    if id.starts_with(&format!("{collection}/")) {
        id.to_owned()
    } else {
        format!("{collection}/{id}")
    }
}

/// A command's output file: standard output for `-`, else a temporary
/// file beside the target, renamed over it only by [`OutFile::finish`] —
/// so a command that fails half-way leaves an existing file as it was.
#[derive(Debug)]
pub struct OutFile {
    target: std::path::PathBuf,
    temporary: Option<std::io::BufWriter<tempfile::NamedTempFile>>,
}

impl OutFile {
    pub fn create(target: &std::path::Path) -> anyhow::Result<OutFile> {
        let temporary = if target.as_os_str() == "-" {
            None
        } else {
            let dir = target
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| std::path::Path::new("."));
            let file = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            Some(std::io::BufWriter::new(file))
        };
        Ok(OutFile {
            target: target.to_owned(),
            temporary,
        })
    }

    pub fn is_stdout(&self) -> bool {
        self.temporary.is_none()
    }

    /// Puts the file in place (flushes standard output).
    pub fn finish(self) -> anyhow::Result<()> {
        match self.temporary {
            None => std::io::Write::flush(&mut std::io::stdout())?,
            Some(buffered) => {
                let file = buffered
                    .into_inner()
                    .map_err(|e| anyhow::anyhow!("{}: {}", self.target.display(), e.error()))?;
                file.persist(&self.target)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", self.target.display()))?;
            }
        }
        Ok(())
    }
}

impl std::io::Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.temporary.as_mut() {
            Some(file) => file.write(buf),
            None => std::io::stdout().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.temporary.as_mut() {
            Some(file) => file.flush(),
            None => std::io::stdout().flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"\n"), "\"say \"\"hi\"\"\n\"");
    }

    #[test]
    fn money_prints_two_minor_digits() {
        let m = procedo_proto::common::Money {
            currency_code: "CNY".into(),
            minor_units: 123_405,
        };
        assert_eq!(money(Some(&m)), "1234.05 CNY");
    }
}
