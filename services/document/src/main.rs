//! `procedo-document`: the document service on its own, as deployed in a
//! container. All the work is in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    procedo_platform::service::main::<procedo_document::DocumentService>("procedo-document").await
}
