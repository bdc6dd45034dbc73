//! `procedo-intake`: the intake service on its own, as deployed in a
//! container. All the work is in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    procedo_platform::service::main::<procedo_intake::Intake>("procedo-intake").await
}
