//! Company calendars for tests: a file the service reads at start, the
//! dates a test lays its holidays around, a calendar to put or send, and a
//! client of `CalendarService`.

use chrono::NaiveDate;
use procedo_proto::calendar as cal;
use procedo_proto::calendar::calendar_service_client::CalendarServiceClient;
use tonic::service::interceptor::InterceptedService;

/// A company calendar file holding `yaml` (for `PROCEDO_CALENDAR_FILE`);
/// keep it alive while the service runs.
pub fn calendar_file(yaml: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a calendar file");
    std::io::Write::write_all(&mut file, yaml.as_bytes()).expect("the calendar is written");
    file
}

/// Today's date in UTC, on the services' clock.
pub fn today() -> NaiveDate {
    chrono::DateTime::from_timestamp(procedo_platform::time::now() / 1000, 0)
        .expect("now is a time")
        .date_naive()
}

/// `hour`:00 on `day` December 2026 in Shanghai, as epoch milliseconds:
/// the week of Monday 7 December that calendar tests set a manual clock in.
pub fn shanghai_december(day: u32, hour: u32) -> i64 {
    use chrono::TimeZone as _;
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 12, day, hour, 0, 0)
        .single()
        .expect("a time")
        .timestamp_millis()
}

/// Calendar `id`: Monday to Friday, 09:00–12:00 and 13:00–18:00 in
/// Shanghai, with one-day `holidays` (name, YYYY-MM-DD).
pub fn office(id: &str, holidays: &[(&str, &str)]) -> cal::Calendar {
    let day = |weekday: cal::Weekday| cal::WorkingHours {
        weekday: weekday as i32,
        periods: vec![
            cal::Period {
                start: "09:00".into(),
                end: "12:00".into(),
            },
            cal::Period {
                start: "13:00".into(),
                end: "18:00".into(),
            },
        ],
    };
    cal::Calendar {
        id: id.into(),
        title: format!("{id} office"),
        time_zone: "Asia/Shanghai".into(),
        hours: [
            cal::Weekday::Monday,
            cal::Weekday::Tuesday,
            cal::Weekday::Wednesday,
            cal::Weekday::Thursday,
            cal::Weekday::Friday,
        ]
        .into_iter()
        .map(day)
        .collect(),
        holidays: holidays
            .iter()
            .map(|(name, date)| cal::Holiday {
                name: (*name).into(),
                start_date: (*date).into(),
                end_date: String::new(),
            })
            .collect(),
        ..cal::Calendar::default()
    }
}

/// A client of a service's `CalendarService`.
pub type CalendarClient =
    CalendarServiceClient<InterceptedService<tonic::transport::Channel, crate::Bearer>>;

/// A `CalendarService` client on `channel` calling with `token`.
pub fn calendars(channel: &tonic::transport::Channel, token: String) -> CalendarClient {
    CalendarServiceClient::with_interceptor(channel.clone(), crate::Bearer(Some(token)))
}
