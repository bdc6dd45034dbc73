//! Customer inquiries (§2.1): recorded, answered, passed on, resolved and
//! closed; the customer is told of each step and of the progress notes
//! written for them.

use procedo_platform::deadline::DeadlineState;
use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::Actor;
use procedo_platform::paging::Page;
use procedo_proto::events::intake::{INQUIRY_CLOSED, INQUIRY_RESPONDED};
use procedo_proto::intake as pb;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, Call, events};
use crate::domain::inquiry::{Inquiry, InquiryChange, InquiryEntry, InquiryStatus, NewInquiry};
use crate::store::{self, InquiryFilter};

impl App {
    /// Records a new inquiry, due within its channel's time limit.
    pub async fn open_inquiry<M: Message + Default>(
        &self,
        call: &Call,
        new: NewInquiry,
        respond: impl FnOnce(&Inquiry) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let now = self.now();
        let id = uuid::Uuid::now_v7().to_string();
        let inquiry = Inquiry::open(
            id,
            new,
            &self.inner.limits,
            &self.inner.calendars.default_calendar(),
            &call.actor,
            now,
        );
        store::insert_inquiry(&mut tx, &inquiry).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "intake.inquiries.create",
            &inquiry.resource(),
            "OPEN".into(),
        )
        .await?;
        tell_customer(&mut tx, &call.actor, &inquiry, &inquiry.entries[0]).await?;
        self.mutations().finish(tx, call, respond(&inquiry)).await
    }

    /// Applies `change` to inquiry `id`, guarded by `given_etag` when one
    /// is given.
    pub async fn change_inquiry<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        change: InquiryChange,
        respond: impl FnOnce(&Inquiry) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut inquiry = load(&mut tx, id).await?;
        let resource = inquiry.resource();
        let read_version = inquiry.version;
        etag::check(&resource, given_etag, read_version)?;
        let action = change.action();
        let answered_before = inquiry.response.state == DeadlineState::Met;
        let calendar = self.inner.calendars.get(&inquiry.response.calendar)?;
        let entry = inquiry
            .change(change, &call.actor, self.now(), &calendar)
            .map_err(|t| Error::illegal(&resource, t))?;
        store::update_inquiry(&mut tx, &inquiry, read_version, &entry)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        let from = entry.from.map(|s| s.as_str()).unwrap_or("");
        events::audit(
            &mut tx,
            &call.actor,
            action,
            &resource,
            format!("{from} -> {}", entry.to.as_str()),
        )
        .await?;
        if entry.tells_customer() {
            tell_customer(&mut tx, &call.actor, &inquiry, &entry).await?;
        }
        if !answered_before && inquiry.response.state == DeadlineState::Met {
            tell_compliance(&mut tx, &call.actor, &inquiry, INQUIRY_RESPONDED).await?;
        }
        if entry.to == InquiryStatus::Closed && entry.from != Some(InquiryStatus::Closed) {
            tell_compliance(&mut tx, &call.actor, &inquiry, INQUIRY_CLOSED).await?;
        }
        inquiry.show(entry);
        self.mutations().finish(tx, call, respond(&inquiry)).await
    }

    /// The inquiry's entries, oldest first; the page and the next page's
    /// token.
    pub async fn inquiry_entries(
        &self,
        id: &str,
        page: &Page,
    ) -> Result<(Vec<InquiryEntry>, String), Error> {
        self.inquiry(id).await?;
        let mut rows = store::list_entries(self.db(), id, page).await?;
        let next = page.finish(&mut rows, |(seq, _)| seq.to_string());
        Ok((rows.into_iter().map(|(_, e)| e).collect(), next))
    }

    pub async fn inquiry(&self, id: &str) -> Result<Inquiry, Error> {
        let mut conn = self.db().reader().acquire().await?;
        load(&mut conn, id).await
    }

    /// Newest first; the page and the next page's token.
    pub async fn inquiries(
        &self,
        filter: &InquiryFilter,
        page: &Page,
    ) -> Result<(Vec<Inquiry>, String), Error> {
        let mut rows = store::list_inquiries(self.db(), filter, page).await?;
        let next = page.finish(&mut rows, |i| i.id.clone());
        Ok((rows, next))
    }
}

async fn load(conn: &mut AnyConnection, id: &str) -> Result<Inquiry, Error> {
    store::get_inquiry(conn, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("inquiries/{id}")))
}

/// Queues what compliance's assessment counts of `inquiry` (its first
/// response against the channel's limit, the customer's satisfaction at
/// closing): no customer's personal data.
async fn tell_compliance(
    tx: &mut AnyConnection,
    actor: &Actor,
    inquiry: &Inquiry,
    event_type: &str,
) -> Result<(), Error> {
    let change = pb::StatusChanged {
        resource: inquiry.resource(),
        to_status: inquiry.status.as_str().to_owned(),
        // An inquiry no department took over is the answering desk's.
        department: if inquiry.department.is_empty() {
            actor.department.clone()
        } else {
            inquiry.department.clone()
        },
        due_time: Some(procedo_platform::time::to_timestamp(inquiry.response.due)),
        satisfaction: inquiry.satisfaction,
        ..pb::StatusChanged::default()
    };
    events::to_compliance(tx, actor, event_type, &change).await?;
    Ok(())
}

/// Queues what the customer is told of `entry`.
async fn tell_customer(
    tx: &mut AnyConnection,
    actor: &Actor,
    inquiry: &Inquiry,
    entry: &InquiryEntry,
) -> Result<(), Error> {
    let change = pb::StatusChanged {
        resource: inquiry.resource(),
        from_status: entry
            .from
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        to_status: entry.to.as_str().to_owned(),
        customer: Some(pb::Customer {
            name: inquiry.customer.name.clone(),
            phone: inquiry.customer.phone.clone(),
            email: inquiry.customer.email.clone(),
        }),
        message: inquiry.customer_message(entry),
        ..pb::StatusChanged::default()
    };
    let event_type = if entry.shared_with_customer {
        procedo_proto::events::intake::INQUIRY_PROGRESS_NOTED
    } else {
        procedo_proto::events::intake::INQUIRY_STATUS_CHANGED
    };
    events::notify_customer(tx, actor, event_type, &change).await?;
    Ok(())
}
