//! One way to start the document service for a test: [`TestDocument::spawn`],
//! its content in a folder or, with [`TestStore::s3`], in a bucket of the
//! S3-compatible server `PROCEDO_TEST_S3_ENDPOINT` names.

use procedo_document::DocumentService;
use procedo_document::config::DocumentArgs;
use procedo_platform::identity::{Clearance, Role};
use procedo_platform::service::Config;
use procedo_proto::common;
use procedo_proto::document as pb;
use procedo_proto::document::document_service_client::DocumentServiceClient;
use procedo_testkit::{Backend, Bearer, TestDatabase, TestService, Tokens};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type DocumentClient = DocumentServiceClient<InterceptedService<Channel, Bearer>>;

/// The variable that names the S3-compatible server the S3 half of the
/// content tests runs against (for example `moto_server`'s
/// `http://127.0.0.1:5055`).
pub const S3_ENDPOINT_VAR: &str = "PROCEDO_TEST_S3_ENDPOINT";

/// The bucket the S3 tests share, each under a prefix of its own.
const S3_BUCKET: &str = "procedo-test";

/// Where a test service keeps content.
#[derive(Debug, Clone)]
pub enum TestStore {
    /// The default: `document-content` in the data folder.
    Filesystem,
    /// A prefix of its own in a bucket of the S3-compatible server.
    S3 { endpoint: String, prefix: String },
}

impl TestStore {
    /// A fresh prefix on the server `PROCEDO_TEST_S3_ENDPOINT` names (the
    /// bucket is made when missing); fails when it is not set.
    pub async fn s3() -> TestStore {
        let endpoint = std::env::var(S3_ENDPOINT_VAR)
            .ok()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| panic!("{S3_ENDPOINT_VAR} must be set for the S3 tests"));
        // A test server takes an unsigned bucket creation; one that exists
        // already answers with a conflict, which is as good.
        reqwest::Client::new()
            .put(format!("{endpoint}/{S3_BUCKET}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("the S3 server {endpoint} cannot be reached: {e}"));
        TestStore::S3 {
            endpoint,
            prefix: format!("test-{}", uuid::Uuid::now_v7().simple()),
        }
    }

    fn configure(&self, config: &mut Config<DocumentArgs>) {
        if let TestStore::S3 { endpoint, prefix } = self {
            config.service.store = Some(format!("s3://{S3_BUCKET}/{prefix}"));
            config.service.s3_endpoint = Some(endpoint.clone());
            config.service.s3_access_key_id = Some("test".into());
            config.service.s3_secret_access_key = Some("test".into());
        }
    }
}

/// A running document service with its own database and content store.
pub struct TestDocument {
    pub server: TestService,
    pub tokens: Tokens,
    pub database: TestDatabase,
    pub store: TestStore,
}

impl TestDocument {
    pub async fn spawn(backend: Backend) -> TestDocument {
        TestDocument::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config<DocumentArgs>),
    ) -> TestDocument {
        TestDocument::spawn_on(backend, TestStore::Filesystem, configure).await
    }

    /// A service keeping its content in `store`.
    pub async fn spawn_on(
        backend: Backend,
        store: TestStore,
        configure: impl FnOnce(&mut Config<DocumentArgs>),
    ) -> TestDocument {
        let database = TestDatabase::new(backend, "document");
        let server = TestService::spawn::<DocumentService>(&database, |c| {
            store.configure(c);
            configure(c);
        })
        .await;
        TestDocument {
            server,
            tokens: Tokens::default(),
            database,
            store,
        }
    }

    /// Another replica on the same database and content store.
    pub async fn replica(&self) -> TestService {
        self.replica_with(|_| {}).await
    }

    /// A second replica, configured by `configure`.
    pub async fn replica_with(
        &self,
        configure: impl FnOnce(&mut Config<DocumentArgs>),
    ) -> TestService {
        TestService::spawn::<DocumentService>(&self.database, |c| {
            self.store.configure(c);
            configure(c);
        })
        .await
    }

    /// Stops the service and starts it again on the same database and
    /// store, configured by `configure`.
    pub async fn restart_with(&mut self, configure: impl FnOnce(&mut Config<DocumentArgs>)) {
        self.server.stop().await;
        let store = &self.store;
        self.server = TestService::spawn::<DocumentService>(&self.database, |c| {
            store.configure(c);
            configure(c);
        })
        .await;
    }

    /// Every object in the content store, by name — in a folder, the
    /// half-written parts of uploads too.
    pub async fn stored_objects(&self) -> Vec<String> {
        match &self.store {
            TestStore::Filesystem => {
                let root = self.database.data_dir().join("document-content");
                let mut out = Vec::new();
                walk(&root, &mut out);
                out.iter()
                    .map(|p| p.strip_prefix(&root).unwrap_or(p).display().to_string())
                    .collect()
            }
            TestStore::S3 { endpoint, prefix } => {
                use futures::TryStreamExt as _;
                use object_store::ObjectStore as _;
                let bucket = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(S3_BUCKET)
                    .with_endpoint(endpoint)
                    .with_allow_http(true)
                    .with_region("us-east-1")
                    .with_access_key_id("test")
                    .with_secret_access_key("test")
                    .build()
                    .expect("an S3 client");
                let listed: Vec<_> = bucket
                    .list(Some(&object_store::path::Path::from(prefix.as_str())))
                    .try_collect()
                    .await
                    .expect("the bucket is listed");
                let mut names: Vec<String> = listed
                    .into_iter()
                    .map(|m| {
                        m.location
                            .as_ref()
                            .trim_start_matches(prefix.as_str())
                            .to_owned()
                    })
                    .collect();
                // Multipart uploads begun and never completed or aborted
                // are no objects, but are kept (and paid for) all the same.
                let incomplete =
                    reqwest::get(format!("{endpoint}/{S3_BUCKET}?uploads&prefix={prefix}/"))
                        .await
                        .expect("the multipart uploads are listed")
                        .text()
                        .await
                        .expect("a listing");
                names.extend(incomplete.split("<Upload>").skip(1).map(|u| {
                    format!(
                        "incomplete upload {}",
                        u.split("</Key>").next().unwrap_or(u)
                    )
                }));
                names
            }
        }
    }

    /// A client calling as a person of department "ops" holding `role`.
    pub fn client(&self, role: Role) -> DocumentClient {
        self.with_token(self.tokens.token(role))
    }

    /// A client calling as `subject` of `department`, cleared to
    /// `clearance`.
    pub fn person(
        &self,
        subject: &str,
        department: &str,
        roles: &[Role],
        clearance: Clearance,
    ) -> DocumentClient {
        self.with_token(self.tokens.cleared(subject, department, roles, clearance))
    }

    pub fn with_token(&self, token: String) -> DocumentClient {
        DocumentServiceClient::with_interceptor(self.server.channel.clone(), Bearer(Some(token)))
    }

    /// Creates category `code` numbered by `pattern`.
    pub async fn category(
        &self,
        code: &str,
        pattern: &str,
        reset: pb::NumberReset,
    ) -> pb::Category {
        self.client(Role::Admin)
            .create_category(pb::CreateCategoryRequest {
                request_id: String::new(),
                category: Some(category(code, pattern, reset)),
            })
            .await
            .expect("the category is created")
            .into_inner()
    }
}

fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Runs each named `async fn name(backend: Backend, store: TestStore)` as
/// `sqlite::name` and `postgres::name` on the filesystem store, and as
/// `s3::name` (on SQLite) in a bucket — ignored unless asked for, and then
/// failing without `PROCEDO_TEST_S3_ENDPOINT`.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(procedo_testkit::Backend::Sqlite, $crate::helpers::TestStore::Filesystem).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set PROCEDO_TEST_POSTGRES_URL and run ignored tests"]
                async fn $name() {
                    super::$name(procedo_testkit::Backend::Postgres, $crate::helpers::TestStore::Filesystem).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs an S3-compatible server: set PROCEDO_TEST_S3_ENDPOINT and run ignored tests"]
                async fn $name() {
                    super::$name(procedo_testkit::Backend::Sqlite, $crate::helpers::TestStore::s3().await).await;
                }
            )*
        }
    };
}

pub fn category(code: &str, pattern: &str, reset: pb::NumberReset) -> pb::Category {
    pb::Category {
        code: code.into(),
        display_name: format!("{code} documents"),
        number_pattern: pattern.into(),
        number_reset: reset as i32,
        default_confidentiality: common::Clearance::Internal as i32,
        retention_years: 10,
        ..Default::default()
    }
}

pub fn register(category: &str, title: &str) -> pb::RegisterDocumentRequest {
    pb::RegisterDocumentRequest {
        category: format!("categories/{category}"),
        title: title.into(),
        ..Default::default()
    }
}

/// Uploads `content` to `document` in chunks of `chunk` bytes.
pub async fn upload(
    client: &mut DocumentClient,
    document: &pb::Document,
    content: &[u8],
    chunk: usize,
) -> Result<pb::DocumentVersion, tonic::Status> {
    let mut messages = vec![pb::UploadVersionRequest {
        part: Some(pb::upload_version_request::Part::Metadata(
            pb::UploadMetadata {
                document: document.name.clone(),
                etag: document.etag.clone(),
                media_type: "text/plain".into(),
                file_name: "contract.txt".into(),
                change_summary: "first draft".into(),
                ..Default::default()
            },
        )),
    }];
    messages.extend(
        content
            .chunks(chunk.max(1))
            .map(|c| pb::UploadVersionRequest {
                part: Some(pb::upload_version_request::Part::Chunk(c.to_vec())),
            }),
    );
    client
        .upload_version(futures::stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}

/// Downloads `name` whole: the version and the content.
pub async fn download(
    client: &mut DocumentClient,
    name: &str,
) -> Result<(pb::DocumentVersion, Vec<u8>), tonic::Status> {
    use futures::StreamExt as _;
    let mut stream = client
        .download_version(pb::DownloadVersionRequest { name: name.into() })
        .await?
        .into_inner();
    let mut version = None;
    let mut content = Vec::new();
    while let Some(message) = stream.next().await {
        match message?.part {
            Some(pb::download_version_response::Part::Version(v)) => version = Some(v),
            Some(pb::download_version_response::Part::Chunk(c)) => content.extend(c),
            None => {}
        }
    }
    Ok((version.expect("the version comes first"), content))
}

/// A document of category "contract" with one version, approved in
/// review by "qian" of legal.
pub async fn approved(app: &TestDocument, li: &mut DocumentClient) -> pb::Document {
    let d = li
        .register_document(register("contract", "Supply contract"))
        .await
        .expect("registered")
        .into_inner();
    upload(li, &d, b"the agreed terms, version one", 7)
        .await
        .expect("uploaded");
    let d = li
        .get_document(pb::GetDocumentRequest { name: d.name })
        .await
        .expect("read")
        .into_inner();
    let round = li
        .submit_for_review(pb::SubmitForReviewRequest {
            document: d.name.clone(),
            seats: vec![pb::ReviewerSeat {
                seat: Some(pb::reviewer_seat::Seat::Reviewer("qian".into())),
            }],
            ..Default::default()
        })
        .await
        .expect("submitted")
        .into_inner();
    app.person("qian", "legal", &[Role::Reviewer], Clearance::Internal)
        .decide_review(pb::DecideReviewRequest {
            round: round.name,
            decision: pb::ReviewDecision::Approve as i32,
            ..Default::default()
        })
        .await
        .expect("approved");
    li.get_document(pb::GetDocumentRequest { name: d.name })
        .await
        .expect("read")
        .into_inner()
}

/// The field paths of an INVALID_ARGUMENT's `BadRequest` details.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt as _;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
