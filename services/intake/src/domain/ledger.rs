//! Ledger numbers (§2.2.3): `SQ-<year>-<6 digits>`, one sequence per year.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LedgerNumber {
    pub year: i32,
    pub seq: i64,
}

impl LedgerNumber {
    /// Largest sequence number the six digits hold.
    pub const MAX_SEQ: i64 = 999_999;

    /// The number for the `seq`-th application of `year`, if it fits.
    pub fn new(year: i32, seq: i64) -> Option<LedgerNumber> {
        ((1..=Self::MAX_SEQ).contains(&seq) && (1000..=9999).contains(&year))
            .then_some(LedgerNumber { year, seq })
    }

    pub fn parse(s: &str) -> Option<LedgerNumber> {
        let rest = s.strip_prefix("SQ-")?;
        let (year, seq) = rest.split_once('-')?;
        if year.len() != 4 || seq.len() != 6 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        LedgerNumber::new(year.parse().ok()?, seq.parse().ok()?)
    }
}

impl fmt::Display for LedgerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SQ-{:04}-{:06}", self.year, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_numbers_are_zero_padded_and_round_trip() {
        let n = LedgerNumber::new(2026, 42).expect("fits");
        assert_eq!(n.to_string(), "SQ-2026-000042");
        assert_eq!(LedgerNumber::parse("SQ-2026-000042"), Some(n));
    }

    #[test]
    fn a_year_holds_at_most_999999_applications() {
        assert!(LedgerNumber::new(2026, 999_999).is_some());
        assert!(LedgerNumber::new(2026, 1_000_000).is_none());
        assert!(LedgerNumber::new(2026, 0).is_none());
        assert!(LedgerNumber::parse("SQ-2026-42").is_none());
    }

    #[test]
    fn text_order_is_number_order() {
        let a = LedgerNumber::new(2025, 999_999).expect("fits").to_string();
        let b = LedgerNumber::new(2026, 1).expect("fits").to_string();
        let c = LedgerNumber::new(2026, 10).expect("fits").to_string();
        assert!(a < b && b < c);
    }
}
