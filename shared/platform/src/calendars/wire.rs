//! Calendars on the wire (`procedo.calendar.v1.Calendar`) and back, every
//! problem named by its field.

use chrono::Weekday;
use procedo_proto::calendar as pb;

use super::Stored;
use crate::calendar::{self, Calendar, Holiday, Period, Workday};
use crate::etag;
use crate::time;
use crate::validate::Violations;

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn weekday_to_pb(day: Weekday) -> pb::Weekday {
    match day {
        Weekday::Mon => pb::Weekday::Monday,
        Weekday::Tue => pb::Weekday::Tuesday,
        Weekday::Wed => pb::Weekday::Wednesday,
        Weekday::Thu => pb::Weekday::Thursday,
        Weekday::Fri => pb::Weekday::Friday,
        Weekday::Sat => pb::Weekday::Saturday,
        Weekday::Sun => pb::Weekday::Sunday,
    }
}

fn weekday_from_pb(value: i32) -> Option<Weekday> {
    let n = usize::try_from(value).ok()?;
    (1..=7).contains(&n).then(|| WEEK[n - 1])
}

pub fn to_pb(stored: &Stored) -> pb::Calendar {
    let c = &stored.calendar;
    pb::Calendar {
        id: stored.id.clone(),
        title: stored.title.clone(),
        time_zone: c.zone.name().to_owned(),
        hours: WEEK
            .iter()
            .zip(&c.week)
            .filter(|(_, periods)| !periods.is_empty())
            .map(|(day, periods)| pb::WorkingHours {
                weekday: weekday_to_pb(*day) as i32,
                periods: periods
                    .iter()
                    .map(|p| pb::Period {
                        start: p.start.format("%H:%M").to_string(),
                        end: p.end.format("%H:%M").to_string(),
                    })
                    .collect(),
            })
            .collect(),
        holidays: c
            .holidays
            .iter()
            .map(|h| pb::Holiday {
                name: h.name.clone(),
                start_date: h.from.to_string(),
                end_date: if h.to == h.from {
                    String::new()
                } else {
                    h.to.to_string()
                },
            })
            .collect(),
        make_up_days: c
            .workdays
            .iter()
            .map(|w| pb::MakeUpDay {
                name: w.name.clone(),
                date: w.date.to_string(),
                hours_of: weekday_to_pb(w.hours_of) as i32,
            })
            .collect(),
        company_default: stored.company_default,
        version: stored.version,
        update_time: (stored.updated_at > 0).then(|| time::to_timestamp(stored.updated_at)),
        etag: etag::of(stored.version),
    }
}

/// A calendar id: lower-case letters, digits and '-', 1 to 63 characters.
pub fn id(v: &mut Violations, field: &str, id: &str) -> String {
    let ok = (1..=63).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-');
    if !ok {
        v.add(
            field,
            "must be 1 to 63 lower-case letters, digits and '-' (e.g. \"cn-mainland\")",
        );
    }
    id.to_owned()
}

/// Holidays and make-up days as a calendar holds them; problems at
/// `field.holidays[i]…`.
pub fn days(v: &mut Violations, field: &str, c: &pb::Calendar) -> (Vec<Holiday>, Vec<Workday>) {
    let mut holidays = Vec::new();
    for (i, h) in v
        .at_most(&format!("{field}.holidays"), &c.holidays, 1_000)
        .iter()
        .enumerate()
    {
        let at = format!("{field}.holidays[{i}]");
        let name = v.required_line(&format!("{at}.name"), &h.name, 200);
        let from = calendar::day(&h.start_date).map_err(|e| v.add(format!("{at}.start_date"), e));
        let to = if h.end_date.is_empty() {
            from
        } else {
            calendar::day(&h.end_date).map_err(|e| v.add(format!("{at}.end_date"), e))
        };
        if let (Ok(from), Ok(to)) = (from, to) {
            if to < from {
                v.add(format!("{at}.end_date"), "must not be before start_date");
            } else if (to - from).num_days() > 366 {
                v.add(format!("{at}.end_date"), "a holiday lasts at most a year");
            } else {
                holidays.push(Holiday { from, to, name });
            }
        }
    }
    let mut workdays = Vec::new();
    for (i, w) in v
        .at_most(&format!("{field}.make_up_days"), &c.make_up_days, 1_000)
        .iter()
        .enumerate()
    {
        let at = format!("{field}.make_up_days[{i}]");
        let name = v.required_line(&format!("{at}.name"), &w.name, 200);
        let hours_of = match w.hours_of {
            0 => Some(Weekday::Mon),
            n => weekday_from_pb(n).or_else(|| {
                v.add(format!("{at}.hours_of"), "is not a weekday");
                None
            }),
        };
        match (calendar::day(&w.date), hours_of) {
            (Ok(date), Some(hours_of)) => workdays.push(Workday {
                date,
                hours_of,
                name,
            }),
            (Err(e), _) => v.add(format!("{at}.date"), e),
            _ => {}
        }
    }
    (holidays, workdays)
}

/// The whole calendar of a request; problems at `field.…`.
pub fn calendar(v: &mut Violations, field: &str, c: &pb::Calendar) -> Option<Calendar> {
    let zone = match c.time_zone.trim().parse::<chrono_tz::Tz>() {
        Ok(zone) => Some(zone),
        Err(_) => {
            v.add(
                format!("{field}.time_zone"),
                "must be an IANA time zone name (e.g. Asia/Shanghai)",
            );
            None
        }
    };
    let mut week: [Vec<Period>; 7] = Default::default();
    for (i, hours) in c.hours.iter().enumerate() {
        let at = format!("{field}.hours[{i}]");
        let Some(day) = weekday_from_pb(hours.weekday) else {
            v.add(format!("{at}.weekday"), "must be a weekday");
            continue;
        };
        let slot = &mut week[day.num_days_from_monday() as usize];
        if !slot.is_empty() {
            v.add(format!("{at}.weekday"), "names a weekday listed before");
            continue;
        }
        for (j, p) in hours.periods.iter().enumerate() {
            match Period::new(&p.start, &p.end) {
                Ok(period) => slot.push(period),
                Err(e) => v.add(format!("{at}.periods[{j}]"), e),
            }
        }
    }
    let week = match Calendar::check_week(week) {
        Ok(week) => Some(week),
        Err(e) => {
            v.add(format!("{field}.hours"), e);
            None
        }
    };
    let (holidays, workdays) = days(v, field, c);
    Some(Calendar {
        zone: zone?,
        week: week?,
        holidays,
        workdays,
    })
}

/// A version the keeper sent; `None` when it does not read (the keeper
/// checked it, so this is a bug said in the log).
pub fn from_event(c: &pb::Calendar) -> Option<Stored> {
    let mut v = Violations::new();
    let calendar = calendar(&mut v, "calendar", c);
    if !v.is_empty() {
        tracing::warn!(calendar = %c.id, problems = ?v.into_inner(), "a calendar version that does not read");
        return None;
    }
    Some(Stored {
        id: c.id.clone(),
        title: c.title.clone(),
        calendar: calendar?,
        company_default: c.company_default,
        version: c.version,
        updated_at: c
            .update_time
            .as_ref()
            .and_then(time::from_timestamp)
            .unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calendar_survives_the_wire_and_the_store() {
        let c = Calendar::from_yaml(
            include_str!("../../../../examples/calendar.yaml"),
            chrono_tz::UTC,
        )
        .expect("the example");
        let stored = Stored {
            id: "cn".into(),
            title: "China".into(),
            calendar: c.clone(),
            company_default: true,
            version: 3,
            updated_at: 1_000,
        };
        assert_eq!(from_event(&to_pb(&stored)), Some(stored));
        assert_eq!(Calendar::from_yaml(&c.to_yaml(), chrono_tz::UTC), Ok(c));
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let mut v = Violations::new();
        let c = pb::Calendar {
            time_zone: "Mars/Olympus".into(),
            hours: vec![pb::WorkingHours {
                weekday: 1,
                periods: vec![pb::Period {
                    start: "18:00".into(),
                    end: "09:00".into(),
                }],
            }],
            holidays: vec![pb::Holiday {
                name: String::new(),
                start_date: "2026-13-01".into(),
                end_date: String::new(),
            }],
            ..pb::Calendar::default()
        };
        assert!(calendar(&mut v, "calendar", &c).is_none());
        let fields: Vec<String> = v.into_inner().into_iter().map(|f| f.field).collect();
        for expected in [
            "calendar.time_zone",
            "calendar.hours[0].periods[0]",
            "calendar.holidays[0].name",
            "calendar.holidays[0].start_date",
        ] {
            assert!(
                fields.iter().any(|f| f == expected),
                "{expected} in {fields:?}"
            );
        }
    }
}
