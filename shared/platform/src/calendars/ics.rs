//! Public holiday schedules as they are published: iCalendar (RFC 5545).
//! Each all-day `VEVENT` is a holiday from `DTSTART` to `DTEND` (exclusive)
//! or for its `DURATION` in days, or a make-up working day when its
//! `SUMMARY` carries one of the caller's markers ("补班"). Recurring and
//! timed events are refused, naming the event: a holiday file is a list of
//! dates, and guessing would put a wrong day off in every deadline.

use std::collections::BTreeSet;

use chrono::{Datelike as _, Duration, NaiveDate, Weekday};

use crate::calendar::{Holiday, Workday};

/// What an iCalendar file says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub holidays: Vec<Holiday>,
    pub workdays: Vec<Workday>,
    /// The years the file's events fall in: the years whose holidays it
    /// replaces.
    pub years: BTreeSet<i32>,
}

/// The markers of a make-up working day when the caller names none.
pub const MAKE_UP_MARKERS: [&str; 4] = ["补班", "上班", "make-up", "working day"];

#[derive(Debug, Default)]
struct Event {
    start: Option<(String, String)>,
    end: Option<(String, String)>,
    duration: Option<String>,
    summary: String,
    recurring: bool,
}

/// Reads `text`; `markers` (case-insensitive) pick out make-up days.
pub fn parse(text: &str, markers: &[String]) -> Result<Imported, String> {
    let lines = unfold(text);
    if !lines
        .iter()
        .any(|l| l.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        return Err("not an iCalendar file: no BEGIN:VCALENDAR".into());
    }
    let markers: Vec<String> = markers.iter().map(|m| m.to_lowercase()).collect();
    let mut imported = Imported::default();
    let mut event: Option<Event> = None;
    for line in &lines {
        let Some((head, value)) = line.split_once(':') else {
            continue;
        };
        let mut parts = head.split(';');
        let name = parts.next().unwrap_or_default().to_ascii_uppercase();
        let params = parts.collect::<Vec<_>>().join(";").to_ascii_uppercase();
        match (name.as_str(), event.as_mut()) {
            ("BEGIN", _) if value.eq_ignore_ascii_case("VEVENT") => event = Some(Event::default()),
            ("END", Some(_)) if value.eq_ignore_ascii_case("VEVENT") => {
                if let Some(done) = event.take() {
                    add(&mut imported, done, &markers)?;
                }
            }
            ("DTSTART", Some(e)) => e.start = Some((params, value.trim().to_owned())),
            ("DTEND", Some(e)) => e.end = Some((params, value.trim().to_owned())),
            ("DURATION", Some(e)) => e.duration = Some(value.trim().to_owned()),
            ("SUMMARY", Some(e)) => e.summary = unescape(value),
            ("RRULE" | "RDATE", Some(e)) => e.recurring = true,
            _ => {}
        }
    }
    if imported.holidays.is_empty() && imported.workdays.is_empty() {
        return Err("the file has no all-day events".into());
    }
    Ok(imported)
}

fn add(imported: &mut Imported, event: Event, markers: &[String]) -> Result<(), String> {
    let name = if event.summary.trim().is_empty() {
        "holiday".to_owned()
    } else {
        event.summary.trim().to_owned()
    };
    if event.recurring {
        return Err(format!(
            "the event {name:?} recurs (RRULE/RDATE): list each year's dates instead"
        ));
    }
    let (params, start) = event
        .start
        .ok_or_else(|| format!("the event {name:?} has no DTSTART"))?;
    let from = all_day(&name, &params, &start)?;
    let to = match (event.end, event.duration) {
        (Some((params, end)), _) => {
            let end = all_day(&name, &params, &end)?;
            if end <= from {
                return Err(format!("the event {name:?} ends before it starts"));
            }
            end - Duration::days(1)
        }
        (None, Some(duration)) => {
            let days = duration
                .strip_prefix('P')
                .and_then(|d| d.strip_suffix('D'))
                .and_then(|d| d.parse::<i64>().ok())
                .filter(|d| (1..=366).contains(d))
                .ok_or_else(|| {
                    format!("the event {name:?} lasts {duration:?}: only whole days (P3D) are read")
                })?;
            from + Duration::days(days - 1)
        }
        (None, None) => from,
    };
    if (to - from).num_days() > 366 {
        return Err(format!("the event {name:?} lasts more than a year"));
    }
    let lower = name.to_lowercase();
    if markers.iter().any(|m| lower.contains(m.as_str())) {
        let mut date = from;
        while date <= to {
            imported.workdays.push(Workday {
                date,
                hours_of: Weekday::Mon,
                name: name.clone(),
            });
            imported.years.insert(date.year());
            date += Duration::days(1);
        }
    } else {
        imported.years.insert(from.year());
        imported.years.insert(to.year());
        imported.holidays.push(Holiday { from, to, name });
    }
    Ok(())
}

/// The date of an all-day `DTSTART`/`DTEND` (`VALUE=DATE:20261001`, or a
/// bare `20261001`).
fn all_day(name: &str, params: &str, value: &str) -> Result<NaiveDate, String> {
    if value.len() != 8 || (!params.is_empty() && !params.contains("VALUE=DATE")) {
        return Err(format!(
            "the event {name:?} is not an all-day event ({value}): holidays are whole days"
        ));
    }
    NaiveDate::parse_from_str(value, "%Y%m%d")
        .map_err(|e| format!("the event {name:?} has the date {value:?}: {e}"))
}

/// Lines with RFC 5545's folding undone (a line starting with a space or a
/// tab continues the one before).
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => lines.push(raw.to_owned()),
        }
    }
    lines
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push(' '),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    fn markers() -> Vec<String> {
        MAKE_UP_MARKERS.iter().map(|m| (*m).to_owned()).collect()
    }

    #[test]
    fn all_day_events_become_holidays_and_make_up_days() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
            BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261008\r\n\
            SUMMARY:国庆节\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261010\r\nSUMMARY:国庆节 补班\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nDTSTART:20260101\r\nDURATION:P1D\r\nSUMMARY:New Year\\, \r\n  the first\r\nEND:VEVENT\r\n\
            END:VCALENDAR\r\n";
        let imported = parse(text, &markers()).expect("read");
        assert_eq!(
            imported.holidays,
            vec![
                Holiday {
                    from: date(2026, 10, 1),
                    to: date(2026, 10, 7),
                    name: "国庆节".into()
                },
                Holiday {
                    from: date(2026, 1, 1),
                    to: date(2026, 1, 1),
                    name: "New Year,  the first".into()
                },
            ]
        );
        assert_eq!(imported.workdays.len(), 1);
        assert_eq!(imported.workdays[0].date, date(2026, 10, 10));
        assert_eq!(imported.years, BTreeSet::from([2026]));
    }

    #[test]
    fn recurring_timed_and_broken_events_are_refused_by_name() {
        let wrap = |body: &str| {
            format!("BEGIN:VCALENDAR\nBEGIN:VEVENT\n{body}\nEND:VEVENT\nEND:VCALENDAR\n")
        };
        let recurring = parse(
            &wrap("DTSTART;VALUE=DATE:20261225\nRRULE:FREQ=YEARLY\nSUMMARY:Christmas"),
            &markers(),
        );
        assert!(recurring.expect_err("recurs").contains("Christmas"));
        let timed = parse(&wrap("DTSTART:20261225T090000Z\nSUMMARY:Party"), &markers());
        assert!(timed.expect_err("timed").contains("all-day"));
        let backwards = parse(
            &wrap("DTSTART;VALUE=DATE:20261225\nDTEND;VALUE=DATE:20261224\nSUMMARY:Odd"),
            &markers(),
        );
        assert!(backwards.expect_err("backwards").contains("ends before"));
        assert!(parse("hello", &markers()).is_err());
        assert!(parse("BEGIN:VCALENDAR\nEND:VCALENDAR\n", &markers()).is_err());
    }
}
