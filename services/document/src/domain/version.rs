//! Versions (§4.2): immutable, each naming its content by SHA-256.

use procedo_platform::identity::Actor;
use procedo_platform::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub document_id: String,
    pub version: i32,
    /// Lower-case hex.
    pub content_sha256: String,
    pub size_bytes: i64,
    pub media_type: String,
    pub file_name: String,
    pub change_summary: String,
    pub author: Actor,
    pub created_at: Millis,
}

impl Version {
    pub fn resource(&self) -> String {
        format!("documents/{}/versions/{}", self.document_id, self.version)
    }
}

/// What an upload says of its content before it streams, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMeta {
    pub document_id: String,
    pub etag: String,
    pub media_type: String,
    pub file_name: String,
    pub change_summary: String,
}
