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

/// Batches [`Page::fill`] reads for one page at most.
pub const MAX_SCANNED_BATCHES: usize = 8;

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

    /// The previous page's last key as a number, for lists keyed by one
    /// (versions, rounds); `None` on the first page or for a key that is
    /// not a number.
    pub fn after_number(&self) -> Option<i64> {
        self.after.as_deref().and_then(|key| key.parse().ok())
    }

    /// Rows to fetch: one more than the page, to learn whether another
    /// page follows without a count query.
    pub fn fetch_limit(&self) -> i64 {
        self.size + 1
    }

    /// The page of the rows `keep` lets through, and the token of the next
    /// page: for lists whose store query narrows to a superset of what a
    /// caller may see. Reads batches in key order with `read(after, limit)`
    /// until the page is full or the rows run out, and at most
    /// [`MAX_SCANNED_BATCHES`]: a caller who may see little gets a short
    /// (even empty) page and a token to read on, never a scan of the table.
    pub async fn fill<T, E, Fut>(
        &self,
        mut read: impl FnMut(Option<String>, i64) -> Fut,
        keep: impl Fn(&T) -> bool,
        key: impl Fn(&T) -> String,
    ) -> Result<(Vec<T>, String), E>
    where
        Fut: Future<Output = Result<Vec<T>, E>>,
    {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let batch_size = usize::try_from(self.fetch_limit()).unwrap_or(usize::MAX);
        let mut kept = Vec::new();
        let mut after = self.after.clone();
        for _ in 0..MAX_SCANNED_BATCHES {
            let batch = read(after.clone(), self.fetch_limit()).await?;
            let exhausted = batch.len() < batch_size;
            after = batch.last().map(&key).or(after);
            kept.extend(batch.into_iter().filter(|row| keep(row)));
            if kept.len() > size {
                kept.truncate(size);
                let token = kept.last().map(|row| encode(&key(row))).unwrap_or_default();
                return Ok((kept, token));
            }
            if exhausted {
                return Ok((kept, String::new()));
            }
        }
        Ok((kept, after.map(|a| encode(&a)).unwrap_or_default()))
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

    #[tokio::test]
    async fn fill_reads_on_until_the_page_is_full_and_never_scans_without_end() {
        let rows: Vec<String> = (0..100).map(|i| format!("{i:03}")).collect();
        let read = |after: Option<String>, limit: i64| {
            let batch: Vec<String> = rows
                .iter()
                .filter(|r| after.as_ref().is_none_or(|a| *r > a))
                .take(usize::try_from(limit).unwrap_or(0))
                .cloned()
                .collect();
            async move { Ok::<_, ()>(batch) }
        };
        let page = Page {
            size: 5,
            after: None,
        };
        // Every fifth row: a page of five and the next one's first row
        // lie within the rows scanned.
        let (fives, token) = page
            .fill(read, |r| r.ends_with('0') || r.ends_with('5'), Clone::clone)
            .await
            .expect("read");
        assert_eq!(fives, ["000", "005", "010", "015", "020"]);
        assert_eq!(decode(&token).as_deref(), Some("020"));
        // Every tenth row: the scan stops after its batches with five kept
        // and says where to read on.
        let (tens, token) = page
            .fill(read, |r| r.ends_with('0'), Clone::clone)
            .await
            .expect("read");
        assert_eq!(tens, ["000", "010", "020", "030", "040"]);
        assert_eq!(decode(&token).as_deref(), Some("047"));
        // Nothing kept: the scan stops after its batches and says where.
        let (none, token) = page
            .fill(read, |_| false, Clone::clone)
            .await
            .expect("read");
        assert!(none.is_empty());
        assert_eq!(decode(&token).as_deref(), Some("047"));
        // Everything read: no token.
        let all = Page {
            size: 500,
            after: Some("097".into()),
        };
        let (rest, token) = all.fill(read, |_| true, Clone::clone).await.expect("read");
        assert_eq!(rest, ["098", "099"]);
        assert!(token.is_empty());
    }
}
