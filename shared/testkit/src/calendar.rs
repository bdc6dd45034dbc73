//! Company calendars for tests: a file the service reads at start, and the
//! dates a test lays its holidays around.

use chrono::NaiveDate;

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
