//! Who is calling: the [`Actor`] a verified token describes, its [`Role`]s
//! and its [`Clearance`]. Plain data, free of any transport: the domain of
//! every service uses these types, and [`crate::auth`] makes them from
//! bearer tokens at the edge.

use std::fmt;

use procedo_proto::common;
use serde::{Deserialize, Serialize};

/// What a caller may do. `Admin` passes every role check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    IntakeClerk,
    DepartmentHead,
    Reviewer,
    Approver,
    Executor,
    Acceptor,
    Archivist,
    Auditor,
    Trainer,
    Admin,
    /// Another Procedo service calling on its own behalf.
    Service,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::IntakeClerk,
        Role::DepartmentHead,
        Role::Reviewer,
        Role::Approver,
        Role::Executor,
        Role::Acceptor,
        Role::Archivist,
        Role::Auditor,
        Role::Trainer,
        Role::Admin,
        Role::Service,
    ];

    /// The name used in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::IntakeClerk => "intake_clerk",
            Role::DepartmentHead => "department_head",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::Executor => "executor",
            Role::Acceptor => "acceptor",
            Role::Archivist => "archivist",
            Role::Auditor => "auditor",
            Role::Trainer => "trainer",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Confidentiality levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clearance {
    #[default]
    Public,
    Internal,
    Confidential,
    Secret,
}

impl Clearance {
    pub fn parse(name: &str) -> Option<Clearance> {
        match name {
            "public" => Some(Clearance::Public),
            "internal" => Some(Clearance::Internal),
            "confidential" => Some(Clearance::Confidential),
            "secret" => Some(Clearance::Secret),
            _ => None,
        }
    }
}

/// The claims Procedo reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub approval_level: i32,
    #[serde(default)]
    pub clearance: Clearance,
    pub exp: u64,
    #[serde(default)]
    pub iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub subject: String,
    pub name: String,
    pub title: String,
    pub department: String,
    /// Roles the token grants; unknown role names are ignored.
    pub roles: Vec<Role>,
    pub approval_level: i32,
    pub clearance: Clearance,
}

impl Actor {
    pub fn from_claims(c: Claims) -> Actor {
        Actor {
            subject: c.sub,
            name: c.name,
            title: c.title,
            department: c.department,
            roles: c.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            approval_level: c.approval_level,
            clearance: c.clearance,
        }
    }

    /// Procedo itself, for what a service does on its own (recomputing
    /// deadlines when it learns of a calendar version at start-up).
    pub fn system() -> Actor {
        Actor {
            subject: "procedo".into(),
            name: "Procedo".into(),
            title: String::new(),
            department: String::new(),
            roles: vec![Role::Service],
            approval_level: 0,
            clearance: Clearance::Public,
        }
    }

    /// True when the actor holds `role` (admins hold every role).
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role) || self.roles.contains(&Role::Admin)
    }

    /// Ok when the actor holds one of `allowed`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), MissingRole> {
        if allowed.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            Err(MissingRole(allowed.to_vec()))
        }
    }

    /// The actor as carried in events and responses.
    pub fn to_proto(&self) -> common::Actor {
        common::Actor {
            subject: self.subject.clone(),
            name: self.name.clone(),
            title: self.title.clone(),
            department: self.department.clone(),
            roles: self.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            approval_level: self.approval_level,
            clearance: match self.clearance {
                Clearance::Public => common::Clearance::Public,
                Clearance::Internal => common::Clearance::Internal,
                Clearance::Confidential => common::Clearance::Confidential,
                Clearance::Secret => common::Clearance::Secret,
            } as i32,
        }
    }

    /// An actor read back from an event or a stored record.
    pub fn from_proto(p: &common::Actor) -> Actor {
        Actor {
            subject: p.subject.clone(),
            name: p.name.clone(),
            title: p.title.clone(),
            department: p.department.clone(),
            roles: p.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            approval_level: p.approval_level,
            clearance: match common::Clearance::try_from(p.clearance) {
                Ok(common::Clearance::Internal) => Clearance::Internal,
                Ok(common::Clearance::Confidential) => Clearance::Confidential,
                Ok(common::Clearance::Secret) => Clearance::Secret,
                _ => Clearance::Public,
            },
        }
    }
}

/// The caller holds none of the roles an action needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this call needs one of the roles: {}", self.0.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))]
pub struct MissingRole(pub Vec<Role>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_passes_every_role_check_and_others_only_their_own() {
        let mut actor = Actor::from_claims(Claims {
            sub: "a".into(),
            name: String::new(),
            title: String::new(),
            department: String::new(),
            roles: vec!["auditor".into(), "no_such_role".into()],
            approval_level: 0,
            clearance: Clearance::Public,
            exp: 0,
            iat: 0,
            iss: None,
            aud: None,
        });
        assert!(actor.require(&[Role::Auditor]).is_ok());
        assert_eq!(
            actor.require(&[Role::IntakeClerk]),
            Err(MissingRole(vec![Role::IntakeClerk]))
        );
        actor.roles = vec![Role::Admin];
        assert!(actor.require(&[Role::IntakeClerk]).is_ok());
    }
}
