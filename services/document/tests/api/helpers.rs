//! One way to start the document service for a test: [`TestDocument::spawn`].

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

/// A running document service with its own database and content folder.
pub struct TestDocument {
    pub server: TestService,
    pub tokens: Tokens,
    pub database: TestDatabase,
}

impl TestDocument {
    pub async fn spawn(backend: Backend) -> TestDocument {
        TestDocument::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config<DocumentArgs>),
    ) -> TestDocument {
        let database = TestDatabase::new(backend, "document");
        let server = TestService::spawn::<DocumentService>(&database, configure).await;
        TestDocument {
            server,
            tokens: Tokens::default(),
            database,
        }
    }

    /// Another replica on the same database and content folder.
    pub async fn replica(&self) -> TestService {
        TestService::spawn::<DocumentService>(&self.database, |_| {}).await
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
