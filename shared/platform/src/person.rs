//! Who did something, as a record keeps it: the subject, name, title and
//! department of their token at the time.

use procedo_proto::common;
use serde::{Deserialize, Serialize};

use crate::identity::Actor;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub subject: String,
    pub name: String,
    pub title: String,
    pub department: String,
}

impl Person {
    pub fn of(actor: &Actor) -> Person {
        Person {
            subject: actor.subject.clone(),
            name: actor.name.clone(),
            title: actor.title.clone(),
            department: actor.department.clone(),
        }
    }

    pub fn to_proto(&self) -> common::Actor {
        common::Actor {
            subject: self.subject.clone(),
            name: self.name.clone(),
            title: self.title.clone(),
            department: self.department.clone(),
            ..common::Actor::default()
        }
    }
}
