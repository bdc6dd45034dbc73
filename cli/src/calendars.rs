//! `procedo calendars …`: the company's working calendars, kept at the
//! workflow service — list, show, see versions, and import a YAML calendar
//! or a public holiday file (iCalendar).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use procedo_proto::calendar as pb;
use procedo_proto::calendar::calendar_service_client::CalendarServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::client::{Auth, Connection, WORKFLOW};
use crate::output::{self, time};

type Client = CalendarServiceClient<InterceptedService<Channel, Auth>>;

#[derive(Debug, Args)]
pub struct CalendarsCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FileFormat {
    /// The YAML of examples/calendar.yaml: replaces the whole calendar.
    Yaml,
    /// iCalendar (.ics): replaces the holidays and make-up days of the
    /// years the file covers and keeps the working hours.
    Ics,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Every calendar, with its version and whether it is the default.
    List,
    /// One calendar (the default when no id is given).
    Get {
        /// The calendar's id; the default calendar when unset.
        #[arg(default_value = "")]
        id: String,
    },
    /// Every version of a calendar, newest first.
    Versions {
        /// The calendar's id.
        id: String,
    },
    /// Create or change a calendar from a file (admin). Running deadlines
    /// on it are recomputed in every service.
    Import {
        /// The calendar's id, e.g. cn-mainland ("default" for the one the
        /// services start with).
        id: String,
        /// The file: .yaml/.yml or .ics (the format follows the extension
        /// unless --format says otherwise).
        file: PathBuf,
        /// The file's format; from its extension when unset.
        #[arg(long, value_enum)]
        format: Option<FileFormat>,
        /// Title of a new calendar.
        #[arg(long, default_value = "")]
        title: String,
        /// Make it the company's default calendar.
        #[arg(long)]
        default: bool,
        /// iCalendar: a word marking a make-up working day in an event's
        /// summary; repeat. Default: 补班, 上班, make-up, working day.
        #[arg(long = "make-up-marker")]
        markers: Vec<String>,
        /// The current version's etag: refuse if it changed meanwhile.
        #[arg(long, default_value = "")]
        etag: String,
    },
    /// Create or replace a calendar from its protobuf form (admin): a
    /// Calendar message as proto3 JSON or YAML, as `get -o json` prints it.
    Put {
        /// The file holding the Calendar message.
        file: PathBuf,
        /// The current version's etag: refuse if it changed meanwhile.
        #[arg(long, default_value = "")]
        etag: String,
    },
}

pub async fn run(command: CalendarsCommand) -> anyhow::Result<()> {
    let connection = command.connection;
    let format = connection.output;
    let mut client: Client = CalendarServiceClient::with_interceptor(
        connection.channel(WORKFLOW).await?,
        connection.auth(),
    );
    match command.action {
        Action::List => {
            let list = client
                .list_calendars(pb::ListCalendarsRequest {})
                .await?
                .into_inner();
            output::listing(
                format,
                &list,
                "procedo.calendar.v1.ListCalendarsResponse",
                &[
                    "ID", "TITLE", "ZONE", "VERSION", "DEFAULT", "HOLIDAYS", "UPDATED",
                ],
                || list.calendars.iter().map(row).collect(),
            )
        }
        Action::Get { id } => {
            let calendar = client
                .get_calendar(pb::GetCalendarRequest { id })
                .await?
                .into_inner();
            show(format, &calendar)
        }
        Action::Versions { id } => {
            let mut versions = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = client
                    .list_calendar_versions(pb::ListCalendarVersionsRequest {
                        id: id.clone(),
                        page_size: 500,
                        page_token,
                    })
                    .await?
                    .into_inner();
                versions.extend(page.versions);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            let all = pb::ListCalendarVersionsResponse {
                versions,
                next_page_token: String::new(),
            };
            output::listing(
                format,
                &all,
                "procedo.calendar.v1.ListCalendarVersionsResponse",
                &[
                    "ID", "TITLE", "ZONE", "VERSION", "DEFAULT", "HOLIDAYS", "UPDATED",
                ],
                || all.versions.iter().map(row).collect(),
            )
        }
        Action::Import {
            id,
            file,
            format: file_format,
            title,
            default,
            markers,
            etag,
        } => {
            let content = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let file_format = match file_format {
                Some(f) => f,
                None if file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("ics")) =>
                {
                    FileFormat::Ics
                }
                None => FileFormat::Yaml,
            };
            let response = client
                .import_calendar(pb::ImportCalendarRequest {
                    id,
                    title,
                    format: match file_format {
                        FileFormat::Yaml => pb::CalendarFormat::Yaml,
                        FileFormat::Ics => pb::CalendarFormat::Icalendar,
                    } as i32,
                    content,
                    make_up_markers: markers,
                    company_default: default,
                    etag,
                    request_id: output::request_id(),
                })
                .await?
                .into_inner();
            said_put(format, &response)
        }
        Action::Put { file, etag } => {
            let calendar: pb::Calendar =
                output::read_message(&file, "procedo.calendar.v1.Calendar")?;
            let response = client
                .put_calendar(pb::PutCalendarRequest {
                    calendar: Some(calendar),
                    etag,
                    request_id: output::request_id(),
                })
                .await?
                .into_inner();
            said_put(format, &response)
        }
    }
}

/// The calendar as stored, and how many deadlines moved.
fn said_put(format: output::Format, response: &pb::PutCalendarResponse) -> anyhow::Result<()> {
    if let Some(calendar) = &response.calendar {
        show(format, calendar)?;
    }
    if format == output::Format::Table {
        crate::out!(
            "{} running deadline(s) moved at workflow; the other services follow",
            response.recomputed_deadlines
        );
    }
    Ok(())
}

fn row(c: &pb::Calendar) -> Vec<String> {
    vec![
        c.id.clone(),
        c.title.clone(),
        c.time_zone.clone(),
        c.version.to_string(),
        if c.company_default { "yes" } else { "" }.to_owned(),
        c.holidays.len().to_string(),
        time(c.update_time.as_ref()),
    ]
}

fn show(format: output::Format, c: &pb::Calendar) -> anyhow::Result<()> {
    let weekday = |w: i32| {
        pb::Weekday::try_from(w).map_or_else(
            |_| w.to_string(),
            |d| {
                d.as_str_name()
                    .trim_start_matches("WEEKDAY_")
                    .to_lowercase()
            },
        )
    };
    let hours = c
        .hours
        .iter()
        .map(|h| {
            let periods: Vec<String> = h
                .periods
                .iter()
                .map(|p| format!("{}-{}", p.start, p.end))
                .collect();
            format!("{} {}", weekday(h.weekday), periods.join(" "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let holidays = c
        .holidays
        .iter()
        .map(|h| {
            if h.end_date.is_empty() {
                format!("{} {}", h.start_date, h.name)
            } else {
                format!("{}..{} {}", h.start_date, h.end_date, h.name)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let make_up = c
        .make_up_days
        .iter()
        .map(|m| format!("{} {} (as {})", m.date, m.name, weekday(m.hours_of)))
        .collect::<Vec<_>>()
        .join("; ");
    output::record(
        format,
        c,
        "procedo.calendar.v1.Calendar",
        vec![
            ("id", c.id.clone()),
            ("title", c.title.clone()),
            ("time zone", c.time_zone.clone()),
            ("default", c.company_default.to_string()),
            ("version", c.version.to_string()),
            ("etag", c.etag.clone()),
            ("updated", time(c.update_time.as_ref())),
            ("hours", hours),
            ("holidays", holidays),
            ("make-up days", make_up),
        ],
    )
}
