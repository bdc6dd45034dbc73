//! AIP-158 pagination: `page_size` bounds and opaque `page_token` cursors.
//!
//! A token carries the keyset cursor of the last row returned (its sort
//! key), encrypted and authenticated with the process's page-token key and
//! bound to the request that issued it: its message (so its RPC) and every
//! field but the page ones (so its filters). A token is therefore opaque,
//! cannot be forged, and is refused by another RPC or with other filters.
//! Keyset paging keeps every page as cheap as the first however deep the
//! client goes.
//!
//! The key is one per process ([`use_key`]); replicas behind one address
//! share it through configuration (`PROCEDO_PAGE_TOKEN_KEY`). Without one,
//! a random key is made at first use: tokens then hold on this process
//! only, until it restarts.

use std::sync::OnceLock;

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use procedo_proto::PageRequest;
use sha2::{Digest as _, Sha256};

use crate::validate::Violations;

/// Page size when the client leaves it at zero.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// The largest page served; larger requests are clamped, as AIP-158 asks.
pub const MAX_PAGE_SIZE: i64 = 500;

/// Batches [`Page::fill`] reads for one page at most.
pub const MAX_SCANNED_BATCHES: usize = 8;

/// The shortest page-token key accepted.
pub const MIN_KEY_CHARS: usize = 32;

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Rows to return.
    pub size: i64,
    /// Sort key of the last row of the previous page; `None` on the first.
    pub after: Option<String>,
    /// What the tokens of this request are bound to.
    binding: [u8; 16],
}

impl Page {
    /// Reads `page_size` and `page_token` of `request`, recording what is
    /// wrong in `v`: a token another request issued (another RPC, other
    /// filters), or none this service issued, is a violation.
    pub fn of(request: &impl PageRequest, v: &mut Violations) -> Page {
        let binding = binding(request);
        let size = match request.page_size() {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                v.add("page_size", "must not be negative");
                DEFAULT_PAGE_SIZE
            }
            n => i64::from(n).min(MAX_PAGE_SIZE),
        };
        let token = request.page_token();
        let after = if token.is_empty() {
            None
        } else {
            match open(&binding, token) {
                Some(cursor) => Some(cursor),
                None => {
                    v.add(
                        "page_token",
                        "is not a token this service issued for this request: a page token \
                         works only with the RPC and the filters of the call that returned it \
                         (start again without one to change them)",
                    );
                    None
                }
            }
        };
        Page {
            size,
            after,
            binding,
        }
    }

    /// A page read from a store directly, not for a request (tests,
    /// tools): the tokens it makes match no request.
    pub fn rows(size: i64, after: Option<String>) -> Page {
        Page {
            size,
            after,
            binding: [0; 16],
        }
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

    /// The token of the page after the row whose sort key is `cursor`.
    pub fn token(&self, cursor: &str) -> String {
        seal(&self.binding, cursor)
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
                let token = kept
                    .last()
                    .map(|row| self.token(&key(row)))
                    .unwrap_or_default();
                return Ok((kept, token));
            }
            if exhausted {
                return Ok((kept, String::new()));
            }
        }
        Ok((kept, after.map(|a| self.token(&a)).unwrap_or_default()))
    }

    /// Trims the over-fetched row and returns the token for the next page.
    pub fn finish<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> String) -> String {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() > size {
            rows.truncate(size);
            rows.last()
                .map(|row| self.token(&key(row)))
                .unwrap_or_default()
        } else {
            String::new()
        }
    }
}

static KEY: OnceLock<[u8; 32]> = OnceLock::new();

/// Makes `secret` the process's page-token key (at least
/// [`MIN_KEY_CHARS`] characters). A process has one key: setting another
/// after the first is an error.
pub fn use_key(secret: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        secret.chars().count() >= MIN_KEY_CHARS,
        "PROCEDO_PAGE_TOKEN_KEY must have at least {MIN_KEY_CHARS} characters"
    );
    let key: [u8; 32] = Sha256::new()
        .chain_update(b"procedo page tokens\0")
        .chain_update(secret.as_bytes())
        .finalize()
        .into();
    anyhow::ensure!(
        *KEY.get_or_init(|| key) == key,
        "this process already uses another page-token key"
    );
    Ok(())
}

fn key() -> &'static [u8; 32] {
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random numbers");
        key
    })
}

/// A token binds to the request message's name and its fields but the
/// page ones.
fn binding<R: PageRequest>(request: &R) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(R::NAME.as_bytes())
        .chain_update([0])
        .chain_update(request.without_page().encode_to_vec())
        .finalize();
    let mut binding = [0u8; 16];
    binding.copy_from_slice(&digest[..16]);
    binding
}

const TOKEN_VERSION: u8 = 1;
const TAG_BYTES: usize = 16;
/// Longer tokens are refused unread.
const MAX_TOKEN_CHARS: usize = 1024;

fn mac() -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key()).expect("HMAC takes a key of any length")
}

/// The tag authenticating `cursor` for `binding`.
fn tag(binding: &[u8; 16], cursor: &[u8]) -> Hmac<Sha256> {
    let mut mac = mac();
    mac.update(b"tag");
    mac.update(binding);
    mac.update(cursor);
    mac
}

/// XORs `bytes` with a keystream drawn from the key and the tag (a
/// deterministic, SIV-style encryption: the tag is the IV).
fn apply_keystream(tag: &[u8], bytes: &mut [u8]) {
    for (block, chunk) in bytes.chunks_mut(32).enumerate() {
        let mut mac = mac();
        mac.update(b"stream");
        mac.update(tag);
        mac.update(&u32::try_from(block).unwrap_or(u32::MAX).to_be_bytes());
        let stream = mac.finalize().into_bytes();
        for (b, s) in chunk.iter_mut().zip(stream) {
            *b ^= s;
        }
    }
}

/// `version ‖ tag ‖ encrypted cursor`, base64url.
fn seal(binding: &[u8; 16], cursor: &str) -> String {
    let full = tag(binding, cursor.as_bytes()).finalize().into_bytes();
    let tag = &full[..TAG_BYTES];
    let mut sealed = Vec::with_capacity(1 + TAG_BYTES + cursor.len());
    sealed.push(TOKEN_VERSION);
    sealed.extend_from_slice(tag);
    let mut body = cursor.as_bytes().to_vec();
    apply_keystream(tag, &mut body);
    sealed.extend_from_slice(&body);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
}

/// The cursor in `token`, if this process sealed it for `binding`.
fn open(binding: &[u8; 16], token: &str) -> Option<String> {
    if token.len() > MAX_TOKEN_CHARS {
        return None;
    }
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let (&version, rest) = sealed.split_first()?;
    if version != TOKEN_VERSION || rest.len() < TAG_BYTES {
        return None;
    }
    let (given, body) = rest.split_at(TAG_BYTES);
    let mut cursor = body.to_vec();
    apply_keystream(given, &mut cursor);
    tag(binding, &cursor).verify_truncated_left(given).ok()?;
    String::from_utf8(cursor).ok()
}

#[cfg(test)]
mod tests {
    use procedo_proto::intake::{ListApplicationTypesRequest, ListInquiriesRequest};

    use super::*;

    fn first(size: i64) -> Page {
        Page {
            size,
            after: None,
            binding: binding(&ListApplicationTypesRequest::default()),
        }
    }

    fn inquiries(department: &str, page_token: &str) -> ListInquiriesRequest {
        ListInquiriesRequest {
            department: department.into(),
            page_token: page_token.into(),
            page_size: 10,
            ..Default::default()
        }
    }

    #[test]
    fn a_token_round_trips_hides_its_cursor_and_garbage_is_a_violation() {
        let issued =
            Page::of(&inquiries("sales", ""), &mut Violations::default()).token("0192-abc");
        assert!(
            !issued.contains("0192")
                && !issued.contains(
                    &"0192-abc"
                        .bytes()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                )
        );
        let mut v = Violations::default();
        let page = Page::of(&inquiries("sales", &issued), &mut v);
        assert!(v.is_empty());
        assert_eq!(page.after.as_deref(), Some("0192-abc"));

        for forged in ["zz", "", "AQ", &issued[..issued.len() - 2]] {
            let mut v = Violations::default();
            let page = Page::of(&inquiries("sales", forged), &mut v);
            assert_eq!(v.is_empty(), forged.is_empty(), "{forged:?}");
            assert_eq!(page.after, None);
        }
        let mut v = Violations::default();
        Page::of(
            &ListInquiriesRequest {
                page_size: -1,
                ..Default::default()
            },
            &mut v,
        );
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn a_token_is_refused_with_other_filters_or_by_another_rpc_but_not_for_another_size() {
        let issued = Page::of(&inquiries("sales", ""), &mut Violations::default()).token("cursor");
        let mut v = Violations::default();
        Page::of(&inquiries("finance", &issued), &mut v);
        assert_eq!(v.len(), 1, "other filters");
        let mut v = Violations::default();
        Page::of(
            &ListApplicationTypesRequest {
                page_size: 10,
                page_token: issued.clone(),
            },
            &mut v,
        );
        assert_eq!(v.len(), 1, "another RPC");
        let mut v = Violations::default();
        let mut bigger = inquiries("sales", &issued);
        bigger.page_size = 200;
        let page = Page::of(&bigger, &mut v);
        assert!(v.is_empty(), "the page size may change between pages");
        assert_eq!(page.after.as_deref(), Some("cursor"));
    }

    #[test]
    fn finish_trims_the_lookahead_row_and_points_at_the_last_kept_row() {
        let page = first(2);
        let mut rows = vec!["a", "b", "c"];
        let token = page.finish(&mut rows, |r| (*r).to_owned());
        assert_eq!(rows, ["a", "b"]);
        assert_eq!(open(&page.binding, &token).as_deref(), Some("b"));
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
        let page = first(5);
        let cursor = |token: &str| open(&page.binding, token);
        // Every fifth row: a page of five and the next one's first row
        // lie within the rows scanned.
        let (fives, token) = page
            .fill(read, |r| r.ends_with('0') || r.ends_with('5'), Clone::clone)
            .await
            .expect("read");
        assert_eq!(fives, ["000", "005", "010", "015", "020"]);
        assert_eq!(cursor(&token).as_deref(), Some("020"));
        // Every tenth row: the scan stops after its batches with five kept
        // and says where to read on.
        let (tens, token) = page
            .fill(read, |r| r.ends_with('0'), Clone::clone)
            .await
            .expect("read");
        assert_eq!(tens, ["000", "010", "020", "030", "040"]);
        assert_eq!(cursor(&token).as_deref(), Some("047"));
        // Nothing kept: the scan stops after its batches and says where.
        let (none, token) = page
            .fill(read, |_| false, Clone::clone)
            .await
            .expect("read");
        assert!(none.is_empty());
        assert_eq!(cursor(&token).as_deref(), Some("047"));
        // Everything read: no token.
        let all = Page {
            after: Some("097".into()),
            ..first(500)
        };
        let (rest, token) = all.fill(read, |_| true, Clone::clone).await.expect("read");
        assert_eq!(rest, ["098", "099"]);
        assert!(token.is_empty());
    }

    #[test]
    fn a_configured_key_must_be_long_enough() {
        assert!(use_key("short").is_err());
    }
}
