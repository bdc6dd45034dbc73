//! Content, stored once per SHA-256 in an object store (`object_store`):
//! a folder under the data directory unless an S3-compatible bucket is
//! configured. An upload streams into a temporary object while it is
//! hashed and measured, then takes its content-addressed name; an upload
//! that does not complete leaves nothing behind.
//!
//! Content nothing refers to (an upload whose version was never recorded)
//! is removed by a sweep, and only once it has been untouched for a grace
//! period: every upload rewrites its content's object, even when the same
//! content is already stored, so content about to be referenced again is
//! always fresh.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{ObjectStore, WriteMultipart};
use procedo_platform::error::Error;
use sha2::{Digest as _, Sha256};

/// Parts uploaded at once while an upload streams: what bounds its memory
/// (each part is five MiB).
const UPLOAD_CONCURRENCY: usize = 2;

/// The largest object S3 copies in one request, which is how an upload
/// takes its content's name there.
pub const S3_MAX_BYTES: u64 = 5 << 30;

/// How long content stays untouched before it may be removed, unless
/// configured.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);

const CONTENT: &str = "sha256";
const UPLOADS: &str = "uploads";

/// Where content lives.
#[derive(Debug, Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// The folder, for a filesystem store: a crashed process leaves its
    /// half-written parts there, where the store's listing does not show
    /// them.
    folder: Option<std::path::PathBuf>,
    /// How long content stays untouched before it may be removed.
    grace: Duration,
}

/// How to reach an S3-compatible bucket, beyond the AWS variables.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// Content on its way in.
pub struct Upload {
    store: Arc<dyn ObjectStore>,
    /// Where the content is written; the object exists only once the
    /// upload completed, and [`Upload::finish`] names or removes it.
    temporary: Path,
    /// Taken when the upload completes or is given up; still here when
    /// the call was dropped half-way, and then aborted in the background.
    writer: Option<WriteMultipart>,
    hasher: Sha256,
    size: u64,
}

/// Marks an upload abandoned when its caller's future is dropped while the
/// upload completes.
#[derive(Default)]
struct Abandoned(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // The parts written so far (an S3 multipart upload, a staging file)
        // would otherwise stay, unseen by any listing.
        if let Some(writer) = self.writer.take() {
            drop(give_up(writer));
        }
    }
}

/// Aborts `writer` in a task of its own: a call whose caller went away is
/// dropped at its next await, and the abort must still run to the end.
fn give_up(writer: WriteMultipart) -> Option<tokio::task::JoinHandle<()>> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    Some(runtime.spawn(async move {
        if let Err(e) = writer.abort().await {
            tracing::warn!(error = %e, "the parts of an abandoned upload could not be removed");
        }
    }))
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("temporary", &self.temporary)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// The stored content's name and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Lower-case hex SHA-256.
    pub sha256: String,
    pub size: u64,
}

fn failed(what: &str, e: &object_store::Error) -> Error {
    Error::unexpected(format!("the document store could not {what}: {e}"))
}

fn content_path(sha256: &str) -> Path {
    let (a, rest) = sha256.split_at(2.min(sha256.len()));
    let (b, _) = rest.split_at(2.min(rest.len()));
    Path::from(format!("{CONTENT}/{a}/{b}/{sha256}"))
}

/// Whether `meta` was last written more than `grace` ago.
fn untouched_for(meta: &object_store::ObjectMeta, grace: Duration) -> bool {
    let age = procedo_platform::time::now() - meta.last_modified.timestamp_millis();
    age >= i64::try_from(grace.as_millis()).unwrap_or(i64::MAX)
}

impl Blobs {
    /// The store `spec` names — a folder or `s3://bucket/prefix` — or the
    /// folder `default` when none is named.
    pub fn open(
        spec: Option<&str>,
        default: &std::path::Path,
        s3: &S3Settings,
    ) -> anyhow::Result<Blobs> {
        match spec {
            Some(url) if url.starts_with("s3://") => Blobs::s3(url, s3),
            Some(url) if url.contains("://") => anyhow::bail!(
                "the document store {url} is neither a folder nor an s3://bucket/prefix"
            ),
            Some(folder) => Blobs::filesystem(std::path::Path::new(folder)),
            None => Blobs::filesystem(default),
        }
    }

    /// A folder on the local filesystem (made when missing).
    pub fn filesystem(root: &std::path::Path) -> anyhow::Result<Blobs> {
        std::fs::create_dir_all(root).map_err(|e| {
            anyhow::anyhow!(
                "the document store folder {} cannot be made: {e}",
                root.display()
            )
        })?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(root)
            .map_err(|e| anyhow::anyhow!("the document store {}: {e}", root.display()))?
            .with_automatic_cleanup(true);
        Ok(Blobs {
            store: Arc::new(store),
            folder: Some(root.to_owned()),
            grace: DEFAULT_GRACE,
        })
    }

    /// A bucket of an S3-compatible store, `s3://bucket/prefix` (the
    /// prefix is optional), configured by the AWS variables and `s3`.
    pub fn s3(url: &str, s3: &S3Settings) -> anyhow::Result<Blobs> {
        let rest = url.trim_start_matches("s3://");
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(
            !bucket.is_empty(),
            "the document store {url} names no bucket (s3://bucket/prefix)"
        );
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &s3.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(id) = &s3.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &s3.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let bucket_store = builder
            .build()
            .map_err(|e| anyhow::anyhow!("the document store {url}: {e}"))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(bucket_store)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(bucket_store, prefix))
        };
        Ok(Blobs {
            store,
            folder: None,
            grace: DEFAULT_GRACE,
        })
    }

    /// The same store, removing content only once it was untouched for
    /// `grace`.
    pub fn with_grace(self, grace: Duration) -> Blobs {
        Blobs { grace, ..self }
    }

    /// Whether content lives in an S3-compatible bucket.
    pub fn is_s3(&self) -> bool {
        self.folder.is_none()
    }

    /// Starts an upload.
    pub async fn begin(&self) -> Result<Upload, Error> {
        let temporary = Path::from(format!("{UPLOADS}/{}", uuid::Uuid::now_v7()));
        let upload = self
            .store
            .put_multipart(&temporary)
            .await
            .map_err(|e| failed("start an upload", &e))?;
        Ok(Upload {
            store: self.store.clone(),
            temporary,
            writer: Some(WriteMultipart::new(upload)),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// The content named `sha256`, as a stream of chunks.
    pub async fn read(
        &self,
        sha256: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, Error>>, Error> {
        let got = self
            .store
            .get(&content_path(sha256))
            .await
            .map_err(|e| failed("read content", &e))?;
        Ok(got
            .into_stream()
            .map(|chunk| chunk.map_err(|e| failed("read content", &e)))
            .boxed())
    }

    /// Removes the content named `sha256` unless it was written in the
    /// grace period (an upload of the same content may be about to refer
    /// to it); whether it is gone.
    pub async fn remove_untouched(&self, sha256: &str) -> Result<bool, Error> {
        let grace = self.grace;
        let path = content_path(sha256);
        match self.store.head(&path).await {
            Ok(meta) if !untouched_for(&meta, grace) => return Ok(false),
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => return Ok(true),
            Err(e) => return Err(failed("look for content", &e)),
        }
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(true),
            Err(e) => Err(failed("remove content", &e)),
        }
    }

    /// The names of stored content untouched for the grace period.
    pub fn untouched_content(&self) -> BoxStream<'static, Result<String, Error>> {
        let grace = self.grace;
        self.store
            .list(Some(&Path::from(CONTENT)))
            .filter_map(move |meta| async move {
                match meta {
                    Ok(meta) if untouched_for(&meta, grace) => {
                        meta.location.filename().map(|name| Ok(name.to_owned()))
                    }
                    Ok(_) => None,
                    Err(e) => Some(Err(failed("list content", &e))),
                }
            })
            .boxed()
    }

    /// Removes what uploads that never completed left behind and was
    /// untouched for the grace period (a process that stopped half-way);
    /// how many.
    pub async fn remove_abandoned_uploads(&self) -> Result<usize, Error> {
        let grace = self.grace;
        let mut removed = 0;
        let mut listed = self.store.list(Some(&Path::from(UPLOADS)));
        while let Some(meta) = listed.next().await {
            let meta = meta.map_err(|e| failed("list uploads", &e))?;
            if untouched_for(&meta, grace) {
                match self.store.delete(&meta.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => removed += 1,
                    Err(e) => return Err(failed("remove an upload", &e)),
                }
            }
        }
        if let Some(folder) = &self.folder {
            removed += remove_stale_parts(&folder.join(UPLOADS), grace);
        }
        Ok(removed)
    }
}

/// Removes the files in `folder` older than `grace`: the parts of a
/// filesystem upload, which the store names `<upload>#<n>` and does not
/// list.
fn remove_stale_parts(folder: &std::path::Path, grace: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| at.elapsed().is_ok_and(|age| age >= grace));
        if old
            && entry.file_type().is_ok_and(|t| t.is_file())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

impl Upload {
    /// Bytes so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    fn writer(&mut self) -> &mut WriteMultipart {
        self.writer
            .as_mut()
            .expect("an upload is written to until it completes or is given up")
    }

    /// Adds `chunk`, waiting while earlier parts are still being written.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.writer()
            .wait_for_capacity(UPLOAD_CONCURRENCY)
            .await
            .map_err(|e| failed("write content", &e))?;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.writer().write(chunk);
        Ok(())
    }

    /// Completes the upload under its content's name. Content already
    /// stored is written over with the same bytes — stored once, and
    /// fresh again, so the sweep leaves it alone until it is referenced.
    ///
    /// The work runs in a task of its own: a store's upload left half-way
    /// (an S3 multipart upload) is kept, unseen, until someone aborts it,
    /// so it is always completed or aborted — and when the caller went
    /// away meanwhile, the completed object is removed, not named.
    pub async fn finish(mut self) -> Result<Stored, Error> {
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let writer = self.writer.take().expect("an upload completes once");
        let store = self.store.clone();
        let temporary = self.temporary.clone();
        let target = content_path(&sha256);
        let abandoned = Abandoned::default();
        let caller_gone = abandoned.0.clone();
        let task = tokio::spawn(async move {
            writer
                .finish()
                .await
                .map_err(|e| failed("complete an upload", &e))?;
            let named = if caller_gone.load(std::sync::atomic::Ordering::SeqCst) {
                Err(Error::unexpected(
                    "the caller went away before the upload completed",
                ))
            } else {
                store
                    .rename(&temporary, &target)
                    .await
                    .map_err(|e| failed("store content", &e))
            };
            if named.is_err() {
                match store.delete(&temporary).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, path = %temporary, "an abandoned upload could not be removed")
                    }
                }
            }
            named
        });
        task.await
            .map_err(|e| Error::unexpected(format!("completing an upload stopped: {e}")))??;
        drop(abandoned);
        Ok(Stored {
            sha256,
            size: self.size,
        })
    }

    /// Gives the upload up; nothing of it stays.
    pub async fn abort(mut self) {
        // The parts are removed and the object was never made.
        if let Some(task) = self.writer.take().and_then(give_up) {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn content_is_stored_once_under_its_hash_and_an_abandoned_upload_leaves_nothing() {
        let dir = tempfile::tempdir().expect("a folder");
        let blobs = Blobs::filesystem(dir.path()).expect("a store");
        let mut first = blobs.begin().await.expect("begun");
        first.write(b"hello ").await.expect("written");
        first.write(b"world").await.expect("written");
        let stored = first.finish().await.expect("finished");
        assert_eq!(
            stored.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(stored.size, 11);
        let mut again = blobs.begin().await.expect("begun");
        again.write(b"hello world").await.expect("written");
        assert_eq!(again.finish().await.expect("finished"), stored);
        let mut dropped = blobs.begin().await.expect("begun");
        dropped.write(b"never mind").await.expect("written");
        dropped.abort().await;
        let files: Vec<_> = walk(dir.path());
        assert_eq!(files.len(), 1, "one content file: {files:?}");
        let read: Vec<u8> = blobs
            .read(&stored.sha256)
            .await
            .expect("read")
            .map(|c| c.expect("a chunk").to_vec())
            .concat()
            .await;
        assert_eq!(read, b"hello world");
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).expect("a folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
        files
    }
}
