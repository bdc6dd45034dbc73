//! Statements whose conditions are chosen at run time (lists with
//! optional filters): every value is bound, numbered `$1`, `$2`… in the
//! order it is added; only column names and placeholders are formatted
//! into the text.

use sqlx::any::AnyArguments;

use crate::db::Backend;
use sqlx::query::Query;

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    Text(String),
    Int(i64),
    Bytes(Vec<u8>),
    /// A text column that may be NULL.
    MaybeText(Option<String>),
    /// An integer column that may be NULL.
    MaybeInt(Option<i64>),
}

impl From<&str> for Bind {
    fn from(v: &str) -> Bind {
        Bind::Text(v.to_owned())
    }
}

impl From<&String> for Bind {
    fn from(v: &String) -> Bind {
        Bind::Text(v.clone())
    }
}

impl From<String> for Bind {
    fn from(v: String) -> Bind {
        Bind::Text(v)
    }
}

impl From<i64> for Bind {
    fn from(v: i64) -> Bind {
        Bind::Int(v)
    }
}

impl From<Vec<u8>> for Bind {
    fn from(v: Vec<u8>) -> Bind {
        Bind::Bytes(v)
    }
}

impl From<Option<&str>> for Bind {
    fn from(v: Option<&str>) -> Bind {
        Bind::MaybeText(v.map(str::to_owned))
    }
}

impl From<Option<i64>> for Bind {
    fn from(v: Option<i64>) -> Bind {
        Bind::MaybeInt(v)
    }
}

/// The conditions of a statement and the values they bind.
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    conditions: Vec<String>,
    binds: Vec<Bind>,
}

impl Conditions {
    pub fn new() -> Conditions {
        Conditions::default()
    }

    /// Binds `value`; its placeholder.
    pub fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    pub fn text(&mut self, value: impl Into<String>) -> String {
        self.bind(Bind::Text(value.into()))
    }

    pub fn int(&mut self, value: i64) -> String {
        self.bind(Bind::Int(value))
    }

    /// Adds a condition (written with placeholders from [`Conditions::bind`]).
    pub fn push(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// `WHERE a AND b …`, or nothing when there is no condition.
    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// The values, in placeholder order.
    pub fn into_binds(self) -> Vec<Bind> {
        self.binds
    }
}

/// `query` with `binds` bound in order.
pub fn bind_all(
    mut query: Query<'_, sqlx::Any, AnyArguments>,
    binds: Vec<Bind>,
) -> Query<'_, sqlx::Any, AnyArguments> {
    for bind in binds {
        query = match bind {
            Bind::Text(t) => query.bind(t),
            Bind::Int(n) => query.bind(n),
            Bind::Bytes(b) => query.bind(b),
            Bind::MaybeText(t) => query.bind(t),
            Bind::MaybeInt(n) => query.bind(n),
        };
    }
    query
}

/// The `(…), (…)` of a multi-row `INSERT … VALUES`: `rows` rows of
/// `columns` placeholders each — bind the values row by row, and bind
/// nothing else in the statement. One statement writes what would
/// otherwise take a round trip per row.
///
/// PostgreSQL gets `$1, $2, …`; SQLite gets anonymous `?`, because sqlx
/// looks each numbered parameter up by name, which SQLite answers by a
/// linear scan: numbered, a statement of n parameters costs n² (27,000
/// parameters took ~2 s to bind), anonymous it costs n.
pub fn values(backend: Backend, rows: usize, columns: usize) -> String {
    let mut text = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for column in 0..columns {
            if column > 0 {
                text.push_str(", ");
            }
            match backend {
                Backend::Postgres => {
                    text.push('$');
                    text.push_str(&(row * columns + column + 1).to_string());
                }
                Backend::Sqlite => text.push('?'),
            }
        }
        text.push(')');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_number_the_placeholders_row_by_row() {
        assert_eq!(values(Backend::Postgres, 1, 2), "($1, $2)");
        assert_eq!(
            values(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(values(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }

    #[test]
    fn placeholders_follow_the_values_in_order() {
        let mut c = Conditions::new();
        assert_eq!(c.where_clause(), "");
        let a = c.text("x");
        c.push(format!("a = {a}"));
        let b = c.int(7);
        c.push(format!("b < {b}"));
        assert_eq!(c.where_clause(), "WHERE a = $1 AND b < $2");
        assert_eq!(c.into_binds(), [Bind::Text("x".into()), Bind::Int(7)]);
    }
}
