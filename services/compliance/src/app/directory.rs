//! The directory: imported, kept current from the actors of the events
//! every service sends, and read to resolve audiences and department heads.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};

use procedo_platform::error::Error;
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_proto::common;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, events};
use crate::domain::directory::{Audience, Department, Member, Source, with_descendants};
use crate::store;

/// What the directory remembers of each person it saw, so an unchanged
/// token costs no write.
#[derive(Debug, Default)]
pub struct Seen(pub(super) std::sync::Mutex<HashMap<String, u64>>);

fn fingerprint(a: &common::Actor) -> u64 {
    let mut h = DefaultHasher::new();
    (&a.name, &a.title, &a.department, &a.roles).hash(&mut h);
    h.finish()
}

impl App {
    /// Records the people acting in `actors` as their tokens describe them,
    /// in `tx`; services and unchanged people cost nothing.
    pub async fn seen(
        &self,
        tx: &mut AnyConnection,
        actors: &[&common::Actor],
    ) -> Result<(), Error> {
        for a in actors {
            if a.subject.is_empty() || a.roles.iter().any(|r| r == "service") {
                continue;
            }
            let print = fingerprint(a);
            let known = self
                .seen_cache()
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&a.subject)
                == Some(&print);
            if known {
                continue;
            }
            let before = store::get_member(tx, &a.subject).await?;
            // A token without a title or name keeps what the directory knew.
            let keep = |token: &str, known: Option<&String>| {
                if token.is_empty() {
                    known.cloned().unwrap_or_default()
                } else {
                    token.to_owned()
                }
            };
            let member = Member {
                subject: a.subject.clone(),
                name: keep(&a.name, before.as_ref().map(|m| &m.name)),
                title: keep(&a.title, before.as_ref().map(|m| &m.title)),
                department: keep(&a.department, before.as_ref().map(|m| &m.department)),
                roles: a.roles.clone(),
                source: Source::Token,
                active: true,
                updated_at: self.now(),
            };
            let changed = before.as_ref().is_none_or(|b| {
                (&b.name, &b.title, &b.department, &b.roles, b.active)
                    != (
                        &member.name,
                        &member.title,
                        &member.department,
                        &member.roles,
                        true,
                    )
            });
            if changed {
                store::put_member(tx, &member).await?;
            }
            self.seen_cache()
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(a.subject.clone(), print);
        }
        Ok(())
    }

    /// Adds or updates people and departments.
    pub async fn import_directory<M: Message + Default>(
        &self,
        call: &Call,
        people: Vec<Member>,
        departments: Vec<Department>,
        respond: impl FnOnce(usize, usize) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        for d in &departments {
            store::put_department(&mut tx, d).await?;
        }
        for m in &people {
            store::put_member(&mut tx, m).await?;
        }
        // Imported entries are the truth until their token says otherwise.
        self.seen_cache()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        let detail = format!("{} people, {} departments", people.len(), departments.len());
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.directory.import",
            "directory",
            detail,
        )
        .await?;
        self.mutations()
            .finish(tx, call, respond(people.len(), departments.len()))
            .await
    }

    pub async fn member(&self, subject: &str) -> Result<Member, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_member(&mut conn, subject)
            .await?
            .ok_or_else(|| Error::NotFound(format!("people/{subject}")))
    }

    pub async fn members(
        &self,
        department: &str,
        include_inactive: bool,
        page: &Page,
    ) -> Result<(Vec<Member>, String), Error> {
        let mut rows = store::list_members(
            self.db(),
            department,
            include_inactive,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |m| m.subject.clone());
        Ok((rows, next))
    }

    pub async fn department(&self, code: &str) -> Result<Department, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_department(&mut conn, code)
            .await?
            .ok_or_else(|| Error::NotFound(format!("departments/{code}")))
    }

    pub async fn departments(&self, page: &Page) -> Result<(Vec<Department>, String), Error> {
        let mut rows: Vec<Department> = store::all_departments(self.db())
            .await?
            .into_iter()
            .filter(|d| page.after.as_deref().is_none_or(|a| d.code.as_str() > a))
            .take(usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX))
            .collect();
        let next = page.finish(&mut rows, |d| d.code.clone());
        Ok((rows, next))
    }

    /// The people `audience` names now.
    pub async fn audience(&self, audience: &Audience) -> Result<Vec<Member>, Error> {
        let all = store::all_departments(self.db()).await?;
        let departments = with_descendants(&audience.departments, &all);
        let members = store::members_of(self.db(), &departments).await?;
        Ok(members
            .into_iter()
            .filter(|m| audience.includes(m, &departments))
            .collect())
    }

    /// `subject`'s entry when `audience` names them now: their entry and the
    /// departments read, not the whole audience.
    pub async fn member_of(
        &self,
        audience: &Audience,
        subject: &str,
    ) -> Result<Option<Member>, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let Some(member) = store::get_member(&mut conn, subject).await? else {
            return Ok(None);
        };
        let all = store::all_departments(self.db()).await?;
        Ok(audience.names(&member, &all).then_some(member))
    }

    /// The head of `department` the directory names, if any.
    pub async fn head_of(
        &self,
        conn: &mut AnyConnection,
        department: &str,
    ) -> Result<Option<String>, Error> {
        Ok(store::get_department(conn, department)
            .await?
            .map(|d| d.head)
            .filter(|h| !h.is_empty()))
    }
}
