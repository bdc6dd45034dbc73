//! Money: an ISO 4217 currency and an amount in its minor unit, never a
//! floating-point number.

use procedo_proto::common;

use crate::validate::Violations;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Money {
    /// Three upper-case letters, e.g. "CNY".
    pub currency: String,
    /// In the currency's minor unit (fen, cents).
    pub minor_units: i64,
}

impl Money {
    pub fn to_proto(&self) -> common::Money {
        common::Money {
            currency_code: self.currency.clone(),
            minor_units: self.minor_units,
        }
    }
}

impl Violations {
    /// An optional amount: a three-letter currency and no negative value.
    pub fn money(&mut self, field: &str, m: Option<&common::Money>) -> Option<Money> {
        let m = m?;
        let currency = m.currency_code.trim();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            self.add(
                format!("{field}.currency_code"),
                "must be three upper-case letters (ISO 4217)",
            );
        }
        if m.minor_units < 0 {
            self.add(format!("{field}.minor_units"), "must not be negative");
        }
        Some(Money {
            currency: currency.to_owned(),
            minor_units: m.minor_units,
        })
    }
}
