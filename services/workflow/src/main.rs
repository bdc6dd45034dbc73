//! `procedo-workflow`: the workflow service on its own, as deployed in a
//! container. All the work is in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    procedo_platform::service::main::<procedo_workflow::Workflow>("procedo-workflow").await
}
