//! Printing results: aligned tables for people, canonical proto3 JSON for
//! scripts (through the descriptor set, so it matches what grpcurl shows).

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// `println!` that ends the program quietly once the reader of standard
/// output has gone (`procedo … | head -1`), as Unix tools do.
#[macro_export]
macro_rules! out {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}

/// Writes one line to standard output; see [`out!`].
pub fn write_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(line)
        .and_then(|()| stdout.write_all(b"\n"));
    if let Err(e) = written {
        exit_on_closed_output(&e);
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// Ends the program quietly when `e` says standard output's reader has
/// gone: there is no one left to tell.
pub fn exit_on_closed_output(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
}

/// `message` (of protobuf type `full_name`) as canonical JSON, on one
/// line.
pub fn json<M: Message>(message: &M, full_name: &str) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&dynamic(message, full_name)?)?)
}

/// The contracts' message `full_name`, from the descriptor set decoded
/// once (a `watch` prints every entry through it).
fn descriptor(full_name: &str) -> anyhow::Result<MessageDescriptor> {
    static POOL: std::sync::OnceLock<DescriptorPool> = std::sync::OnceLock::new();
    let pool = match POOL.get() {
        Some(pool) => pool,
        None => {
            let decoded = DescriptorPool::decode(procedo_proto::FILE_DESCRIPTOR_SET)?;
            POOL.get_or_init(|| decoded)
        }
    };
    pool.get_message_by_name(full_name)
        .ok_or_else(|| anyhow::anyhow!("no message {full_name} in the contracts"))
}

/// The one repeated message field of a list response (`…Response`): its
/// items.
fn list_field(descriptor: &MessageDescriptor, full_name: &str) -> Option<FieldDescriptor> {
    if !full_name.ends_with("Response") {
        return None;
    }
    let mut lists = descriptor
        .fields()
        .filter(|f| f.is_list() && matches!(f.kind(), Kind::Message(_)));
    match (lists.next(), lists.next()) {
        (Some(items), None) => Some(items),
        _ => None,
    }
}

fn dynamic<M: Message>(message: &M, full_name: &str) -> anyhow::Result<DynamicMessage> {
    Ok(DynamicMessage::decode(
        descriptor(full_name)?,
        message.encode_to_vec().as_slice(),
    )?)
}

/// A list response (`…Response`) as JSON lines: each item of its one
/// repeated message field on a line of its own (what `jq` reads item by
/// item); anything else as one line.
pub fn json_lines<M: Message>(message: &M, full_name: &str) -> anyhow::Result<Vec<String>> {
    use prost_reflect::{ReflectMessage as _, Value};
    let dynamic = dynamic(message, full_name)?;
    let Some(items) = list_field(&dynamic.descriptor(), full_name) else {
        return Ok(vec![serde_json::to_string(&dynamic)?]);
    };
    let value = dynamic.get_field(&items);
    value
        .as_list()
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_message)
        .map(|item| Ok(serde_json::to_string(item)?))
        .collect()
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
        out!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// The command's `--limit`, set once as it connects
/// ([`crate::client::Connection::channel`]).
static LIMIT: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();

/// How many items the last list cut at `--limit` showed, if one was.
static CUT_AT: std::sync::Mutex<Option<usize>> = std::sync::Mutex::new(None);

pub fn set_limit(limit: Option<usize>) {
    let _ = LIMIT.set(limit);
}

/// Reads a list RPC page by page with `page(page_token, page_size)`, which
/// answers the page's items and the next token: every item, or the first
/// `--limit` ones (a list cut short is said once the command ends:
/// [`say_if_cut`]).
pub async fn list_all<T, Fut>(mut page: impl FnMut(String, i32) -> Fut) -> anyhow::Result<Vec<T>>
where
    Fut: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    const MAX_PAGE: usize = 500;
    let limit = LIMIT.get().copied().flatten();
    let mut items = Vec::new();
    let mut token = String::new();
    loop {
        let wanted = limit.map_or(MAX_PAGE, |l| {
            l.saturating_sub(items.len()).clamp(1, MAX_PAGE)
        });
        let (got, next) = page(token, i32::try_from(wanted).unwrap_or(500)).await?;
        items.extend(got);
        if let Some(limit) = limit.filter(|l| items.len() >= *l) {
            if items.len() > limit || !next.is_empty() {
                items.truncate(limit);
                *CUT_AT
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(limit);
            }
            return Ok(items);
        }
        if next.is_empty() {
            return Ok(items);
        }
        token = next;
    }
}

/// Every item of list RPC `$rpc` called on `$client` with `$request` (its
/// page fields set page by page), from the response's `$items`: see
/// [`list_all`].
#[macro_export]
macro_rules! list_all {
    ($client:expr, $rpc:ident, $request:expr, $items:ident) => {
        $crate::output::list_all(|page_token, page_size| {
            let mut client = $client.clone();
            let mut request = $request.clone();
            request.page_size = page_size;
            request.page_token = page_token;
            async move {
                let page = client.$rpc(request).await?.into_inner();
                Ok((page.$items, page.next_page_token))
            }
        })
    };
}

/// Says on standard error, after the output, when a list stopped at
/// `--limit` with more to come.
pub fn say_if_cut() {
    if let Some(shown) = *CUT_AT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        eprintln!(
            "(stopped at --limit {shown}: more follow; raise --limit or leave it out for all)"
        );
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
        Format::Json => {
            for line in json_lines(message, full_name)? {
                out!("{line}");
            }
        }
        Format::Table => table(headers, &rows()),
    }
    Ok(())
}

/// Prints `message` as JSON, or each of its fields as a key/value row
/// (nested values as JSON): for the resources shown whole.
pub fn show<M: Message>(format: Format, message: &M, full_name: &str) -> anyhow::Result<()> {
    match format {
        Format::Json => out!("{}", json(message, full_name)?),
        Format::Table => {
            let value = serde_json::to_value(dynamic(message, full_name)?)?;
            let fields: Vec<(String, String)> = value
                .as_object()
                .into_iter()
                .flatten()
                .map(|(key, value)| {
                    let text = match value {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect();
            let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (key, value) in fields {
                out!("{key:<width$}  {value}");
            }
        }
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
        Format::Json => out!("{}", json(message, full_name)?),
        Format::Table => {
            let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (key, value) in fields {
                out!("{key:<width$}  {value}");
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

/// An amount as `--amount` takes it everywhere, in major units with up
/// to two decimals: "5000.5" → 500050 minor units.
/// It is every `--amount`'s value parser.
pub fn parse_amount(s: &str) -> Result<i64, String> {
    let (units, cents) = s.split_once('.').unwrap_or((s, "0"));
    if cents.len() > 2 {
        return Err(format!("{s:?} has more than two decimals"));
    }
    let not_a_number = |_| format!("{s:?} is not a number");
    let units: i64 = units.parse().map_err(not_a_number)?;
    let cents: i64 = format!("{cents:0<2}").parse().map_err(not_a_number)?;
    units
        .checked_mul(100)
        .and_then(|u| {
            u.checked_add(if units < 0 || s.starts_with('-') {
                -cents
            } else {
                cents
            })
        })
        .ok_or_else(|| format!("{s:?} is too large"))
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
    let descriptor = descriptor(full_name)?;
    if let Some(list) = as_list_response(&descriptor, full_name, &text) {
        let dynamic = DynamicMessage::deserialize(descriptor, list)
            .map_err(|e| anyhow::anyhow!("{}: not a {full_name}: {e}", path.display()))?;
        return Ok(dynamic.transcode_to::<M>()?);
    }
    let value: serde_json::Value = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => {
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        _ => serde_yaml_ng::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
    };
    let dynamic = DynamicMessage::deserialize(descriptor, value)
        .map_err(|e| anyhow::anyhow!("{}: not a {full_name}: {e}", path.display()))?;
    Ok(dynamic.transcode_to::<M>()?)
}

/// A list response (`…Response`) saved from `-o json` — its items, one
/// JSON object a line — as the response's JSON; `None` for anything else
/// (a response saved whole, YAML), which is read as it is.
fn as_list_response(
    descriptor: &MessageDescriptor,
    full_name: &str,
    text: &str,
) -> Option<serde_json::Value> {
    let items = list_field(descriptor, full_name)?;
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .ok()?;
    // A response saved whole is one object holding the list itself.
    let whole =
        |v: &serde_json::Value| v.get(items.json_name()).is_some() || v.get(items.name()).is_some();
    if lines.iter().any(|l| !l.is_object()) || (lines.len() == 1 && whole(&lines[0])) {
        return None;
    }
    Some(serde_json::json!({ items.json_name(): lines }))
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
    fn a_list_printed_one_item_a_line_reads_back_as_its_response() {
        use procedo_proto::document::ListSigningKeysResponse;
        let dir = tempfile::tempdir().expect("a folder");
        let keys = ListSigningKeysResponse {
            keys: vec![
                procedo_proto::document::SigningKey {
                    key_id: "k1".into(),
                    ..Default::default()
                },
                procedo_proto::document::SigningKey {
                    key_id: "k2".into(),
                    ..Default::default()
                },
            ],
        };
        let full_name = "procedo.document.v1.ListSigningKeysResponse";
        let lines = json_lines(&keys, full_name).expect("JSON lines");
        assert_eq!(lines.len(), 2);
        let path = dir.path().join("keys.json");
        std::fs::write(&path, lines.join("\n")).expect("written");
        let read: ListSigningKeysResponse = read_message(&path, full_name).expect("read back");
        assert_eq!(read, keys);
        // Saved whole, as earlier versions printed it, it still reads.
        std::fs::write(&path, json(&keys, full_name).expect("JSON")).expect("written");
        let read: ListSigningKeysResponse = read_message(&path, full_name).expect("read back");
        assert_eq!(read, keys);
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
