//! Time as the stores keep it: BIGINT milliseconds since the Unix epoch, UTC.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
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

/// Where a service's domain reads "now" from: the system clock, or a clock
/// set by hand, so a test can run a procedure at 07:00 on 1 January in
/// Beijing or a week later through the public API. Plumbing (leases,
/// retries, tokens) keeps the system clock.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock standing at `at` until it is set or advanced.
    pub fn manual(at: Millis) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(at))))
    }

    pub fn now(&self) -> Millis {
        match &self.0 {
            Some(at) => at.load(Ordering::SeqCst),
            None => now(),
        }
    }

    /// Sets a manual clock; the system clock cannot be set.
    pub fn set(&self, at: Millis) {
        if let Some(now) = &self.0 {
            now.store(at, Ordering::SeqCst);
        }
    }

    /// Moves a manual clock on by `ms`.
    pub fn advance(&self, ms: Millis) {
        if let Some(now) = &self.0 {
            now.fetch_add(ms, Ordering::SeqCst);
        }
    }
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

/// The calendar year `ms` falls in, in `zone`: the company's year (a
/// submission at 07:00 on 1 January in Beijing is in the new year there,
/// though still in the old one in UTC).
pub fn year_in(ms: Millis, zone: chrono_tz::Tz) -> i32 {
    use chrono::{Datelike as _, TimeZone as _};
    zone.timestamp_millis_opt(ms)
        .single()
        .map_or(1970, |t| t.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_changes_at_midnight_in_the_companys_zone() {
        let utc = chrono_tz::UTC;
        // 2025-12-31T23:59:59.999Z and 2026-01-01T00:00:00Z
        assert_eq!(year_in(1_767_225_599_999, utc), 2025);
        assert_eq!(year_in(1_767_225_600_000, utc), 2026);
        assert_eq!(year_in(-1, utc), 1969);
        // 2025-12-31T23:00:00Z is 07:00 on 1 January 2026 in Beijing.
        let seven_in_beijing = 1_767_222_000_000;
        assert_eq!(year_in(seven_in_beijing, utc), 2025);
        assert_eq!(year_in(seven_in_beijing, chrono_tz::Asia::Shanghai), 2026);
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
