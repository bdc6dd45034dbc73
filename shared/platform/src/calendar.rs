//! Working time as a company counts it (the regulation's time limits are
//! business limits): a [`Calendar`] names its time zone, its working hours
//! per weekday, its holidays and the weekend days worked to make up for
//! them (调休); a [`Limit`] is elapsed time or working time; [`Calendar::due`]
//! adds one to an instant and [`Calendar::working_between`] measures the
//! working time between two. Pure: every instant is UTC milliseconds, and
//! local time exists only inside this module.

use std::fmt;

use chrono::{
    Datelike as _, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Weekday,
};
use chrono_tz::Tz;

use crate::time::Millis;

/// One stretch of working hours in a day, local time, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// Days off: one date, or a range of them (inclusive), with a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub name: String,
}

/// A day worked that would otherwise be off (a weekend day in China that
/// makes up for a holiday), worked on the hours of `hours_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workday {
    pub date: NaiveDate,
    pub hours_of: Weekday,
    pub name: String,
}

/// A company's working calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub zone: Tz,
    /// Working hours, Monday first; an empty day is a day off.
    pub week: [Vec<Period>; 7],
    pub holidays: Vec<Holiday>,
    pub workdays: Vec<Workday>,
}

/// A time limit: elapsed time, or time on the calendar's working clock.
/// Serialized as its text (`4h`, `8wh`, `5wd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Limit {
    /// Wall-clock milliseconds (`4h`).
    Elapsed(Millis),
    /// Working milliseconds (`8wh`): counted only within working hours.
    WorkingTime(Millis),
    /// Working days (`5wd`): the same point of the working day, that many
    /// working days on.
    WorkingDays(u32),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Elapsed(ms) => write!(
                f,
                "{}",
                humantime::format_duration(std::time::Duration::from_millis(ms.unsigned_abs()))
            ),
            Limit::WorkingTime(ms) if ms % 3_600_000 == 0 => write!(f, "{}wh", ms / 3_600_000),
            Limit::WorkingTime(ms) => write!(f, "{}wm", ms / 60_000),
            Limit::WorkingDays(n) => write!(f, "{n}wd"),
        }
    }
}

impl From<Limit> for String {
    fn from(limit: Limit) -> String {
        limit.to_string()
    }
}

/// As stored: a fixed-time deadline whose time had already come when it
/// was set keeps a zero elapsed limit, which a request may not give.
impl TryFrom<String> for Limit {
    type Error = String;

    fn try_from(text: String) -> Result<Limit, String> {
        if text.trim() == "0s" {
            return Ok(Limit::Elapsed(0));
        }
        Limit::parse(&text)
    }
}

impl Limit {
    /// Reads `4h`, `90m` (elapsed; any `humantime` duration), `8wh`
    /// (working hours), `30wm` (working minutes) or `5wd` (working days).
    pub fn parse(text: &str) -> Result<Limit, String> {
        let text = text.trim();
        let number = |digits: &str| -> Result<u32, String> {
            digits
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{text:?} needs a positive whole number before its unit"))
        };
        if let Some(days) = text.strip_suffix("wd") {
            return Ok(Limit::WorkingDays(number(days)?));
        }
        if let Some(hours) = text.strip_suffix("wh") {
            return Ok(Limit::WorkingTime(i64::from(number(hours)?) * 3_600_000));
        }
        if let Some(minutes) = text.strip_suffix("wm") {
            return Ok(Limit::WorkingTime(i64::from(number(minutes)?) * 60_000));
        }
        let elapsed = humantime::parse_duration(text).map_err(|e| {
            format!(
                "{text:?} is not a duration (4h), working hours (8wh) or working days (5wd): {e}"
            )
        })?;
        let ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
        if ms <= 0 {
            return Err(format!("{text:?} must be positive"));
        }
        Ok(Limit::Elapsed(ms))
    }
}

/// A calendar as a file gives it (YAML; see `examples/calendar.yaml`), and
/// as the services store it.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    /// IANA name; the company's zone when absent.
    time_zone: Option<String>,
    /// Weekday (monday…sunday) → periods "09:00-12:00".
    hours: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    holidays: Vec<HolidayFile>,
    #[serde(default)]
    workdays: Vec<WorkdayFile>,
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    date: String,
    /// The last day off, when the holiday is longer than a day.
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    name: String,
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct WorkdayFile {
    date: String,
    /// Whose hours the day is worked on; Monday's when absent.
    hours_of: Option<String>,
    name: String,
}

/// A weekday by its English name (`monday`, `Mon`).
pub fn weekday(name: &str) -> Result<Weekday, String> {
    name.trim()
        .parse::<Weekday>()
        .map_err(|_| format!("{name:?} is not a weekday (monday … sunday)"))
}

const WEEK_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn weekday_name(day: Weekday) -> &'static str {
    WEEK_NAMES[day.num_days_from_monday() as usize]
}

/// A date as `YYYY-MM-DD`.
pub fn day(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|e| format!("{text:?} is not a date (YYYY-MM-DD): {e}"))
}

/// A time of day as `HH:MM`.
pub fn time_of_day(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|e| format!("{text:?} is not a time (HH:MM): {e}"))
}

fn period(text: &str) -> Result<Period, String> {
    let (start, end) = text
        .split_once('-')
        .ok_or_else(|| format!("{text:?} is not a period (09:00-12:00)"))?;
    Period::new(start, end).map_err(|e| format!("{e} in {text:?}"))
}

impl Period {
    /// `[start, end)` from `HH:MM` texts; `start` before `end`.
    pub fn new(start: &str, end: &str) -> Result<Period, String> {
        let period = Period {
            start: time_of_day(start)?,
            end: time_of_day(end)?,
        };
        if period.start >= period.end {
            return Err("the period ends before it starts".into());
        }
        Ok(period)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// How far the working clock is searched for working time before giving
/// up (a calendar with no working hours at all).
const HORIZON_DAYS: i64 = 3_660;

impl Calendar {
    /// Monday to Friday, the given periods each day, no holidays.
    pub fn weekdays(zone: Tz, periods: &[Period]) -> Calendar {
        let day = periods.to_vec();
        Calendar {
            zone,
            week: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                Vec::new(),
                Vec::new(),
            ],
            holidays: Vec::new(),
            workdays: Vec::new(),
        }
    }

    /// Monday to Friday, 09:00–12:00 and 13:00–18:00, no holidays: the
    /// calendar a company starts from.
    pub fn standard(zone: Tz) -> Calendar {
        let time = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
        Calendar::weekdays(
            zone,
            &[
                Period {
                    start: time(9),
                    end: time(12),
                },
                Period {
                    start: time(13),
                    end: time(18),
                },
            ],
        )
    }

    /// A calendar from its YAML file; `zone` when the file names none.
    /// Every problem is said with what is wrong.
    pub fn from_yaml(text: &str, zone: Tz) -> Result<Calendar, String> {
        let file: CalendarFile =
            serde_yaml_ng::from_str(text).map_err(|e| format!("not a calendar: {e}"))?;
        let zone = match &file.time_zone {
            Some(name) => name
                .parse()
                .map_err(|_| format!("{name:?} is not an IANA time zone name"))?,
            None => zone,
        };
        let mut week: [Vec<Period>; 7] = Default::default();
        for (name, periods) in &file.hours {
            week[weekday(name)?.num_days_from_monday() as usize] = periods
                .iter()
                .map(|p| period(p))
                .collect::<Result<Vec<_>, _>>()?;
        }
        let week = Calendar::check_week(week)?;
        let holidays = file
            .holidays
            .iter()
            .map(|h| {
                let from = day(&h.date)?;
                let to = h.to.as_deref().map(day).transpose()?.unwrap_or(from);
                if to < from {
                    return Err(format!("the holiday {:?} ends before it starts", h.name));
                }
                Ok(Holiday {
                    from,
                    to,
                    name: h.name.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let workdays = file
            .workdays
            .iter()
            .map(|w| {
                Ok(Workday {
                    date: day(&w.date)?,
                    hours_of: w
                        .hours_of
                        .as_deref()
                        .map(weekday)
                        .transpose()?
                        .unwrap_or(Weekday::Mon),
                    name: w.name.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Calendar {
            zone,
            week,
            holidays,
            workdays,
        })
    }

    /// A week's working hours, each day's periods sorted; refused when a
    /// day's periods overlap or no day has any.
    pub fn check_week(mut week: [Vec<Period>; 7]) -> Result<[Vec<Period>; 7], String> {
        for (i, day) in week.iter_mut().enumerate() {
            day.sort_by_key(|p| p.start);
            if day.windows(2).any(|w| w[0].end > w[1].start) {
                return Err(format!("the periods of {} overlap", WEEK_NAMES[i]));
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err("a calendar needs working hours on some weekday".into());
        }
        Ok(week)
    }

    /// The calendar in its file's YAML, as `from_yaml` reads it back.
    pub fn to_yaml(&self) -> String {
        let file = CalendarFile {
            time_zone: Some(self.zone.name().to_owned()),
            hours: self
                .week
                .iter()
                .enumerate()
                .filter(|(_, day)| !day.is_empty())
                .map(|(i, day)| {
                    let hours = day.iter().map(ToString::to_string).collect();
                    (WEEK_NAMES[i].to_owned(), hours)
                })
                .collect(),
            holidays: self
                .holidays
                .iter()
                .map(|h| HolidayFile {
                    date: h.from.to_string(),
                    to: (h.to != h.from).then(|| h.to.to_string()),
                    name: h.name.clone(),
                })
                .collect(),
            workdays: self
                .workdays
                .iter()
                .map(|w| WorkdayFile {
                    date: w.date.to_string(),
                    hours_of: Some(weekday_name(w.hours_of).to_owned()),
                    name: w.name.clone(),
                })
                .collect(),
        };
        serde_yaml_ng::to_string(&file).unwrap_or_default()
    }

    /// The working hours of `date`, local time.
    pub fn periods_on(&self, date: NaiveDate) -> &[Period] {
        if let Some(w) = self.workdays.iter().find(|w| w.date == date) {
            return &self.week[w.hours_of.num_days_from_monday() as usize];
        }
        if self.holidays.iter().any(|h| h.from <= date && date <= h.to) {
            return &[];
        }
        &self.week[date.weekday().num_days_from_monday() as usize]
    }

    /// The working intervals of `date` as UTC milliseconds.
    fn intervals_on(&self, date: NaiveDate) -> Vec<(Millis, Millis)> {
        self.periods_on(date)
            .iter()
            .map(|p| {
                (
                    self.instant(date.and_time(p.start)),
                    self.instant(date.and_time(p.end)),
                )
            })
            .filter(|(start, end)| start < end)
            .collect()
    }

    /// The UTC instant of a local time; a local time a DST change skips
    /// counts as the moment the clocks jump to, and a repeated one as its
    /// first occurrence.
    fn instant(&self, local: NaiveDateTime) -> Millis {
        let mut probe = local;
        for _ in 0..=180 {
            if let Some(t) = self.zone.from_local_datetime(&probe).earliest() {
                return t.timestamp_millis();
            }
            probe += Duration::minutes(1);
        }
        // No zone skips three hours; treat the time as UTC if one ever did.
        local.and_utc().timestamp_millis()
    }

    /// The local date of an instant.
    pub fn date_of(&self, at: Millis) -> NaiveDate {
        self.zone
            .timestamp_millis_opt(at)
            .single()
            .map_or_else(|| NaiveDate::MIN, |t| t.date_naive())
    }

    /// When `limit`, started at `start`, runs out.
    pub fn due(&self, start: Millis, limit: Limit) -> Millis {
        match limit {
            Limit::Elapsed(ms) => start.saturating_add(ms),
            Limit::WorkingTime(ms) => self.add_working(start, ms),
            Limit::WorkingDays(n) => self.add_working_days(start, n),
        }
    }

    /// The instant `working` milliseconds of working time after `start`.
    pub fn add_working(&self, start: Millis, working: Millis) -> Millis {
        let mut left = working.max(0);
        let mut date = self.date_of(start);
        for _ in 0..HORIZON_DAYS {
            for (from, to) in self.intervals_on(date) {
                let from = from.max(start);
                if from >= to {
                    continue;
                }
                if left <= to - from {
                    // Time exactly at a period's end belongs to the next
                    // working moment only when some is left to count.
                    return from + left;
                }
                left -= to - from;
            }
            date = date.succ_opt().unwrap_or(date);
        }
        start.saturating_add(working)
    }

    /// The same point of the working day `days` working days after the
    /// working day `start` falls in (or, outside working hours, the next
    /// working day's start).
    fn add_working_days(&self, start: Millis, days: u32) -> Millis {
        // The working day the clock starts on, and how far into it.
        let first = self.add_working(start, 0);
        let mut date = self.date_of(first);
        let offset = self.working_between(
            self.intervals_on(date)
                .first()
                .map_or(first, |(from, _)| *from),
            first,
        );
        let mut counted = 0;
        for _ in 0..HORIZON_DAYS {
            date = date.succ_opt().unwrap_or(date);
            let intervals = self.intervals_on(date);
            if intervals.is_empty() {
                continue;
            }
            counted += 1;
            if counted == days {
                let day_start = intervals[0].0;
                let day_length: Millis = intervals.iter().map(|(f, t)| t - f).sum();
                return self.add_working(day_start, offset.min(day_length));
            }
        }
        first
    }

    /// The working time between two instants (zero when `to` is earlier).
    pub fn working_between(&self, from: Millis, to: Millis) -> Millis {
        if to <= from {
            return 0;
        }
        let mut total = 0;
        let mut date = self.date_of(from);
        let last = self.date_of(to);
        while date <= last {
            for (start, end) in self.intervals_on(date) {
                let (start, end) = (start.max(from), end.min(to));
                if start < end {
                    total += end - start;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// Whether `at` falls in working hours.
    pub fn is_working(&self, at: Millis) -> bool {
        self.intervals_on(self.date_of(at))
            .iter()
            .any(|(from, to)| *from <= at && at < *to)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("a time")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    /// Shanghai, 09:00–12:00 and 13:00–18:00, Monday to Friday.
    fn shanghai() -> Calendar {
        Calendar::weekdays(
            chrono_tz::Asia::Shanghai,
            &[
                Period {
                    start: t(9, 0),
                    end: t(12, 0),
                },
                Period {
                    start: t(13, 0),
                    end: t(18, 0),
                },
            ],
        )
    }

    fn at(c: &Calendar, d: NaiveDate, h: u32, m: u32) -> Millis {
        c.instant(d.and_time(t(h, m)))
    }

    #[test]
    fn limits_read_as_elapsed_working_hours_or_working_days() {
        assert_eq!(Limit::parse("4h"), Ok(Limit::Elapsed(4 * 3_600_000)));
        assert_eq!(Limit::parse("8wh"), Ok(Limit::WorkingTime(8 * 3_600_000)));
        assert_eq!(Limit::parse("30wm"), Ok(Limit::WorkingTime(30 * 60_000)));
        assert_eq!(Limit::parse("5wd"), Ok(Limit::WorkingDays(5)));
        assert!(Limit::parse("0wd").is_err());
        assert!(Limit::parse("soon").is_err());
        for text in ["5wd", "8wh", "90wm", "1h 30m"] {
            assert_eq!(Limit::parse(text).map(|l| l.to_string()), Ok(text.into()));
        }
    }

    #[test]
    fn working_hours_skip_lunch_the_night_and_the_weekend() {
        let c = shanghai();
        // Friday 16:00 + 8 working hours: 2 h Friday, 6 h from Monday 09:00
        // with lunch off → Monday 16:00.
        let friday = date(2026, 11, 27);
        let due = c.due(at(&c, friday, 16, 0), Limit::WorkingTime(8 * 3_600_000));
        assert_eq!(due, at(&c, date(2026, 11, 30), 16, 0));
        // Saturday night counts from Monday's start.
        let due = c.due(
            at(&c, date(2026, 11, 28), 22, 0),
            Limit::WorkingTime(3_600_000),
        );
        assert_eq!(due, at(&c, date(2026, 11, 30), 10, 0));
    }

    #[test]
    fn five_working_days_cross_a_national_holiday_and_count_the_make_up_saturday() {
        // National Day 2026 as announced: 1–7 October off, Saturday 10
        // October worked on Friday's hours (and Sunday 27 September).
        let mut c = shanghai();
        c.holidays.push(Holiday {
            from: date(2026, 10, 1),
            to: date(2026, 10, 7),
            name: "National Day".into(),
        });
        c.workdays.push(Workday {
            date: date(2026, 10, 10),
            hours_of: Weekday::Fri,
            name: "National Day make-up".into(),
        });
        // Submitted Wednesday 30 September 10:30: the working days after
        // it are Thu 8, Fri 9, Sat 10 (make-up), Mon 12, Tue 13.
        let due = c.due(at(&c, date(2026, 9, 30), 10, 30), Limit::WorkingDays(5));
        assert_eq!(due, at(&c, date(2026, 10, 13), 10, 30));
    }

    #[test]
    fn a_daylight_saving_change_moves_nothing_that_is_not_working_time() {
        // Berlin leaves summer time in the night of 24–25 October 2026.
        let c = Calendar::weekdays(
            chrono_tz::Europe::Berlin,
            &[Period {
                start: t(8, 0),
                end: t(16, 0),
            }],
        );
        let friday = date(2026, 10, 23);
        let due = c.due(at(&c, friday, 15, 0), Limit::WorkingTime(2 * 3_600_000));
        assert_eq!(due, at(&c, date(2026, 10, 26), 9, 0));
        assert_eq!(c.working_between(at(&c, friday, 15, 0), due), 2 * 3_600_000);
    }

    #[test]
    fn a_year_end_is_just_another_night() {
        let mut c = shanghai();
        c.holidays.push(Holiday {
            from: date(2027, 1, 1),
            to: date(2027, 1, 1),
            name: "New Year".into(),
        });
        // Thursday 31 December 17:00 + 2 working hours → Monday 4 January
        // 10:00 (Friday 1 January off, then the weekend).
        let due = c.due(
            at(&c, date(2026, 12, 31), 17, 0),
            Limit::WorkingTime(2 * 3_600_000),
        );
        assert_eq!(due, at(&c, date(2027, 1, 4), 10, 0));
    }

    #[test]
    fn a_calendar_file_gives_hours_holidays_and_make_up_days_and_names_what_is_wrong() {
        let text = "time_zone: Asia/Shanghai\n\
                    hours:\n  monday: [\"09:00-12:00\", \"13:00-18:00\"]\n  friday: [\"09:00-17:00\"]\n\
                    holidays:\n  - { date: 2026-10-01, to: 2026-10-07, name: National Day }\n\
                    workdays:\n  - { date: 2026-10-10, hours_of: friday, name: make-up }\n";
        let c = Calendar::from_yaml(text, chrono_tz::UTC).expect("a calendar");
        assert_eq!(c.zone, chrono_tz::Asia::Shanghai);
        assert_eq!(c.periods_on(date(2026, 10, 5)), &[] as &[Period]);
        assert_eq!(c.periods_on(date(2026, 10, 10)).len(), 1, "Friday's hours");
        assert_eq!(c.periods_on(date(2026, 10, 12)).len(), 2, "a Monday");
        let broken = Calendar::from_yaml("hours:\n  funday: [\"09:00-10:00\"]\n", chrono_tz::UTC);
        assert!(broken.expect_err("no such day").contains("funday"));
        let backwards =
            Calendar::from_yaml("hours:\n  monday: [\"18:00-09:00\"]\n", chrono_tz::UTC);
        assert!(backwards.expect_err("backwards").contains("ends before"));
    }

    #[test]
    fn the_example_calendar_reads() {
        let c = Calendar::from_yaml(
            include_str!("../../../examples/calendar.yaml"),
            chrono_tz::UTC,
        )
        .expect("examples/calendar.yaml is a calendar");
        assert_eq!(c.zone, chrono_tz::Asia::Shanghai);
        assert!(
            c.periods_on(date(2026, 2, 18)).is_empty(),
            "Spring Festival"
        );
        assert_eq!(
            c.periods_on(date(2026, 2, 14)).len(),
            2,
            "a make-up Saturday"
        );
    }

    fn calendars() -> impl Strategy<Value = Calendar> {
        let zones = prop_oneof![
            Just(chrono_tz::Asia::Shanghai),
            Just(chrono_tz::Europe::Berlin),
            Just(chrono_tz::America::New_York),
            Just(chrono_tz::Australia::Lord_Howe),
        ];
        let holidays = proptest::collection::vec((0u32..400, 0u32..10), 0..6);
        let workdays = proptest::collection::vec(0u32..400, 0..4);
        (zones, holidays, workdays).prop_map(|(zone, holidays, workdays)| {
            let mut c = shanghai();
            c.zone = zone;
            let base = date(2026, 1, 1);
            for (start, len) in holidays {
                let from = base + Duration::days(i64::from(start));
                c.holidays.push(Holiday {
                    from,
                    to: from + Duration::days(i64::from(len)),
                    name: "holiday".into(),
                });
            }
            for day in workdays {
                c.workdays.push(Workday {
                    date: base + Duration::days(i64::from(day)),
                    hours_of: Weekday::Mon,
                    name: "make-up".into(),
                });
            }
            c
        })
    }

    proptest! {
        #[test]
        fn adding_working_time_lands_in_working_time_and_measures_back(
            c in calendars(),
            start in 1_767_225_600_000i64..1_800_000_000_000,
            minutes in 1i64..20_000,
        ) {
            let working = minutes * 60_000;
            let due = c.add_working(start, working);
            prop_assert!(due > start);
            prop_assert_eq!(c.working_between(start, due), working);
            // The due moment is the end of working time just spent: the
            // instant before it is working time.
            prop_assert!(c.is_working(due - 1), "due at a non-working moment");
        }

        #[test]
        fn working_days_land_on_a_working_moment_later_than_the_start(
            c in calendars(),
            start in 1_767_225_600_000i64..1_800_000_000_000,
            days in 1u32..30,
        ) {
            let due = c.due(start, Limit::WorkingDays(days));
            prop_assert!(due > start);
            prop_assert!(c.is_working(due) || c.is_working(due - 1));
        }
    }
}
