//! `procedo.calendar.v1.CalendarService`, served by every service: reads
//! of its copy everywhere, changes at the keeper (admins).

use std::sync::Arc;

use procedo_proto::calendar as pb;
use tonic::{Request, Response, Status};

use super::{Calendars, Keeper, Recompute, Stored, ics, store, store_version, wire};
use crate::auth::{authenticated, authorize};
use crate::calendar::Calendar;
use crate::error::Error;
use crate::etag;
use crate::identity::Role;
use crate::mutation::{Call, Mutations};
use crate::outbox;
use crate::paging::Page;
use crate::time::Clock;
use crate::validate::Violations;

/// A service's `CalendarService`.
#[derive(Clone)]
pub struct CalendarApi {
    mutations: Mutations,
    calendars: Calendars,
    recompute: Arc<dyn Recompute>,
    clock: Clock,
    /// Set at the keeper; elsewhere changes are refused.
    keeper: Option<Keeper>,
}

impl std::fmt::Debug for CalendarApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalendarApi")
            .field("keeper", &self.keeper)
            .finish_non_exhaustive()
    }
}

/// What a change makes of the calendar it changes (`None` when new): its
/// title, calendar and default flag.
type Change = Box<dyn FnOnce(Option<&Stored>) -> Result<(String, Calendar, bool), Error> + Send>;

impl CalendarApi {
    pub(crate) fn new(
        mutations: Mutations,
        calendars: Calendars,
        recompute: Arc<dyn Recompute>,
        clock: Clock,
        keeper: Option<Keeper>,
    ) -> CalendarApi {
        CalendarApi {
            mutations,
            calendars,
            recompute,
            clock,
            keeper,
        }
    }

    /// The current version of `id` (the default when empty) as this
    /// service holds it.
    async fn current(&self, id: &str) -> Result<Stored, Error> {
        let mut conn = self.mutations.db().reader().acquire().await?;
        let stored = if id.is_empty() {
            store::all(&mut conn)
                .await?
                .into_iter()
                .find(|c| c.company_default)
        } else {
            store::get(&mut conn, id).await?
        };
        match stored {
            Some(stored) => Ok(stored),
            // Before the keeper's first version arrives: the configured one.
            None => self.calendars.get(id).map(|c| (*c).clone()),
        }
    }

    async fn change(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        change: Change,
    ) -> Result<pb::PutCalendarResponse, Error> {
        let Some(keeper) = &self.keeper else {
            return Err(Error::Precondition {
                kind: "CALENDAR_KEEPER",
                resource: format!("calendars/{id}"),
                description: "calendars are changed at the workflow service, which sends \
                              every change to the other services"
                    .into(),
            });
        };
        let mut tx = crate::begin!(self.mutations, call);
        let resource = format!("calendars/{id}");
        let current = store::get(&mut tx, id).await?;
        match &current {
            Some(c) => etag::check(&resource, given_etag, c.version)?,
            None if !given_etag.is_empty() => return Err(Error::NotFound(resource)),
            None => {}
        }
        let (title, calendar, company_default) = change(current.as_ref())?;
        if current.as_ref().is_some_and(|c| c.company_default) && !company_default {
            return Err(Error::Precondition {
                kind: "DEFAULT_CALENDAR",
                resource,
                description: "is the company's default calendar; make another calendar the \
                              default instead of unsetting it"
                    .into(),
            });
        }
        let stored = Stored {
            id: id.to_owned(),
            title,
            calendar,
            company_default,
            version: current.as_ref().map_or(1, |c| c.version + 1),
            updated_at: self.clock.now(),
        };
        let moved = store_version(&mut tx, &stored, &call.actor, self.recompute.as_ref()).await?;
        outbox::audit(
            &mut tx,
            &keeper.source,
            &call.actor,
            "calendars.put",
            &resource,
            format!("version {}; {moved} deadlines moved", stored.version),
        )
        .await?;
        keeper.announce(&mut tx, &call.actor, &stored).await?;
        let response = pb::PutCalendarResponse {
            calendar: Some(wire::to_pb(&stored)),
            recomputed_deadlines: i64::try_from(moved).unwrap_or(i64::MAX),
        };
        let response = self.mutations.finish(tx, call, response).await?;
        self.calendars.install(stored);
        Ok(response)
    }
}

#[tonic::async_trait]
impl pb::calendar_service_server::CalendarService for CalendarApi {
    async fn get_calendar(
        &self,
        r: Request<pb::GetCalendarRequest>,
    ) -> Result<Response<pb::Calendar>, Status> {
        authenticated(&r)?;
        let id = r.into_inner().id;
        Ok(Response::new(wire::to_pb(&self.current(&id).await?)))
    }

    async fn list_calendars(
        &self,
        r: Request<pb::ListCalendarsRequest>,
    ) -> Result<Response<pb::ListCalendarsResponse>, Status> {
        authenticated(&r)?;
        let mut conn = self
            .mutations
            .db()
            .reader()
            .acquire()
            .await
            .map_err(Error::from)?;
        let mut stored = store::all(&mut conn).await.map_err(Error::from)?;
        if stored.is_empty() {
            stored = self.calendars.all().iter().map(|c| (**c).clone()).collect();
        }
        Ok(Response::new(pb::ListCalendarsResponse {
            calendars: stored.iter().map(wire::to_pb).collect(),
        }))
    }

    async fn list_calendar_versions(
        &self,
        r: Request<pb::ListCalendarVersionsRequest>,
    ) -> Result<Response<pb::ListCalendarVersionsResponse>, Status> {
        authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let id = wire::id(&mut v, "id", &r.id);
        let page = Page::of(&r, &mut v);
        let before = match page.after.as_deref().map(str::parse::<i64>) {
            None => i64::MAX,
            Some(Ok(version)) => version,
            Some(Err(_)) => {
                v.add("page_token", "is not a token this service issued");
                0
            }
        };
        v.finish()?;
        let mut conn = self
            .mutations
            .db()
            .reader()
            .acquire()
            .await
            .map_err(Error::from)?;
        let mut versions = store::versions(&mut conn, &id, before, page.fetch_limit())
            .await
            .map_err(Error::from)?;
        if versions.is_empty()
            && before == i64::MAX
            && store::get(&mut conn, &id)
                .await
                .map_err(Error::from)?
                .is_none()
        {
            return Err(Error::NotFound(format!("calendars/{id}")).into());
        }
        let next_page_token = page.finish(&mut versions, |c| c.version.to_string());
        Ok(Response::new(pb::ListCalendarVersionsResponse {
            versions: versions.iter().map(wire::to_pb).collect(),
            next_page_token,
        }))
    }

    async fn put_calendar(
        &self,
        r: Request<pb::PutCalendarRequest>,
    ) -> Result<Response<pb::PutCalendarResponse>, Status> {
        let actor = authorize(&r, &[Role::Admin])?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("PutCalendar", actor, v.request_id(&r.request_id, &r));
        let c = r.calendar.unwrap_or_default();
        let id = wire::id(&mut v, "calendar.id", &c.id);
        let title = v.required_line("calendar.title", &c.title, 200);
        let calendar = wire::calendar(&mut v, "calendar", &c);
        v.finish()?;
        let calendar =
            calendar.ok_or_else(|| Error::unexpected("a checked calendar is missing"))?;
        let company_default = c.company_default;
        let change: Change = Box::new(move |_| Ok((title, calendar, company_default)));
        Ok(Response::new(
            self.change(&call, &id, &r.etag, change).await?,
        ))
    }

    async fn import_calendar(
        &self,
        r: Request<pb::ImportCalendarRequest>,
    ) -> Result<Response<pb::PutCalendarResponse>, Status> {
        let actor = authorize(&r, &[Role::Admin])?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("ImportCalendar", actor, v.request_id(&r.request_id, &r));
        let id = wire::id(&mut v, "id", &r.id);
        let title = v.optional_line("title", &r.title, 200);
        if r.content.trim().is_empty() {
            v.add("content", "is required: the file's text");
        }
        let company_default = r.company_default;
        let zone = self.calendars.default_calendar().calendar.zone;
        let change: Change = match pb::CalendarFormat::try_from(r.format) {
            Ok(pb::CalendarFormat::Yaml) => {
                let read = Calendar::from_yaml(&r.content, zone);
                if let Err(e) = &read {
                    v.add("content", e.clone());
                }
                v.finish()?;
                let calendar = read.map_err(|e| Error::invalid("content", e))?;
                Box::new(move |current| {
                    let title = title_of(title, current, &id);
                    let keep_default = current.is_some_and(|c| c.company_default);
                    Ok((title, calendar, company_default || keep_default))
                })
            }
            Ok(pb::CalendarFormat::Icalendar) => {
                let markers = if r.make_up_markers.is_empty() {
                    ics::MAKE_UP_MARKERS
                        .iter()
                        .map(|m| (*m).to_owned())
                        .collect()
                } else {
                    r.make_up_markers.clone()
                };
                let read = ics::parse(&r.content, &markers);
                if let Err(e) = &read {
                    v.add("content", e.clone());
                }
                v.finish()?;
                let imported = read.map_err(|e| Error::invalid("content", e))?;
                let base = self.calendars.default_calendar().calendar.clone();
                Box::new(move |current| {
                    let mut calendar = current.map_or(base, |c| c.calendar.clone());
                    // The file's years are replaced whole: a holiday moved
                    // or dropped in a revised schedule leaves nothing behind.
                    use chrono::Datelike as _;
                    calendar.holidays.retain(|h| {
                        !imported.years.contains(&h.from.year())
                            && !imported.years.contains(&h.to.year())
                    });
                    calendar
                        .workdays
                        .retain(|w| !imported.years.contains(&w.date.year()));
                    calendar.holidays.extend(imported.holidays);
                    calendar.workdays.extend(imported.workdays);
                    let title = title_of(title, current, &id);
                    let keep_default = current.is_some_and(|c| c.company_default);
                    Ok((title, calendar, company_default || keep_default))
                })
            }
            _ => {
                v.add(
                    "format",
                    "must be CALENDAR_FORMAT_YAML or CALENDAR_FORMAT_ICALENDAR",
                );
                v.finish()?;
                return Err(Error::invalid("format", "is required").into());
            }
        };
        let etag = r.etag;
        Ok(Response::new(
            self.change(&call, &r.id, &etag, change).await?,
        ))
    }
}

/// The title given, else the calendar's own, else its id.
fn title_of(given: String, current: Option<&Stored>, id: &str) -> String {
    if !given.is_empty() {
        return given;
    }
    current.map_or_else(|| id.to_owned(), |c| c.title.clone())
}
