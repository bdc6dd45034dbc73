//! `procedo document …`: categories, registration, content up and down,
//! versions, search and voiding from the command line.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use futures::StreamExt as _;
use procedo_proto::common;
use procedo_proto::document as pb;
use procedo_proto::document::document_service_client::DocumentServiceClient;
use tokio::io::AsyncReadExt as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::client::{Auth, Connection, DOCUMENT};
use crate::output::{self, Format, time};

type Client = DocumentServiceClient<InterceptedService<Channel, Auth>>;

/// Bytes per upload message.
const UPLOAD_CHUNK: usize = 256 * 1024;

#[derive(Debug, Args)]
pub struct DocumentCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Document categories and their numbering rules.
    Categories {
        #[command(subcommand)]
        action: CategoriesAction,
    },
    /// Register a document: its number is given at once.
    Register {
        /// The category's code, e.g. contract.
        #[arg(long)]
        category: String,
        /// The document's title.
        #[arg(long)]
        title: String,
        /// The owning department; yours when unset.
        #[arg(long, default_value = "")]
        department: String,
        /// public, internal, confidential or secret; the category's default
        /// when unset.
        #[arg(long, value_parser = parse_level)]
        confidentiality: Option<common::Clearance>,
        /// A tag; repeat.
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// A related resource, e.g. applications/<id>; repeat.
        #[arg(long = "related")]
        related: Vec<String>,
        /// A subject who may see a confidential document though outside its
        /// department; repeat.
        #[arg(long = "grantee")]
        grantees: Vec<String>,
    },
    /// Upload a file as the next version of a document.
    Upload {
        /// documents/<id>
        document: String,
        /// The file holding the new version's content.
        file: PathBuf,
        /// e.g. application/pdf.
        #[arg(long, default_value = "")]
        media_type: String,
        /// What changed since the previous version.
        #[arg(long, default_value = "")]
        summary: String,
    },
    /// Download a version (documents/<id> for the current one, or
    /// documents/<id>/versions/<n>).
    Download {
        /// The document (documents/{id}).
        name: String,
        /// The file to write; `-` for standard output. An existing file is
        /// replaced only once the download is complete.
        #[arg(long)]
        out: PathBuf,
    },
    /// Show one document.
    Get {
        /// The document (documents/{id}) or its number.
        name: String,
    },
    /// A document's versions, newest first.
    Versions {
        /// The document (documents/{id}).
        document: String,
    },
    /// Find documents (newest first) among those you may see.
    List {
        /// A number, or a prefix ending in * (HT-2026-*).
        #[arg(long, default_value = "")]
        number: String,
        /// Words of the title.
        #[arg(long, default_value = "")]
        title: String,
        /// Only this category's (its code).
        #[arg(long, default_value = "")]
        category: String,
        /// Only this owning department's.
        #[arg(long, default_value = "")]
        department: String,
        /// Only documents with this tag.
        #[arg(long, default_value = "")]
        tag: String,
        /// Only documents related to this one (documents/{id}).
        #[arg(long, default_value = "")]
        related: String,
    },
    /// Void a draft or an approved document, keeping its number with the
    /// reason.
    Void {
        /// The document (documents/{id}).
        name: String,
        /// Why it is voided (kept with its number).
        #[arg(long)]
        reason: String,
    },
    /// Review rounds: submit, comment, decide, see the history.
    Review {
        #[command(subcommand)]
        action: ReviewAction,
    },
    /// Sign the current version of an approved document.
    Sign {
        /// The document (documents/{id}).
        document: String,
        /// approve, issue or accept.
        #[arg(long, default_value = "approve", value_parser = ["approve", "issue", "accept"])]
        intent: String,
    },
    /// A document's signatures; with -o json, the bundle `verify` checks.
    Signatures {
        /// The document (documents/{id}).
        document: String,
    },
    /// The keys signatures are made with; with -o json, the keys file
    /// `verify` checks against.
    Keys,
    /// Check a version's stored content and signatures on the service.
    Check {
        /// documents/<id> or documents/<id>/versions/<n>.
        name: String,
    },
    /// Archive a signed (or, when its category requires no signature,
    /// approved) document (archivist).
    Archive {
        /// The document (documents/{id}).
        document: String,
        /// Where the paper original goes: room.
        #[arg(long, default_value = "")]
        room: String,
        /// The shelf the paper original is kept on.
        #[arg(long, default_value = "")]
        shelf: String,
        /// The box the paper original is kept in.
        #[arg(long = "box", default_value = "")]
        box_: String,
    },
    /// Ask to dispose of an archived document whose retention has passed
    /// (archivist).
    RequestDisposal {
        /// The document (documents/{id}).
        document: String,
        /// Why it should be disposed of.
        #[arg(long)]
        reason: String,
    },
    /// Approve a requested disposal (a department head of the owning
    /// department): the content is removed, a tombstone stays.
    ApproveDisposal {
        /// The document (documents/{id}).
        document: String,
    },
    /// Ask to borrow an archived document (by name, or --number when you
    /// cannot see it yet).
    Borrow {
        /// documents/<id>; empty with --number.
        #[arg(default_value = "")]
        document: String,
        /// The document's number, when you cannot see the document yet.
        #[arg(long, default_value = "")]
        number: String,
        /// view, copy or paper.
        #[arg(long, value_parser = ["view", "copy", "paper"])]
        scope: String,
        /// Why you need it.
        #[arg(long)]
        purpose: String,
        /// How long: 5wd (working days), 8wh (working hours), 72h.
        #[arg(long, value_parser = procedo_platform::calendar::Limit::parse)]
        period: procedo_platform::calendar::Limit,
    },
    /// Change a draft's title, tags, related resources or grantees (its
    /// author or a head of its department); a list given replaces the old.
    Update {
        /// The document (documents/{id}).
        name: String,
        /// A new title.
        #[arg(long)]
        title: Option<String>,
        /// A tag; repeat. Replaces the tags.
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// A related resource, e.g. applications/{id}; repeat. Replaces them.
        #[arg(long = "related")]
        related: Vec<String>,
        /// Someone granted access (a subject); repeat. Replaces them.
        #[arg(long = "grantee")]
        grantees: Vec<String>,
        /// The document's etag: refuse if it changed meanwhile (the
        /// current one when unset).
        #[arg(long)]
        etag: Option<String>,
    },
    /// Record where an archived document's paper original is (archivist);
    /// no location given: there is none any more.
    Paper {
        /// The document (documents/{id}).
        document: String,
        /// The room.
        #[arg(long, default_value = "")]
        room: String,
        /// The shelf.
        #[arg(long, default_value = "")]
        shelf: String,
        /// The box.
        #[arg(long = "box", default_value = "")]
        box_: String,
    },
    /// Show one loan.
    Loan {
        /// The loan (loans/{id}).
        name: String,
    },
    /// Loans: all of them for archivists and auditors, else your own.
    Loans {
        /// Only active loans past their due time.
        #[arg(long)]
        overdue: bool,
    },
    /// Approve or reject what a loan waits for (loans/<id>).
    DecideLoan {
        /// The loan (loans/{id}).
        loan: String,
        /// Reject instead of approve.
        #[arg(long)]
        reject: bool,
        /// Why (required when rejecting).
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Ask for more time on your loan.
    Renew {
        /// The loan (loans/{id}).
        loan: String,
        /// The time added: 2wd, 8wh, 48h.
        #[arg(long, value_parser = procedo_platform::calendar::Limit::parse)]
        period: procedo_platform::calendar::Limit,
        /// Why more time is needed.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Take a loan back (archivist): the paper's condition, or the returned
    /// copy (its SHA-256 is compared with the archived version).
    Return {
        /// The loan (loans/{id}).
        loan: String,
        /// The paper original's condition.
        #[arg(long, default_value = "")]
        condition: String,
        /// The returned copy, whose SHA-256 is compared.
        #[arg(long)]
        copy: Option<PathBuf>,
    },
    /// Check a downloaded file against its signature bundle with the
    /// published keys, offline: nothing is asked of the service.
    Verify {
        /// The downloaded file to check.
        file: PathBuf,
        /// `procedo document signatures <document> -o json` saved.
        #[arg(long)]
        bundle: PathBuf,
        /// `procedo document keys -o json` saved.
        #[arg(long)]
        keys: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ReviewAction {
    /// Submit the current version of a draft for review.
    Submit {
        /// documents/<id>
        document: String,
        /// A named reviewer (their subject); repeat.
        #[arg(long = "reviewer")]
        reviewers: Vec<String>,
        /// A seat any holder of a role in a department fills, as
        /// department:role (e.g. legal:reviewer); repeat.
        #[arg(long = "pool")]
        pools: Vec<String>,
    },
    /// Comment on a round (documents/<id>/reviewRounds/<n>).
    Comment {
        /// The review round (documents/{id}/reviewRounds/{n}).
        round: String,
        /// The comment.
        #[arg(long)]
        text: String,
        /// Where, e.g. "p. 3, §2.1".
        #[arg(long, default_value = "")]
        anchor: String,
        /// accuracy, format, compliance or other.
        #[arg(long, default_value = "other", value_parser = ["accuracy", "format", "compliance", "other"])]
        aspect: String,
    },
    /// Approve the version under review.
    Approve {
        /// The review round (documents/{id}/reviewRounds/{n}).
        round: String,
        /// A comment kept with the approval.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Send it back: say what must change.
    RequestChanges {
        /// The review round (documents/{id}/reviewRounds/{n}).
        round: String,
        /// What must change.
        #[arg(long)]
        comment: String,
    },
    /// Show one round with its seats.
    Round {
        /// The review round (documents/{id}/reviewRounds/{n}).
        round: String,
    },
    /// A round's comments, oldest first.
    Comments {
        /// The review round (documents/{id}/reviewRounds/{n}).
        round: String,
    },
    /// A document's rounds, newest first, with their seats' decisions.
    Rounds {
        /// The document (documents/{id}).
        document: String,
    },
}

#[derive(Debug, Subcommand)]
enum CategoriesAction {
    /// Every category.
    List,
    /// Show one category.
    Get {
        /// The category's code (or categories/{code}).
        code: String,
    },
    /// Change a category (admin): only what is given changes; a changed
    /// numbering rule applies to documents registered afterwards.
    Update {
        /// The category's code (or categories/{code}).
        code: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new numbering pattern, e.g. "HT-{year}-{seq:6}".
        #[arg(long)]
        pattern: Option<String>,
        /// Restart the sequence every year (true) or never (false).
        #[arg(long)]
        yearly: Option<bool>,
        /// public, internal, confidential or secret.
        #[arg(long, value_parser = parse_level)]
        confidentiality: Option<common::Clearance>,
        /// Years an archived document is kept; 0 for ever.
        #[arg(long)]
        retention_years: Option<i32>,
    },
    /// Create a category (admin).
    Create {
        /// The category's code (lower-case letters, digits, dashes), e.g.
        /// contract.
        #[arg(long)]
        code: String,
        /// The category's name.
        #[arg(long)]
        name: String,
        /// e.g. "HT-{year}-{seq:6}"; placeholders {category}, {year},
        /// {department}, {seq:N}.
        #[arg(long)]
        pattern: String,
        /// Start the sequence again every year ({year} must be in the
        /// pattern); otherwise it never restarts.
        #[arg(long)]
        yearly: bool,
        /// public, internal, confidential or secret.
        #[arg(long, default_value = "internal", value_parser = parse_level)]
        confidentiality: common::Clearance,
        /// Years an archived document is kept; 0 for ever.
        #[arg(long, default_value_t = 0)]
        retention_years: i32,
    },
}

fn parse_level(s: &str) -> Result<common::Clearance, String> {
    match s {
        "public" => Ok(common::Clearance::Public),
        "internal" => Ok(common::Clearance::Internal),
        "confidential" => Ok(common::Clearance::Confidential),
        "secret" => Ok(common::Clearance::Secret),
        _ => Err(format!(
            "{s:?} is not a level: public, internal, confidential or secret"
        )),
    }
}

fn level(value: i32) -> String {
    common::Clearance::try_from(value).map_or_else(
        |_| value.to_string(),
        |c| {
            c.as_str_name()
                .trim_start_matches("CLEARANCE_")
                .to_lowercase()
        },
    )
}

fn status(value: i32) -> String {
    pb::DocumentStatus::try_from(value).map_or_else(
        |_| value.to_string(),
        |s| {
            s.as_str_name()
                .trim_start_matches("DOCUMENT_STATUS_")
                .to_owned()
        },
    )
}

pub async fn run(command: DocumentCommand) -> anyhow::Result<()> {
    if let Action::Verify { file, bundle, keys } = &command.action {
        return verify_offline(file, bundle, keys);
    }
    let connection = command.connection;
    let format = connection.output;
    let channel = connection.channel(DOCUMENT).await?;
    let mut client: Client = DocumentServiceClient::with_interceptor(channel, connection.auth())
        .max_decoding_message_size(64 << 20);
    match command.action {
        Action::Categories { action } => categories(&mut client, format, action).await,
        Action::Register {
            category,
            title,
            department,
            confidentiality,
            tags,
            related,
            grantees,
        } => {
            let d = client
                .register_document(pb::RegisterDocumentRequest {
                    request_id: output::request_id(),
                    category: format!("categories/{category}"),
                    title,
                    owning_department: department,
                    confidentiality: confidentiality.map_or(0, |c| c as i32),
                    tags,
                    related,
                    grantees,
                })
                .await?
                .into_inner();
            show(format, &d)
        }
        Action::Upload {
            document,
            file,
            media_type,
            summary,
        } => {
            let version = upload(&mut client, &document, &file, media_type, summary).await?;
            output::record(
                format,
                &version,
                "procedo.document.v1.DocumentVersion",
                vec![
                    ("name", version.name.clone()),
                    ("sha256", version.content_sha256.clone()),
                    ("size", version.size_bytes.to_string()),
                    ("media type", version.media_type.clone()),
                ],
            )
        }
        Action::Download { name, out } => download(&mut client, &name, &out).await,
        Action::Get { name } => {
            let d = client
                .get_document(pb::GetDocumentRequest { name })
                .await?
                .into_inner();
            show(format, &d)
        }
        Action::Update {
            name,
            title,
            tags,
            related,
            grantees,
            etag,
        } => {
            let current = client
                .get_document(pb::GetDocumentRequest { name: name.clone() })
                .await?
                .into_inner();
            let keep = |given: Vec<String>, current: Vec<String>| {
                if given.is_empty() { current } else { given }
            };
            let d = client
                .update_document(pb::UpdateDocumentRequest {
                    request_id: output::request_id(),
                    name,
                    etag: etag.unwrap_or(current.etag),
                    title: title.unwrap_or(current.title),
                    tags: keep(tags, current.tags),
                    related: keep(related, current.related),
                    grantees: keep(grantees, current.grantees),
                })
                .await?
                .into_inner();
            show(format, &d)
        }
        Action::Paper {
            document,
            room,
            shelf,
            box_,
        } => {
            let paper_location = (!room.is_empty() || !shelf.is_empty() || !box_.is_empty())
                .then_some(pb::PaperLocation {
                    room,
                    shelf,
                    r#box: box_,
                });
            let d = client
                .update_paper_location(pb::UpdatePaperLocationRequest {
                    request_id: output::request_id(),
                    document,
                    etag: String::new(),
                    paper_location,
                })
                .await?
                .into_inner();
            show(format, &d)
        }
        Action::Loan { name } => {
            let loan = client
                .get_loan(pb::GetLoanRequest {
                    name: output::named("loans", &name),
                })
                .await?
                .into_inner();
            show_loan(format, &loan)
        }
        Action::Versions { document } => {
            let request = pb::ListVersionsRequest {
                document,
                ..Default::default()
            };
            let versions = crate::list_all!(client, list_versions, request, versions).await?;
            let list = pb::ListVersionsResponse {
                versions,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.document.v1.ListVersionsResponse",
                &[
                    "VERSION", "SHA256", "SIZE", "TYPE", "AUTHOR", "TIME", "SUMMARY",
                ],
                || {
                    list.versions
                        .iter()
                        .map(|v| {
                            vec![
                                v.version.to_string(),
                                v.content_sha256.clone(),
                                v.size_bytes.to_string(),
                                v.media_type.clone(),
                                v.author
                                    .as_ref()
                                    .map(|a| a.subject.clone())
                                    .unwrap_or_default(),
                                time(v.create_time.as_ref()),
                                v.change_summary.clone(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Action::List {
            number,
            title,
            category,
            department,
            tag,
            related,
        } => {
            let request = pb::ListDocumentsRequest {
                number,
                title_words: title,
                category: if category.is_empty() {
                    String::new()
                } else {
                    format!("categories/{category}")
                },
                owning_department: department,
                tag,
                related,
                ..Default::default()
            };
            let documents = crate::list_all!(client, list_documents, request, documents).await?;
            let list = pb::ListDocumentsResponse {
                documents,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.document.v1.ListDocumentsResponse",
                &[
                    "NUMBER",
                    "TITLE",
                    "DEPARTMENT",
                    "LEVEL",
                    "STATUS",
                    "VERSION",
                    "NAME",
                ],
                || {
                    list.documents
                        .iter()
                        .map(|d| {
                            vec![
                                d.number.clone(),
                                d.title.clone(),
                                d.owning_department.clone(),
                                level(d.confidentiality),
                                status(d.status),
                                d.current_version.to_string(),
                                d.name.clone(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Action::Review { action } => review(&mut client, format, action).await,
        Action::Sign { document, intent } => {
            let intent = match intent.as_str() {
                "issue" => pb::SignatureIntent::Issue,
                "accept" => pb::SignatureIntent::Accept,
                _ => pb::SignatureIntent::Approve,
            };
            let s = client
                .sign_document(pb::SignDocumentRequest {
                    request_id: output::request_id(),
                    document,
                    etag: String::new(),
                    intent: intent as i32,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &s,
                "procedo.document.v1.Signature",
                vec![
                    ("name", s.name.clone()),
                    ("version", s.version.to_string()),
                    ("sha256", s.content_sha256.clone()),
                    ("key", s.key_id.clone()),
                ],
            )
        }
        Action::Signatures { document } => {
            let list = client
                .list_signatures(pb::ListSignaturesRequest { document })
                .await?
                .into_inner();
            output::listing(
                format,
                &list,
                "procedo.document.v1.ListSignaturesResponse",
                &[
                    "NAME",
                    "VERSION",
                    "SIGNER",
                    "TITLE",
                    "DEPARTMENT",
                    "INTENT",
                    "TIME",
                    "KEY",
                ],
                || {
                    list.signatures
                        .iter()
                        .map(|s| {
                            let signer = s.signer.clone().unwrap_or_default();
                            vec![
                                s.name.clone(),
                                s.version.to_string(),
                                signer.subject,
                                signer.title,
                                signer.department,
                                pb::SignatureIntent::try_from(s.intent).map_or_else(
                                    |_| String::new(),
                                    |i| {
                                        i.as_str_name()
                                            .trim_start_matches("SIGNATURE_INTENT_")
                                            .to_owned()
                                    },
                                ),
                                time(s.sign_time.as_ref()),
                                s.key_id.clone(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Action::Keys => {
            let list = client
                .list_signing_keys(pb::ListSigningKeysRequest {})
                .await?
                .into_inner();
            output::listing(
                format,
                &list,
                "procedo.document.v1.ListSigningKeysResponse",
                &["KEY", "ACTIVE", "PUBLIC KEY", "SINCE"],
                || {
                    list.keys
                        .iter()
                        .map(|k| {
                            vec![
                                k.key_id.clone(),
                                if k.active { "yes" } else { "" }.to_owned(),
                                k.public_key.clone(),
                                time(k.create_time.as_ref()),
                            ]
                        })
                        .collect()
                },
            )
        }
        Action::Check { name } => {
            let checked = client
                .verify_document(pb::VerifyDocumentRequest { name })
                .await?
                .into_inner();
            if format == Format::Json {
                crate::out!(
                    "{}",
                    output::json(&checked, "procedo.document.v1.VerifyDocumentResponse")?
                );
            } else {
                crate::out!(
                    "version {}: content {}",
                    checked.version,
                    if checked.content_intact {
                        "intact".to_owned()
                    } else {
                        format!(
                            "ALTERED (sha256 {} recorded, {} stored)",
                            checked.recorded_sha256, checked.actual_sha256
                        )
                    }
                );
                for c in &checked.checks {
                    let name = c.signature.as_ref().map(|s| s.name.as_str()).unwrap_or("");
                    if c.valid {
                        crate::out!("{name}: valid");
                    } else {
                        crate::out!("{name}: INVALID — {}", c.problem);
                    }
                }
            }
            anyhow::ensure!(checked.valid, "the document does not verify");
            Ok(())
        }
        Action::Verify { .. } => Ok(()),
        Action::Borrow {
            document,
            number,
            scope,
            purpose,
            period,
        } => {
            let scope = match scope.as_str() {
                "view" => pb::LoanScope::View,
                "copy" => pb::LoanScope::Copy,
                _ => pb::LoanScope::PaperOriginal,
            };
            let loan = client
                .request_loan(pb::RequestLoanRequest {
                    request_id: output::request_id(),
                    document,
                    number,
                    scope: scope as i32,
                    purpose,
                    period: Some(period.to_proto()),
                })
                .await?
                .into_inner();
            show_loan(format, &loan)
        }
        Action::Loans { overdue } => {
            let request = pb::ListLoansRequest {
                overdue_only: overdue,
                ..Default::default()
            };
            let loans = crate::list_all!(client, list_loans, request, loans).await?;
            let list = pb::ListLoansResponse {
                loans,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.document.v1.ListLoansResponse",
                &[
                    "LOAN",
                    "NUMBER",
                    "BORROWER",
                    "STATUS",
                    "DUE",
                    "OVERDUE",
                    "WAITS FOR",
                ],
                || {
                    list.loans
                        .iter()
                        .map(|l| {
                            let deadline = l.deadline.clone().unwrap_or_default();
                            vec![
                                l.name.clone(),
                                l.document_number.clone(),
                                l.borrower
                                    .as_ref()
                                    .map(|b| b.subject.clone())
                                    .unwrap_or_default(),
                                loan_status(l.status),
                                time(deadline.due_time.as_ref()),
                                if deadline.overdue { "yes" } else { "" }.to_owned(),
                                l.approvals_needed.join(", "),
                            ]
                        })
                        .collect()
                },
            )
        }
        Action::DecideLoan {
            loan,
            reject,
            comment,
        } => {
            let loan = client
                .decide_loan(pb::DecideLoanRequest {
                    request_id: output::request_id(),
                    loan,
                    etag: String::new(),
                    decision: if reject {
                        pb::LoanDecision::Reject
                    } else {
                        pb::LoanDecision::Approve
                    } as i32,
                    comment,
                })
                .await?
                .into_inner();
            show_loan(format, &loan)
        }
        Action::Renew {
            loan,
            period,
            reason,
        } => {
            let loan = client
                .request_renewal(pb::RequestRenewalRequest {
                    request_id: output::request_id(),
                    loan,
                    etag: String::new(),
                    period: Some(period.to_proto()),
                    reason,
                })
                .await?
                .into_inner();
            show_loan(format, &loan)
        }
        Action::Return {
            loan,
            condition,
            copy,
        } => {
            let returned_sha256 = match copy {
                Some(path) => procedo_document::offline::sha256(
                    &std::fs::read(&path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                ),
                None => String::new(),
            };
            let loan = client
                .return_loan(pb::ReturnLoanRequest {
                    request_id: output::request_id(),
                    loan,
                    etag: String::new(),
                    condition,
                    returned_sha256,
                })
                .await?
                .into_inner();
            show_loan(format, &loan)
        }
        Action::Archive {
            document,
            room,
            shelf,
            box_,
        } => {
            let paper = (!room.is_empty() || !shelf.is_empty() || !box_.is_empty()).then_some(
                pb::PaperLocation {
                    room,
                    shelf,
                    r#box: box_,
                },
            );
            let d = client
                .archive_document(pb::ArchiveDocumentRequest {
                    request_id: output::request_id(),
                    document,
                    etag: String::new(),
                    paper_location: paper,
                })
                .await?
                .into_inner();
            show(format, &d)
        }
        Action::RequestDisposal { document, reason } => {
            let d = client
                .request_disposal(pb::RequestDisposalRequest {
                    request_id: output::request_id(),
                    document,
                    etag: String::new(),
                    reason,
                })
                .await?
                .into_inner();
            show(format, &d)
        }
        Action::ApproveDisposal { document } => {
            let d = client
                .approve_disposal(pb::ApproveDisposalRequest {
                    request_id: output::request_id(),
                    document,
                    etag: String::new(),
                })
                .await?
                .into_inner();
            show(format, &d)
        }
        Action::Void { name, reason } => {
            let d = client
                .void_document(pb::VoidDocumentRequest {
                    request_id: output::request_id(),
                    name,
                    etag: String::new(),
                    reason,
                })
                .await?
                .into_inner();
            show(format, &d)
        }
    }
}

/// Checks `file` against the signatures in `bundle` with the keys in
/// `keys` (the JSON `signatures -o json` and `keys -o json` print).
fn verify_offline(file: &Path, bundle: &Path, keys: &Path) -> anyhow::Result<()> {
    let content = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let bundle: pb::ListSignaturesResponse =
        output::read_message(bundle, "procedo.document.v1.ListSignaturesResponse")?;
    let keys: pb::ListSigningKeysResponse =
        output::read_message(keys, "procedo.document.v1.ListSigningKeysResponse")?;
    anyhow::ensure!(
        !bundle.signatures.is_empty(),
        "the bundle holds no signature"
    );
    let sha256 = procedo_document::offline::sha256(&content);
    crate::out!("{}: sha256 {sha256}", file.display());
    let mut failed = 0;
    for (name, result) in procedo_document::offline::verify(&sha256, &bundle.signatures, &keys.keys)
    {
        match result {
            Ok(()) => crate::out!("{name}: valid"),
            Err(problem) => {
                failed += 1;
                crate::out!("{name}: INVALID — {problem}");
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} signature(s) do not verify");
    Ok(())
}

async fn review(client: &mut Client, format: Format, action: ReviewAction) -> anyhow::Result<()> {
    let request_id = uuid::Uuid::now_v7().to_string();
    let round = match action {
        ReviewAction::Submit {
            document,
            reviewers,
            pools,
        } => {
            let mut seats: Vec<pb::ReviewerSeat> = reviewers
                .into_iter()
                .map(|r| pb::ReviewerSeat {
                    seat: Some(pb::reviewer_seat::Seat::Reviewer(r)),
                })
                .collect();
            for pool in pools {
                let (department, role) = pool.split_once(':').ok_or_else(|| {
                    anyhow::anyhow!("--pool {pool:?}: give department:role, e.g. legal:reviewer")
                })?;
                seats.push(pb::ReviewerSeat {
                    seat: Some(pb::reviewer_seat::Seat::Pool(pb::ReviewerPool {
                        department: department.to_owned(),
                        role: role.to_owned(),
                    })),
                });
            }
            client
                .submit_for_review(pb::SubmitForReviewRequest {
                    request_id,
                    document,
                    etag: String::new(),
                    seats,
                })
                .await?
                .into_inner()
        }
        ReviewAction::Comment {
            round,
            text,
            anchor,
            aspect,
        } => {
            let aspect = match aspect.as_str() {
                "accuracy" => pb::ReviewAspect::Accuracy,
                "format" => pb::ReviewAspect::Format,
                "compliance" => pb::ReviewAspect::Compliance,
                _ => pb::ReviewAspect::Other,
            };
            let c = client
                .add_review_comment(pb::AddReviewCommentRequest {
                    request_id,
                    round,
                    aspect: aspect as i32,
                    anchor,
                    text,
                })
                .await?
                .into_inner();
            return output::record(
                format,
                &c,
                "procedo.document.v1.ReviewComment",
                vec![("name", c.name.clone()), ("version", c.version.to_string())],
            );
        }
        ReviewAction::Approve { round, comment } => {
            decide(
                client,
                request_id,
                round,
                pb::ReviewDecision::Approve,
                comment,
            )
            .await?
        }
        ReviewAction::RequestChanges { round, comment } => {
            decide(
                client,
                request_id,
                round,
                pb::ReviewDecision::RequestChanges,
                comment,
            )
            .await?
        }
        ReviewAction::Round { round } => {
            let r = client
                .get_review_round(pb::GetReviewRoundRequest { name: round })
                .await?
                .into_inner();
            return output::record(
                format,
                &r,
                "procedo.document.v1.ReviewRound",
                vec![
                    ("name", r.name.clone()),
                    ("version", r.version.to_string()),
                    ("status", round_status(r.status)),
                    ("seats", seats_text(&r)),
                    ("submitted", time(r.submit_time.as_ref())),
                ],
            );
        }
        ReviewAction::Comments { round } => {
            let request = pb::ListReviewCommentsRequest {
                round,
                ..Default::default()
            };
            let comments =
                crate::list_all!(client, list_review_comments, request, comments).await?;
            let list = pb::ListReviewCommentsResponse {
                comments,
                next_page_token: String::new(),
            };
            return output::listing(
                format,
                &list,
                "procedo.document.v1.ListReviewCommentsResponse",
                &["VERSION", "BY", "WHERE", "TEXT", "WHEN"],
                || {
                    list.comments
                        .iter()
                        .map(|c| {
                            vec![
                                c.version.to_string(),
                                c.author
                                    .as_ref()
                                    .map(|a| a.subject.clone())
                                    .unwrap_or_default(),
                                c.anchor.clone(),
                                c.text.clone(),
                                time(c.create_time.as_ref()),
                            ]
                        })
                        .collect()
                },
            );
        }
        ReviewAction::Rounds { document } => {
            let request = pb::ListReviewRoundsRequest {
                document,
                ..Default::default()
            };
            let rounds = crate::list_all!(client, list_review_rounds, request, rounds).await?;
            let list = pb::ListReviewRoundsResponse {
                rounds,
                ..Default::default()
            };
            return output::listing(
                format,
                &list,
                "procedo.document.v1.ListReviewRoundsResponse",
                &["ROUND", "VERSION", "STATUS", "SEATS", "SUBMITTED"],
                || list.rounds.iter().map(round_row).collect(),
            );
        }
    };
    output::record(
        format,
        &round,
        "procedo.document.v1.ReviewRound",
        vec![
            ("name", round.name.clone()),
            ("version", round.version.to_string()),
            ("status", round_status(round.status)),
            ("seats", seats_text(&round)),
        ],
    )
}

async fn decide(
    client: &mut Client,
    request_id: String,
    round: String,
    decision: pb::ReviewDecision,
    comment: String,
) -> anyhow::Result<pb::ReviewRound> {
    Ok(client
        .decide_review(pb::DecideReviewRequest {
            request_id,
            round,
            etag: String::new(),
            decision: decision as i32,
            comment,
        })
        .await?
        .into_inner())
}

fn round_status(value: i32) -> String {
    pb::ReviewRoundStatus::try_from(value).map_or_else(
        |_| value.to_string(),
        |s| {
            s.as_str_name()
                .trim_start_matches("REVIEW_ROUND_STATUS_")
                .to_owned()
        },
    )
}

fn seats_text(round: &pb::ReviewRound) -> String {
    round
        .seats
        .iter()
        .map(|s| {
            let who = match s.seat.as_ref().and_then(|s| s.seat.as_ref()) {
                Some(pb::reviewer_seat::Seat::Reviewer(r)) => r.clone(),
                Some(pb::reviewer_seat::Seat::Pool(p)) => format!("{}:{}", p.department, p.role),
                None => String::new(),
            };
            let decision = pb::ReviewDecision::try_from(s.decision).map_or("?", |d| match d {
                pb::ReviewDecision::Approve => "approved",
                pb::ReviewDecision::RequestChanges => "changes requested",
                pb::ReviewDecision::Unspecified => "waiting",
            });
            format!("{who} {decision}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn round_row(round: &pb::ReviewRound) -> Vec<String> {
    vec![
        round.round.to_string(),
        round.version.to_string(),
        round_status(round.status),
        seats_text(round),
        time(round.submit_time.as_ref()),
    ]
}

async fn categories(
    client: &mut Client,
    format: Format,
    action: CategoriesAction,
) -> anyhow::Result<()> {
    match action {
        CategoriesAction::List => {
            let request = pb::ListCategoriesRequest {
                ..Default::default()
            };
            let categories = crate::list_all!(client, list_categories, request, categories).await?;
            let list = pb::ListCategoriesResponse {
                categories,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.document.v1.ListCategoriesResponse",
                &["CODE", "NAME", "PATTERN", "RESET", "LEVEL", "RETENTION"],
                || {
                    list.categories
                        .iter()
                        .map(|c| {
                            vec![
                                c.code.clone(),
                                c.display_name.clone(),
                                c.number_pattern.clone(),
                                pb::NumberReset::try_from(c.number_reset).map_or_else(
                                    |_| String::new(),
                                    |r| {
                                        r.as_str_name()
                                            .trim_start_matches("NUMBER_RESET_")
                                            .to_owned()
                                    },
                                ),
                                level(c.default_confidentiality),
                                c.retention_years.to_string(),
                            ]
                        })
                        .collect()
                },
            )
        }
        CategoriesAction::Get { code } => {
            let c = client
                .get_category(pb::GetCategoryRequest {
                    name: output::named("categories", &code),
                })
                .await?
                .into_inner();
            show_category(format, &c)
        }
        CategoriesAction::Update {
            code,
            name,
            pattern,
            yearly,
            confidentiality,
            retention_years,
        } => {
            let mut c = client
                .get_category(pb::GetCategoryRequest {
                    name: output::named("categories", &code),
                })
                .await?
                .into_inner();
            if let Some(name) = name {
                c.display_name = name;
            }
            if let Some(pattern) = pattern {
                c.number_pattern = pattern;
            }
            if let Some(yearly) = yearly {
                c.number_reset = if yearly {
                    pb::NumberReset::Yearly
                } else {
                    pb::NumberReset::Never
                } as i32;
            }
            if let Some(level) = confidentiality {
                c.default_confidentiality = level as i32;
            }
            if let Some(years) = retention_years {
                c.retention_years = years;
            }
            let etag = c.etag.clone();
            let c = client
                .update_category(pb::UpdateCategoryRequest {
                    request_id: output::request_id(),
                    category: Some(c),
                    etag,
                })
                .await?
                .into_inner();
            show_category(format, &c)
        }
        CategoriesAction::Create {
            code,
            name,
            pattern,
            yearly,
            confidentiality,
            retention_years,
        } => {
            let c = client
                .create_category(pb::CreateCategoryRequest {
                    request_id: output::request_id(),
                    category: Some(pb::Category {
                        code,
                        display_name: name,
                        number_pattern: pattern,
                        number_reset: if yearly {
                            pb::NumberReset::Yearly
                        } else {
                            pb::NumberReset::Never
                        } as i32,
                        default_confidentiality: confidentiality as i32,
                        retention_years,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            output::record(
                format,
                &c,
                "procedo.document.v1.Category",
                vec![
                    ("name", c.name.clone()),
                    ("pattern", c.number_pattern.clone()),
                    ("level", level(c.default_confidentiality)),
                ],
            )
        }
    }
}

fn loan_status(value: i32) -> String {
    pb::LoanStatus::try_from(value).map_or_else(
        |_| value.to_string(),
        |s| {
            s.as_str_name()
                .trim_start_matches("LOAN_STATUS_")
                .to_owned()
        },
    )
}

fn show_category(format: Format, c: &pb::Category) -> anyhow::Result<()> {
    output::record(
        format,
        c,
        "procedo.document.v1.Category",
        vec![
            ("name", c.name.clone()),
            ("title", c.display_name.clone()),
            ("pattern", c.number_pattern.clone()),
            (
                "reset",
                pb::NumberReset::try_from(c.number_reset)
                    .map(|r| {
                        r.as_str_name()
                            .trim_start_matches("NUMBER_RESET_")
                            .to_owned()
                    })
                    .unwrap_or_default(),
            ),
            ("level", level(c.default_confidentiality)),
            ("retention years", c.retention_years.to_string()),
            ("etag", c.etag.clone()),
        ],
    )
}

fn show_loan(format: Format, l: &pb::Loan) -> anyhow::Result<()> {
    let deadline = l.deadline.clone().unwrap_or_default();
    output::record(
        format,
        l,
        "procedo.document.v1.Loan",
        vec![
            ("loan", l.name.clone()),
            (
                "document",
                format!("{} ({})", l.document_number, l.document),
            ),
            ("status", loan_status(l.status)),
            ("waits for", l.approvals_needed.join(", ")),
            ("due", time(deadline.due_time.as_ref())),
            ("overdue", deadline.overdue.to_string()),
            (
                "integrity",
                pb::IntegrityCheck::try_from(l.integrity).map_or_else(
                    |_| String::new(),
                    |i| {
                        i.as_str_name()
                            .trim_start_matches("INTEGRITY_CHECK_")
                            .to_owned()
                    },
                ),
            ),
            ("etag", l.etag.clone()),
        ],
    )
}

fn show(format: Format, d: &pb::Document) -> anyhow::Result<()> {
    output::record(
        format,
        d,
        "procedo.document.v1.Document",
        vec![
            ("number", d.number.clone()),
            ("name", d.name.clone()),
            ("title", d.title.clone()),
            ("category", d.category.clone()),
            ("department", d.owning_department.clone()),
            ("confidentiality", level(d.confidentiality)),
            ("status", status(d.status)),
            ("version", d.current_version.to_string()),
            ("tags", d.tags.join(", ")),
            ("related", d.related.join(", ")),
            ("void reason", d.void_reason.clone()),
            (
                "archived",
                d.archive
                    .as_ref()
                    .map(|a| {
                        let paper = a
                            .paper_location
                            .as_ref()
                            .map(|p| {
                                format!(
                                    "; paper: room {} shelf {} box {}",
                                    p.room, p.shelf, p.r#box
                                )
                            })
                            .unwrap_or_default();
                        format!(
                            "{} until {}{paper}",
                            time(a.archive_time.as_ref()),
                            a.retain_until
                                .as_ref()
                                .map_or_else(|| "for ever".to_owned(), |t| time(Some(t))),
                        )
                    })
                    .unwrap_or_default(),
            ),
            (
                "disposal",
                d.disposal
                    .as_ref()
                    .map(|x| {
                        format!(
                            "{} (asked by {}{})",
                            x.reason,
                            x.requested_by
                                .as_ref()
                                .map(|a| a.subject.as_str())
                                .unwrap_or(""),
                            x.approved_by
                                .as_ref()
                                .map(|a| format!(", approved by {}", a.subject))
                                .unwrap_or_default()
                        )
                    })
                    .unwrap_or_default(),
            ),
            ("etag", d.etag.clone()),
        ],
    )
}

/// Streams `file` as the next version of `document`, with a progress bar.
async fn upload(
    client: &mut Client,
    document: &str,
    file: &PathBuf,
    media_type: String,
    change_summary: String,
) -> anyhow::Result<pb::DocumentVersion> {
    let opened = tokio::fs::File::open(file)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let length = opened.metadata().await?.len();
    let progress = indicatif::ProgressBar::new(length);
    progress.set_style(indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}) {elapsed}",
    )?);
    let metadata = pb::UploadVersionRequest {
        part: Some(pb::upload_version_request::Part::Metadata(
            pb::UploadMetadata {
                document: document.to_owned(),
                etag: String::new(),
                request_id: output::request_id(),
                media_type,
                file_name: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                change_summary,
            },
        )),
    };
    let shown = progress.clone();
    let chunks = futures::stream::unfold(opened, move |mut file| {
        let shown = shown.clone();
        async move {
            let mut buf = vec![0u8; UPLOAD_CHUNK];
            match file.read(&mut buf).await {
                Ok(0) | Err(_) => None,
                Ok(n) => {
                    buf.truncate(n);
                    shown.inc(n as u64);
                    Some((
                        pb::UploadVersionRequest {
                            part: Some(pb::upload_version_request::Part::Chunk(buf)),
                        },
                        file,
                    ))
                }
            }
        }
    });
    let version = client
        .upload_version(futures::stream::once(async { metadata }).chain(chunks))
        .await?
        .into_inner();
    progress.finish_and_clear();
    anyhow::ensure!(
        u64::try_from(version.size_bytes).unwrap_or(0) == length,
        "the file changed while it was read: {} bytes stored of {length}",
        version.size_bytes
    );
    Ok(version)
}

/// Writes a version's content to `out` (a temporary file renamed once
/// complete, so a failed download leaves an existing file as it was), or
/// to standard output for `-`.
async fn download(client: &mut Client, name: &str, out: &Path) -> anyhow::Result<()> {
    let mut stream = client
        .download_version(pb::DownloadVersionRequest {
            name: name.to_owned(),
        })
        .await?
        .into_inner();
    let mut file = output::OutFile::create(out)?;
    let progress = indicatif::ProgressBar::new_spinner();
    progress.set_style(indicatif::ProgressStyle::with_template(
        "{spinner} {bytes} ({bytes_per_sec}) {elapsed}",
    )?);
    progress.enable_steady_tick(Duration::from_millis(100));
    let mut version = None;
    while let Some(message) = stream.next().await {
        match message?.part {
            Some(pb::download_version_response::Part::Version(v)) => version = Some(v),
            Some(pb::download_version_response::Part::Chunk(bytes)) => {
                progress.inc(bytes.len() as u64);
                file.write_all(&bytes)?;
            }
            None => {}
        }
    }
    progress.finish_and_clear();
    let version = version.ok_or_else(|| anyhow::anyhow!("the service sent no version"))?;
    let to_stdout = file.is_stdout();
    file.finish()?;
    if !to_stdout {
        eprintln!(
            "wrote {} ({} bytes, sha256 {})",
            out.display(),
            version.size_bytes,
            version.content_sha256
        );
    }
    Ok(())
}
