//! An audit log entry and its canonical form: the bytes its leaf hash is
//! taken over, the entry's JSON in RFC 8785 (JSON Canonicalization Scheme)
//! form, so a verifier in any language recomputes them from the entry.
//!
//! The canonical entry is one JSON object with exactly these members, in
//! this (code point) order, and no whitespace:
//!
//! | member | JSON type | what |
//! |---|---|---|
//! | `action` | string | what was done, e.g. `intake.applications.review` |
//! | `actor` | object | who: `department`, `name`, `subject` (strings, in that order) |
//! | `detail` | string | the outcome summary |
//! | `logged_at_ms` | integer | when the log appended it (ms since the Unix epoch, UTC) |
//! | `resource` | string | the resource acted on, e.g. `applications/0192…` |
//! | `seq` | integer | its position in the log, from 0 (the leaf index) |
//! | `source` | string | the service that did it, e.g. `procedo.intake` |
//! | `source_event_id` | string | the event id it arrived as (unique) |
//! | `source_seq` | integer | its position among its source's events |
//! | `source_time_ms` | integer | when its source committed it (ms since the epoch) |
//! | `trace_id` | string | the trace it ran in (32 hex digits), or empty |
//!
//! Strings are escaped as RFC 8785 (and ECMAScript's `JSON.stringify`)
//! do: `"` and `\` with a backslash, U+0008/9/A/C/D as `\b \t \n \f \r`,
//! other characters below U+0020 as `\u00xx` (lower-case hex), everything
//! else as itself in UTF-8. Integers are written in decimal; all are below
//! 2⁵³, so every JSON implementation reads them exactly.

use std::fmt::Write as _;

/// Who did it, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntryActor {
    pub subject: String,
    pub name: String,
    pub department: String,
}

/// One audit record in the log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub seq: u64,
    pub source: String,
    pub source_event_id: String,
    pub source_seq: u64,
    pub source_time_ms: i64,
    pub logged_at_ms: i64,
    pub actor: EntryActor,
    pub action: String,
    pub resource: String,
    pub detail: String,
    pub trace_id: String,
}

/// Appends `s` as an RFC 8785 JSON string.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn member(out: &mut String, name: &str) {
    if !out.ends_with('{') {
        out.push(',');
    }
    string(out, name);
    out.push(':');
}

impl Entry {
    /// The entry's canonical JSON (see the module's table).
    pub fn canonical(&self) -> String {
        let mut out = String::with_capacity(256 + self.detail.len());
        out.push('{');
        member(&mut out, "action");
        string(&mut out, &self.action);
        member(&mut out, "actor");
        out.push('{');
        member(&mut out, "department");
        string(&mut out, &self.actor.department);
        member(&mut out, "name");
        string(&mut out, &self.actor.name);
        member(&mut out, "subject");
        string(&mut out, &self.actor.subject);
        out.push('}');
        member(&mut out, "detail");
        string(&mut out, &self.detail);
        member(&mut out, "logged_at_ms");
        let _ = write!(out, "{}", self.logged_at_ms);
        member(&mut out, "resource");
        string(&mut out, &self.resource);
        member(&mut out, "seq");
        let _ = write!(out, "{}", self.seq);
        member(&mut out, "source");
        string(&mut out, &self.source);
        member(&mut out, "source_event_id");
        string(&mut out, &self.source_event_id);
        member(&mut out, "source_seq");
        let _ = write!(out, "{}", self.source_seq);
        member(&mut out, "source_time_ms");
        let _ = write!(out, "{}", self.source_time_ms);
        member(&mut out, "trace_id");
        string(&mut out, &self.trace_id);
        out.push('}');
        out
    }

    /// Its leaf hash: `SHA-256(0x00 ‖ canonical JSON)`.
    pub fn leaf_hash(&self) -> super::merkle::Hash {
        super::merkle::leaf_hash(self.canonical().as_bytes())
    }

    /// Reads an entry back from its canonical JSON (an export); `None`
    /// when it is not one.
    pub fn from_canonical(text: &str) -> Option<Entry> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let s = |name: &str| v.get(name)?.as_str().map(str::to_owned);
        let n = |name: &str| v.get(name)?.as_u64();
        let i = |name: &str| v.get(name)?.as_i64();
        let actor = v.get("actor")?;
        let a = |name: &str| actor.get(name)?.as_str().map(str::to_owned);
        let entry = Entry {
            seq: n("seq")?,
            source: s("source")?,
            source_event_id: s("source_event_id")?,
            source_seq: n("source_seq")?,
            source_time_ms: i("source_time_ms")?,
            logged_at_ms: i("logged_at_ms")?,
            actor: EntryActor {
                subject: a("subject")?,
                name: a("name")?,
                department: a("department")?,
            },
            action: s("action")?,
            resource: s("resource")?,
            detail: s("detail")?,
            trace_id: s("trace_id")?,
        };
        // Only the canonical text of an entry is one: nothing added,
        // nothing reordered.
        (entry.canonical() == text).then_some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            seq: 41,
            source: "procedo.intake".into(),
            source_event_id: "0192-a".into(),
            source_seq: 7,
            source_time_ms: 1_764_000_000_000,
            logged_at_ms: 1_764_000_000_250,
            actor: EntryActor {
                subject: "li".into(),
                name: "李雷 \"Li\"".into(),
                department: "sales".into(),
            },
            action: "intake.applications.review".into(),
            resource: "applications/0192".into(),
            detail: "line one\nline\ttwo \u{1} \\ / \u{2028}".into(),
            trace_id: String::new(),
        }
    }

    #[test]
    fn the_canonical_form_is_sorted_compact_and_escaped_as_rfc_8785() {
        let text = entry().canonical();
        assert_eq!(
            text,
            "{\"action\":\"intake.applications.review\",\"actor\":{\"department\":\"sales\",\
             \"name\":\"李雷 \\\"Li\\\"\",\"subject\":\"li\"},\
             \"detail\":\"line one\\nline\\ttwo \\u0001 \\\\ / \u{2028}\",\
             \"logged_at_ms\":1764000000250,\"resource\":\"applications/0192\",\"seq\":41,\
             \"source\":\"procedo.intake\",\"source_event_id\":\"0192-a\",\"source_seq\":7,\
             \"source_time_ms\":1764000000000,\"trace_id\":\"\"}"
        );
        // The same bytes as a generic JSON serializer with sorted keys
        // writes for the same value (serde_json sorts object members).
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(serde_json::to_string(&value).expect("JSON"), text);
    }

    #[test]
    fn an_entry_reads_back_only_from_its_canonical_form() {
        let e = entry();
        assert_eq!(Entry::from_canonical(&e.canonical()), Some(e.clone()));
        let spaced = e.canonical().replacen(':', ": ", 1);
        assert_eq!(Entry::from_canonical(&spaced), None);
        let mut changed = e.clone();
        changed.detail.push('!');
        assert_ne!(changed.leaf_hash(), e.leaf_hash());
    }
}
