//! The directory: who is in which department, who heads each, and the
//! audiences (departments and roles) that resolve against it when used.

use serde::{Deserialize, Serialize};

/// Where an entry came from last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Import,
    /// From the person's token, as they acted.
    Token,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Import => "IMPORT",
            Source::Token => "TOKEN",
        }
    }

    pub fn parse(s: &str) -> Source {
        if s == "IMPORT" {
            Source::Import
        } else {
            Source::Token
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub subject: String,
    pub name: String,
    pub title: String,
    pub department: String,
    pub roles: Vec<String>,
    pub source: Source,
    pub active: bool,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub code: String,
    pub name: String,
    pub head: String,
    pub parent: String,
    pub updated_at: i64,
}

/// Who something is for: people of these departments (and the departments
/// under them) holding any of these roles; an empty list matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    pub departments: Vec<String>,
    pub roles: Vec<String>,
}

impl Audience {
    /// Whether `member` is in it; `departments` are the audience's
    /// departments with every one under them.
    pub fn includes(&self, member: &Member, departments: &[String]) -> bool {
        member.active
            && (self.departments.is_empty() || departments.contains(&member.department))
            && (self.roles.is_empty() || member.roles.iter().any(|r| self.roles.contains(r)))
    }
}

impl Audience {
    /// Whether it names `member`, `all` being every department (to find
    /// those under the audience's).
    pub fn names(&self, member: &Member, all: &[Department]) -> bool {
        self.includes(member, &with_descendants(&self.departments, all))
    }
}

/// `roots` and every department under them, by `parent` links.
pub fn with_descendants(roots: &[String], all: &[Department]) -> Vec<String> {
    let mut out: Vec<String> = roots.to_vec();
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        for d in all.iter().filter(|d| d.parent == parent) {
            if !out.contains(&d.code) {
                out.push(d.code.clone());
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(code: &str, parent: &str) -> Department {
        Department {
            code: code.into(),
            name: code.into(),
            head: String::new(),
            parent: parent.into(),
            updated_at: 0,
        }
    }

    fn member(subject: &str, department: &str, roles: &[&str]) -> Member {
        Member {
            subject: subject.into(),
            name: subject.into(),
            title: String::new(),
            department: department.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            source: Source::Import,
            active: true,
            updated_at: 0,
        }
    }

    #[test]
    fn an_audience_takes_in_the_departments_under_its_own_and_its_roles() {
        let all = [
            dept("sales", ""),
            dept("north", "sales"),
            dept("north-a", "north"),
            dept("finance", ""),
        ];
        let under = with_descendants(&["sales".into()], &all);
        assert_eq!(under, ["sales", "north", "north-a"]);
        let heads = Audience {
            departments: vec!["sales".into()],
            roles: vec!["department_head".into()],
        };
        assert!(heads.includes(&member("a", "north-a", &["department_head"]), &under));
        assert!(!heads.includes(&member("b", "north-a", &["executor"]), &under));
        assert!(!heads.includes(&member("c", "finance", &["department_head"]), &under));
        let mut gone = member("d", "sales", &["department_head"]);
        gone.active = false;
        assert!(!heads.includes(&gone, &under));
        assert!(Audience::default().includes(&member("e", "finance", &[]), &[]));
        assert!(heads.names(&member("a", "north-a", &["department_head"]), &all));
        assert!(!heads.names(&member("c", "finance", &["department_head"]), &all));
    }
}
