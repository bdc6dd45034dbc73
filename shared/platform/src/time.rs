//! Time as the stores keep it: BIGINT milliseconds since the Unix epoch, UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The current time.
pub fn now() -> Millis {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// `ms` as a protobuf timestamp.
pub fn to_timestamp(ms: Millis) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
    }
}

/// An optional stored time as an optional timestamp.
pub fn to_timestamp_opt(ms: Option<Millis>) -> Option<prost_types::Timestamp> {
    ms.map(to_timestamp)
}

/// A protobuf timestamp as milliseconds, or `None` when it is out of range.
pub fn from_timestamp(ts: &prost_types::Timestamp) -> Option<Millis> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return None;
    }
    ts.seconds
        .checked_mul(1000)?
        .checked_add(i64::from(ts.nanos / 1_000_000))
}

/// A duration as milliseconds, saturating.
pub fn duration_ms(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A protobuf duration from milliseconds.
pub fn to_proto_duration(ms: Millis) -> prost_types::Duration {
    prost_types::Duration {
        seconds: ms.div_euclid(1000),
        nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
    }
}

/// A protobuf duration as milliseconds, or `None` when negative or invalid.
pub fn from_proto_duration(d: &prost_types::Duration) -> Option<Millis> {
    if d.seconds < 0 || d.nanos < 0 || d.nanos >= 1_000_000_000 {
        return None;
    }
    d.seconds
        .checked_mul(1000)?
        .checked_add(i64::from(d.nanos / 1_000_000))
}

/// The UTC calendar year of `ms` (proleptic Gregorian).
pub fn utc_year(ms: Millis) -> i32 {
    // Howard Hinnant's civil-from-days: exact for every representable day.
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    i32::try_from(year).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_year_changes_exactly_at_midnight_on_new_years_day() {
        // 2025-12-31T23:59:59.999Z and 2026-01-01T00:00:00Z
        assert_eq!(utc_year(1_767_225_599_999), 2025);
        assert_eq!(utc_year(1_767_225_600_000), 2026);
        assert_eq!(utc_year(0), 1970);
        assert_eq!(utc_year(951_782_400_000), 2000); // 2000-02-29
        assert_eq!(utc_year(-1), 1969);
    }

    #[test]
    fn timestamps_round_trip_through_millis() {
        for ms in [0, 1, 999, 1_767_225_600_123, -1, -1001] {
            assert_eq!(from_timestamp(&to_timestamp(ms)), Some(ms));
        }
    }

    #[test]
    fn negative_durations_are_rejected() {
        let d = prost_types::Duration {
            seconds: -1,
            nanos: 0,
        };
        assert_eq!(from_proto_duration(&d), None);
        assert_eq!(
            from_proto_duration(&to_proto_duration(90_500)),
            Some(90_500)
        );
    }
}
