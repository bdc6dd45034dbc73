//! Collecting every problem of a request before answering, so a client
//! fixes them all in one round trip.
//!
//! Text is checked for length (in characters) and for control characters:
//! single-line fields allow none, long text allows newlines and tabs. NUL and
//! other control bytes never reach a store or a log line.

use crate::error::{Error, FieldViolation};
use crate::time::{self, Millis};

/// Violations reported at most; the rest are counted in one more, so an
/// error answer never grows with the request.
pub const MAX_REPORTED: usize = 50;

/// The field violations found so far.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>, usize);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is wrong, saying how.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        if self.0.len() < MAX_REPORTED {
            self.0.push(FieldViolation {
                field: field.into(),
                description: description.into(),
            });
        } else {
            self.1 += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every violation found, reported or only counted.
    pub fn len(&self) -> usize {
        self.0.len() + self.1
    }

    /// `items` when there are at most `max` of them; otherwise records
    /// that `field` holds too many and gives none, so nothing downstream
    /// works through an oversized list.
    pub fn at_most<'a, T>(&mut self, field: &str, items: &'a [T], max: usize) -> &'a [T] {
        if items.len() > max {
            self.add(
                field,
                format!("holds {} items; at most {max} are allowed", items.len()),
            );
            &[]
        } else {
            items
        }
    }

    /// A required single-line text of at most `max` characters, trimmed.
    pub fn required_line(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.add(field, "is required");
        } else {
            self.line(field, value, max);
        }
        value.to_owned()
    }

    /// An optional single-line text of at most `max` characters, trimmed.
    pub fn optional_line(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if !value.is_empty() {
            self.line(field, value, max);
        }
        value.to_owned()
    }

    /// A required multi-line text of at most `max` characters, trimmed.
    pub fn required_text(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.add(field, "is required");
        } else {
            self.text(field, value, max);
        }
        value.to_owned()
    }

    /// An optional multi-line text of at most `max` characters, trimmed.
    pub fn optional_text(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if !value.is_empty() {
            self.text(field, value, max);
        }
        value.to_owned()
    }

    fn line(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        } else if value.chars().any(char::is_control) {
            self.add(field, "must not contain control characters");
        }
    }

    fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        } else if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.add(
                field,
                "must not contain control characters other than newlines and tabs",
            );
        }
    }

    /// An optional e-mail address: one '@' with text on both sides.
    pub fn optional_email(&mut self, field: &str, value: &str) -> String {
        let value = self.optional_line(field, value, 254);
        if !value.is_empty() {
            let valid = value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            }) && !value.contains(char::is_whitespace);
            if !valid {
                self.add(field, "is not an e-mail address");
            }
        }
        value
    }

    /// An optional phone number: digits with optional '+', spaces, '-' and
    /// parentheses; 5 to 20 digits.
    pub fn optional_phone(&mut self, field: &str, value: &str) -> String {
        let value = self.optional_line(field, value, 32);
        if !value.is_empty() {
            let digits = value.chars().filter(char::is_ascii_digit).count();
            let allowed = value
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
            if !allowed || !(5..=20).contains(&digits) {
                self.add(field, "is not a phone number");
            }
        }
        value
    }

    /// The id in a resource name "{collection}/{uuid}".
    pub fn resource_id(&mut self, field: &str, collection: &str, name: &str) -> String {
        let id = name
            .strip_prefix(collection)
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|id| uuid::Uuid::try_parse(id).is_ok());
        match id {
            Some(id) => id.to_owned(),
            None => {
                self.add(field, format!("must be \"{collection}/<uuid>\""));
                String::new()
            }
        }
    }

    /// The id in an optional resource name: "" when none is given.
    pub fn optional_resource_id(&mut self, field: &str, collection: &str, name: &str) -> String {
        if name.is_empty() {
            String::new()
        } else {
            self.resource_id(field, collection, name)
        }
    }

    /// The request's `request_id`: optional, at most 100 printable
    /// characters; kept with the digest of `request`, the whole message.
    pub fn request_id(
        &mut self,
        value: &str,
        request: &impl prost::Message,
    ) -> Option<crate::idempotency::RequestId> {
        let value = self.optional_line("request_id", value, 100);
        (!value.is_empty()).then(|| crate::idempotency::RequestId::new(value, request))
    }

    /// An optional timestamp as milliseconds.
    pub fn time_opt(&mut self, field: &str, ts: Option<&prost_types::Timestamp>) -> Option<Millis> {
        let ms = time::from_timestamp(ts?);
        if ms.is_none() {
            self.add(field, "is not a valid timestamp");
        }
        ms
    }

    /// Ok when nothing was wrong; otherwise INVALID_ARGUMENT naming every
    /// violation.
    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.into_inner()))
        }
    }

    /// The violations, for callers that build their own error: the first
    /// [`MAX_REPORTED`], then one counting the rest.
    pub fn into_inner(self) -> Vec<FieldViolation> {
        let Violations(mut reported, more) = self;
        if more > 0 {
            reported.push(FieldViolation {
                field: "request".into(),
                description: format!("and {more} more problems not listed"),
            });
        }
        reported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_rejected_with_the_field_named() {
        let mut v = Violations::new();
        v.required_line("subject", "drop\u{0}table", 50);
        v.required_line("customer.name", "  ", 50);
        v.required_text("text", &"x".repeat(11), 10);
        let names: Vec<_> = v.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["subject", "customer.name", "text"]);
    }

    #[test]
    fn multi_line_text_may_hold_newlines_but_lines_may_not() {
        let mut v = Violations::new();
        v.required_text("text", "line one\nline two\ttabbed", 100);
        assert!(v.is_empty());
        v.required_line("subject", "two\nlines", 100);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn a_flood_of_problems_is_reported_as_fifty_and_a_count() {
        let mut v = Violations::new();
        for i in 0..1_000 {
            v.required_line(&format!("items[{i}]"), "", 10);
        }
        assert_eq!(v.len(), 1_000);
        let reported = v.into_inner();
        assert_eq!(reported.len(), MAX_REPORTED + 1);
        assert_eq!(
            reported[MAX_REPORTED].description,
            "and 950 more problems not listed"
        );
    }

    #[test]
    fn an_oversized_list_is_refused_whole() {
        let mut v = Violations::new();
        let items = vec![""; 101];
        assert!(v.at_most("correction_items", &items, 100).is_empty());
        assert_eq!(v.len(), 1);
        assert_eq!(v.at_most("ok", &items[..3], 100).len(), 3);
    }

    #[test]
    fn contacts_are_checked_for_shape() {
        let mut v = Violations::new();
        v.optional_email("email", "a@example.com");
        v.optional_phone("phone", "+86 (10) 1234-5678");
        assert!(v.is_empty());
        v.optional_email("email", "not-an-email");
        v.optional_email("email", "a@b");
        v.optional_phone("phone", "call me");
        assert_eq!(v.len(), 3);
    }
}
