//! AIP-158 pagination: `page_size` bounds and opaque `page_token` cursors.
//!
//! A token is the keyset cursor of the last row returned (its sort key),
//! hex-encoded so clients treat it as opaque. Keyset paging keeps every page
//! as cheap as the first however deep the client goes.

use crate::validate::Violations;

/// Page size when the client leaves it at zero.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// The largest page served; larger requests are clamped, as AIP-158 asks.
pub const MAX_PAGE_SIZE: i64 = 500;

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Rows to return.
    pub size: i64,
    /// Sort key of the last row of the previous page; `None` on the first.
    pub after: Option<String>,
}

impl Page {
    /// Reads `page_size` and `page_token`, recording what is wrong in `v`.
    pub fn parse(page_size: i32, page_token: &str, v: &mut Violations) -> Page {
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                v.add("page_size", "must not be negative");
                DEFAULT_PAGE_SIZE
            }
            n => i64::from(n).min(MAX_PAGE_SIZE),
        };
        let after = if page_token.is_empty() {
            None
        } else {
            match decode(page_token) {
                Some(cursor) => Some(cursor),
                None => {
                    v.add("page_token", "is not a token this service issued");
                    None
                }
            }
        };
        Page { size, after }
    }

    /// Rows to fetch: one more than the page, to learn whether another
    /// page follows without a count query.
    pub fn fetch_limit(&self) -> i64 {
        self.size + 1
    }

    /// Trims the over-fetched row and returns the token for the next page.
    pub fn finish<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> String) -> String {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() > size {
            rows.truncate(size);
            rows.last().map(|row| encode(&key(row))).unwrap_or_default()
        } else {
            String::new()
        }
    }
}

fn encode(cursor: &str) -> String {
    cursor.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode(token: &str) -> Option<String> {
    if !token.len().is_multiple_of(2) || token.len() > 512 {
        return None;
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_garbage_is_a_violation() {
        let mut v = Violations::default();
        let page = Page::parse(10, &encode("0192-abc"), &mut v);
        assert!(v.is_empty());
        assert_eq!(page.after.as_deref(), Some("0192-abc"));
        Page::parse(10, "zz", &mut v);
        Page::parse(-1, "", &mut v);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn finish_trims_the_lookahead_row_and_points_at_the_last_kept_row() {
        let page = Page {
            size: 2,
            after: None,
        };
        let mut rows = vec!["a", "b", "c"];
        let token = page.finish(&mut rows, |r| (*r).to_owned());
        assert_eq!(rows, ["a", "b"]);
        assert_eq!(decode(&token).as_deref(), Some("b"));
        let mut short = vec!["a"];
        assert_eq!(page.finish(&mut short, |r| (*r).to_owned()), "");
    }
}
