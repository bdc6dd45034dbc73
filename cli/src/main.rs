//! `procedo`: the all-in-one development server, dev tokens, and the
//! client commands integrators and operators use.
//!
//! # Layout
//!
//! - [`dev`]: `procedo dev`, every service in one process on SQLite.
//! - [`token`]: `procedo token`, dev tokens for any role.
//! - [`bench`]: `procedo bench`, load beside this machine's ceilings.
//! - [`client`]: the connection, the token and output shared by client
//!   commands; [`intake`], [`workflow`], [`document`]: each service's
//!   commands; [`audit`]: the audit log, checked online and offline;
//!   [`compliance`]: the rest of the compliance service (inspections,
//!   notices and filings in [`inspections`]; directory, assessment,
//!   training and policies in [`people`]); [`calendars`]: the company's
//!   working calendars; [`outbox`]: any service's queued events.

mod audit;
mod bench;
mod calendars;
mod client;
mod compliance;
mod coordination;
mod dev;
mod document;
mod inspections;
mod intake;
mod outbox;
mod output;
mod people;
mod status;
mod token;
mod workflow;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "procedo",
    version,
    about = "Procedo: business procedures as software"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every service in one process on local SQLite files.
    Dev(Box<dev::DevArgs>),
    /// Mint a development token (HS256) for any role.
    Token(token::TokenArgs),
    /// Inquiries, applications, the intake ledger.
    Intake(intake::IntakeCommand),
    /// Process definitions, the authorisation matrix, instances and tasks.
    Workflow(workflow::WorkflowCommand),
    /// Document categories, numbering, content and versions.
    Document(document::DocumentCommand),
    /// The audit log: entries, checkpoints, proofs, offline verification.
    Audit(audit::AuditCommand),
    /// Inspections, notices, filings, the directory, assessment, training
    /// and policies.
    #[command(subcommand)]
    Compliance(compliance::ComplianceCommand),
    /// The company's working calendars (kept at the workflow service).
    Calendars(calendars::CalendarsCommand),
    /// The events a service has queued for others: backlog, failures,
    /// sending a failed one again (admin).
    Outbox(outbox::OutboxCommand),
    /// Measure throughput and latency beside the ceilings of this machine.
    Bench(bench::BenchArgs),
    /// Whether each service answers and is serving, and its version;
    /// exits 1 unless all are.
    Status(status::StatusArgs),
    /// Print a shell completion script: `procedo completion bash >
    /// /etc/bash_completion.d/procedo`.
    Completion {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Dev(args) => dev::run(*args).await,
        Command::Token(args) => token::run(&args),
        Command::Intake(command) => intake::run(command).await,
        Command::Workflow(command) => workflow::run(command).await,
        Command::Calendars(command) => calendars::run(command).await,
        Command::Document(command) => document::run(command).await,
        Command::Audit(command) => audit::run(command).await,
        Command::Compliance(command) => compliance::run(command).await,
        Command::Outbox(command) => outbox::run(command).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Completion { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "procedo", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => {
            output::say_if_cut();
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            if let Some(io) = e.chain().find_map(|c| c.downcast_ref::<std::io::Error>()) {
                output::exit_on_closed_output(io);
            }
            eprintln!("error: {}", output::describe_error(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Cli;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Every command, argument and flag says what it is for in `--help`.
    #[test]
    fn every_command_argument_and_flag_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            if command.get_about().is_none() {
                missing.push(path.clone());
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.is_hide_set() || matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} <{id}>"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &path, missing);
                }
            }
        }
        let mut missing = Vec::new();
        for sub in Cli::command().get_subcommands() {
            walk(sub, "procedo", &mut missing);
        }
        assert!(
            missing.is_empty(),
            "{} without help:\n{}",
            missing.len(),
            missing.join("\n")
        );
    }
}
