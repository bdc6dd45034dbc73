//! Systematic numbers (§4.1): a category's pattern over its code, the
//! company's year, the owning department and a zero-padded sequence, e.g.
//! `HT-{year}-{seq:6}` → `HT-2026-000042`. Pure: the store keeps the
//! sequences, one per category, period and (when the pattern names it)
//! department.

use std::fmt;

/// When a sequence starts again at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// Every year of the company's time zone.
    Yearly,
    Never,
}

impl Reset {
    pub fn as_str(self) -> &'static str {
        match self {
            Reset::Yearly => "YEARLY",
            Reset::Never => "NEVER",
        }
    }

    pub fn parse(s: &str) -> Option<Reset> {
        match s {
            "YEARLY" => Some(Reset::Yearly),
            "NEVER" => Some(Reset::Never),
            _ => None,
        }
    }

    /// The period a number given in `year` belongs to.
    pub fn period(self, year: i32) -> String {
        match self {
            Reset::Yearly => year.to_string(),
            Reset::Never => String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Category,
    Year,
    Department,
    Seq(usize),
}

/// A checked numbering pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    parts: Vec<Part>,
}

/// The most digits a sequence may have.
pub const MAX_SEQ_WIDTH: usize = 12;

impl Pattern {
    /// Reads `text`; says what is wrong (an unknown placeholder, no or two
    /// `{seq:N}`, a width out of range, a stray brace, a yearly reset
    /// without `{year}`).
    pub fn parse(text: &str, reset: Reset) -> Result<Pattern, String> {
        if text.trim().is_empty() {
            return Err("is required, e.g. \"HT-{year}-{seq:6}\"".into());
        }
        if text.chars().count() > 100 {
            return Err("must be at most 100 characters".into());
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                Some(0) if rest.starts_with('{') => {
                    let end = rest
                        .find('}')
                        .ok_or_else(|| "has a '{' that is never closed".to_owned())?;
                    parts.push(placeholder(&rest[1..end])?);
                    rest = &rest[end + 1..];
                }
                Some(0) => return Err("has a '}' that was never opened".into()),
                Some(at) => {
                    parts.push(Part::Text(rest[..at].to_owned()));
                    rest = &rest[at..];
                }
                None => {
                    parts.push(Part::Text(rest.to_owned()));
                    rest = "";
                }
            }
        }
        for part in &parts {
            if let Part::Text(t) = part
                && t.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err("must not hold spaces or control characters".into());
            }
        }
        match parts.iter().filter(|p| matches!(p, Part::Seq(_))).count() {
            0 => return Err("must hold the sequence, {seq:N}".into()),
            1 => {}
            _ => return Err("must hold the sequence {seq:N} once".into()),
        }
        if reset == Reset::Yearly && !parts.contains(&Part::Year) {
            return Err("must hold {year} when numbers start again every year".into());
        }
        Ok(Pattern {
            text: text.to_owned(),
            parts,
        })
    }

    /// Whether each department keeps its own sequence.
    pub fn names_department(&self) -> bool {
        self.parts.contains(&Part::Department)
    }

    /// The number of the `seq`th document; `None` when `seq` no longer
    /// fits the pattern's width.
    pub fn render(&self, category: &str, year: i32, department: &str, seq: i64) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Category => out.push_str(&category.to_uppercase()),
                Part::Year => out.push_str(&format!("{year:04}")),
                Part::Department => out.push_str(&department.to_uppercase()),
                Part::Seq(width) => {
                    let digits = format!("{seq:0width$}");
                    if digits.len() > *width {
                        return None;
                    }
                    out.push_str(&digits);
                }
            }
        }
        Some(out)
    }
}

fn placeholder(name: &str) -> Result<Part, String> {
    match name {
        "category" => Ok(Part::Category),
        "year" => Ok(Part::Year),
        "department" => Ok(Part::Department),
        _ => {
            let width = name
                .strip_prefix("seq:")
                .ok_or_else(|| {
                    format!(
                        "has the unknown placeholder {{{name}}}: use {{category}}, {{year}}, \
                         {{department}} or {{seq:N}}"
                    )
                })?
                .parse::<usize>()
                .ok()
                .filter(|w| (1..=MAX_SEQ_WIDTH).contains(w))
                .ok_or_else(|| format!("{{{name}}}: the width must be 1 to {MAX_SEQ_WIDTH}"))?;
            Ok(Part::Seq(width))
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_renders_its_parts_and_pads_the_sequence() {
        let p = Pattern::parse("HT-{year}-{seq:6}", Reset::Yearly).expect("valid");
        assert_eq!(
            p.render("contract", 2026, "sales", 42).as_deref(),
            Some("HT-2026-000042")
        );
        assert!(!p.names_department());
        let p = Pattern::parse("{category}/{department}/{seq:3}", Reset::Never).expect("valid");
        assert_eq!(
            p.render("report", 2026, "ops", 7).as_deref(),
            Some("REPORT/OPS/007")
        );
        assert!(p.names_department());
        assert_eq!(
            p.render("report", 2026, "ops", 1000),
            None,
            "the width is used up"
        );
    }

    #[test]
    fn a_wrong_pattern_says_what_is_wrong() {
        let wrong = |text: &str, reset| Pattern::parse(text, reset).expect_err(text);
        assert!(wrong("HT-{year}", Reset::Yearly).contains("{seq:N}"));
        assert!(wrong("{seq:3}-{seq:3}", Reset::Never).contains("once"));
        assert!(wrong("HT-{seq:6}", Reset::Yearly).contains("{year}"));
        assert!(wrong("HT-{month}-{seq:6}", Reset::Never).contains("{month}"));
        assert!(wrong("HT-{seq:13}", Reset::Never).contains("1 to 12"));
        assert!(wrong("HT-{seq:6", Reset::Never).contains("never closed"));
        assert!(wrong("HT}-{seq:6}", Reset::Never).contains("never opened"));
        assert!(wrong("HT {seq:6}", Reset::Never).contains("spaces"));
        assert!(wrong("", Reset::Never).contains("required"));
    }

    #[test]
    fn the_period_is_the_year_or_nothing() {
        assert_eq!(Reset::Yearly.period(2026), "2026");
        assert_eq!(Reset::Never.period(2026), "");
    }
}
