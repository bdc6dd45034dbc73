//! `procedo compliance …`: every compliance command but the audit log's
//! (`procedo audit`): supervision and filings ([`crate::inspections`]),
//! the directory, assessment, training and policies ([`crate::people`]).

use clap::Subcommand;

use crate::{inspections, people};

#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// Inspections: plans, checklists, samples, automatic checks, findings.
    Inspections(inspections::InspectionsCommand),
    /// Rectification notices: issued for findings, answered, verified.
    Notices(inspections::NoticesCommand),
    /// Regulatory filings: obligations and the filing each period owes.
    Filings(inspections::FilingsCommand),
    /// The directory of people and departments.
    Directory(people::DirectoryCommand),
    /// Assessment: schemes, periods, figures and their facts, rewards.
    Assessment(people::AssessmentCommand),
    /// Training: plans, question banks, sessions, exams, records.
    Training(people::TrainingCommand),
    /// Policies published to be read and acknowledged.
    Policies(people::PoliciesCommand),
}

pub async fn run(command: ComplianceCommand) -> anyhow::Result<()> {
    match command {
        ComplianceCommand::Inspections(c) => inspections::inspections(c).await,
        ComplianceCommand::Notices(c) => inspections::notices(c).await,
        ComplianceCommand::Filings(c) => inspections::filings(c).await,
        ComplianceCommand::Directory(c) => people::directory(c).await,
        ComplianceCommand::Assessment(c) => people::assessment(c).await,
        ComplianceCommand::Training(c) => people::training(c).await,
        ComplianceCommand::Policies(c) => people::policies(c).await,
    }
}
