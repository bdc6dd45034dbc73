//! Content, stored once per SHA-256 in an object store (`object_store`):
//! the local filesystem under the data directory unless configured
//! otherwise. An upload streams into a temporary object while it is hashed
//! and measured, then takes its content-addressed name; an upload that
//! does not complete leaves nothing behind.

use std::sync::Arc;

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

/// Where content lives.
#[derive(Debug, Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
}

/// Content on its way in.
pub struct Upload {
    store: Arc<dyn ObjectStore>,
    temporary: Temporary,
    writer: WriteMultipart,
    hasher: Sha256,
    size: u64,
}

/// The temporary object of an upload, removed unless the upload took its
/// content-addressed name — also when the call is dropped half-way (the
/// caller went away), which runs no code of ours but this.
struct Temporary {
    store: Arc<dyn ObjectStore>,
    path: Option<Path>,
}

impl Temporary {
    fn path(&self) -> Path {
        self.path.clone().unwrap_or_default()
    }

    /// The object is gone or has its final name: nothing to remove.
    fn disarm(&mut self) {
        self.path = None;
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        let Some(path) = self.path.take() else {
            return;
        };
        let store = self.store.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                match store.delete(&path).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => tracing::warn!(error = %e, %path, "an abandoned upload could not be removed"),
                }
            });
        }
    }
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("temporary", &self.temporary.path)
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
    Path::from(format!("sha256/{a}/{b}/{sha256}"))
}

impl Blobs {
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
        })
    }

    /// Starts an upload.
    pub async fn begin(&self) -> Result<Upload, Error> {
        let temporary = Path::from(format!("uploads/{}", uuid::Uuid::now_v7()));
        let upload = self
            .store
            .put_multipart(&temporary)
            .await
            .map_err(|e| failed("start an upload", &e))?;
        Ok(Upload {
            store: self.store.clone(),
            temporary: Temporary {
                store: self.store.clone(),
                path: Some(temporary),
            },
            writer: WriteMultipart::new(upload),
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
}

impl Blobs {
    /// Removes the content named `sha256` (gone already is fine).
    pub async fn remove(&self, sha256: &str) -> Result<(), Error> {
        match self.store.delete(&content_path(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed("remove content", &e)),
        }
    }
}

impl Upload {
    /// Bytes so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds `chunk`, waiting while earlier parts are still being written.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.writer
            .wait_for_capacity(UPLOAD_CONCURRENCY)
            .await
            .map_err(|e| failed("write content", &e))?;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.writer.write(chunk);
        Ok(())
    }

    /// Completes the upload under its content's name (kept once: content
    /// already stored is not stored again).
    pub async fn finish(mut self) -> Result<Stored, Error> {
        let sha256 = hex::encode(self.hasher.finalize());
        self.writer
            .finish()
            .await
            .map_err(|e| failed("complete an upload", &e))?;
        let target = content_path(&sha256);
        let temporary = self.temporary.path();
        let exists = match self.store.head(&target).await {
            Ok(_) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => return Err(failed("look for content", &e)),
        };
        if exists {
            self.store
                .delete(&temporary)
                .await
                .map_err(|e| failed("remove an upload", &e))?;
        } else {
            self.store
                .rename(&temporary, &target)
                .await
                .map_err(|e| failed("store content", &e))?;
        }
        self.temporary.disarm();
        Ok(Stored {
            sha256,
            size: self.size,
        })
    }

    /// Gives the upload up; nothing of it stays.
    pub async fn abort(mut self) {
        if let Err(e) = self.writer.abort().await {
            tracing::warn!(error = %e, "an abandoned upload could not be removed");
        }
        // The parts are gone and the object was never made.
        self.temporary.disarm();
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
