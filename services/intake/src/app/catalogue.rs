//! The catalogue of application types (admin): what is in scope, the
//! materials each needs, the time limit, and the process it starts.

use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::paging::Page;
use prost::Message;

use super::{App, Call, events};
use crate::domain::application_type::{ApplicationType, TypeSpec};
use crate::store;

impl App {
    pub async fn create_type<M: Message + Default>(
        &self,
        call: &Call,
        spec: TypeSpec,
        respond: impl FnOnce(&ApplicationType) -> M,
    ) -> Result<M, Error> {
        self.check_calendar(&spec.calendar)?;
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let t = ApplicationType::new(spec, self.now());
        let resource = t.resource();
        if !store::insert_type(&mut tx, &t).await? {
            return Err(Error::AlreadyExists(resource));
        }
        events::audit(
            &mut tx,
            &call.actor,
            "intake.application_types.create",
            &resource,
            String::new(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&t)).await
    }

    /// Replaces everything of type `spec.code` but its code, guarded by
    /// `given_etag` when one is given.
    pub async fn update_type<M: Message + Default>(
        &self,
        call: &Call,
        spec: TypeSpec,
        given_etag: &str,
        respond: impl FnOnce(&ApplicationType) -> M,
    ) -> Result<M, Error> {
        self.check_calendar(&spec.calendar)?;
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let resource = format!("applicationTypes/{}", spec.code);
        let Some(mut t) = store::get_type(&mut tx, &spec.code).await? else {
            return Err(Error::NotFound(resource));
        };
        let read_version = t.version;
        etag::check(&resource, given_etag, read_version)?;
        t.update(spec, self.now());
        store::update_type(&mut tx, &t, read_version)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        events::audit(
            &mut tx,
            &call.actor,
            "intake.application_types.update",
            &resource,
            String::new(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&t)).await
    }

    /// A type's calendar must be one intake knows.
    fn check_calendar(&self, id: &str) -> Result<(), Error> {
        match self.inner.calendars.get(id) {
            Ok(_) => Ok(()),
            Err(Error::NotFound(_)) => Err(Error::invalid(
                "application_type.calendar_id",
                format!("no calendar has the id {id:?} (see ListCalendars)"),
            )),
            Err(e) => Err(e),
        }
    }

    pub async fn application_type(&self, code: &str) -> Result<ApplicationType, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_type(&mut conn, code)
            .await?
            .ok_or_else(|| Error::NotFound(format!("applicationTypes/{code}")))
    }

    /// By code; the page and the next page's token.
    pub async fn application_types(
        &self,
        page: &Page,
    ) -> Result<(Vec<ApplicationType>, String), Error> {
        let mut rows = store::list_types(self.db(), page).await?;
        let next = page.finish(&mut rows, |t| t.code.clone());
        Ok((rows, next))
    }
}
