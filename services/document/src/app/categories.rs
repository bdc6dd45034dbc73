//! Categories (admin): how documents are numbered and kept.

use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::paging::Page;
use prost::Message;

use super::{App, Call, events};
use crate::domain::category::{Category, CategorySpec};
use crate::store;

impl App {
    pub async fn create_category<M: Message + Default>(
        &self,
        call: &Call,
        spec: CategorySpec,
        respond: impl FnOnce(&Category) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let c = Category::new(spec, self.now());
        if !store::insert_category(&mut tx, &c).await? {
            return Err(Error::AlreadyExists(c.resource()));
        }
        events::audit(
            &mut tx,
            &call.actor,
            "document.categories.create",
            &c.resource(),
            String::new(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&c)).await
    }

    pub async fn update_category<M: Message + Default>(
        &self,
        call: &Call,
        spec: CategorySpec,
        given_etag: &str,
        respond: impl FnOnce(&Category) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let resource = format!("categories/{}", spec.code);
        let Some(mut c) = store::get_category(&mut tx, &spec.code).await? else {
            return Err(Error::NotFound(resource));
        };
        let read_version = c.version;
        etag::check(&resource, given_etag, read_version)?;
        c.update(spec, self.now());
        store::update_category(&mut tx, &c, read_version)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        events::audit(
            &mut tx,
            &call.actor,
            "document.categories.update",
            &resource,
            String::new(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&c)).await
    }

    pub async fn category(&self, code: &str) -> Result<Category, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_category(&mut conn, code)
            .await?
            .ok_or_else(|| Error::NotFound(format!("categories/{code}")))
    }

    /// By code; the page and the next page's token.
    pub async fn categories(&self, page: &Page) -> Result<(Vec<Category>, String), Error> {
        let mut rows = store::list_categories(self.db(), page).await?;
        let next = page.finish(&mut rows, |c| c.code.clone());
        Ok((rows, next))
    }
}
