//! The company's calendars as the services keep them: several, by id, one
//! of them the company default, each change a new version. The workflow
//! service keeps them ([`Service::OWNS_CALENDARS`](crate::service::Service));
//! a change there is an event every peer applies to its own copy. Wherever a
//! version lands, the running deadlines on that calendar are recomputed in
//! the same transaction ([`Recompute`]), and [`Calendars`] serves the
//! current versions to the domain without a query.

mod api;
pub mod ics;
mod store;
mod wire;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::AnyConnection;

pub use api::CalendarApi;

use crate::calendar::Calendar;
use crate::db::Database;
use crate::error::Error;
use crate::identity::Actor;
use crate::outbox;
use crate::shutdown::Shutdown;
use crate::time::Millis;

/// The calendar every service starts with, before any is stored.
pub const DEFAULT_ID: &str = "default";

/// One version of a calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// e.g. "cn-mainland".
    pub id: String,
    pub title: String,
    pub calendar: Calendar,
    pub company_default: bool,
    /// 1 for a new calendar; 0 for the configured seed before the keeper
    /// stored it.
    pub version: i64,
    pub updated_at: Millis,
}

impl Stored {
    /// The configured calendar as the default, before any is stored.
    pub fn seed(calendar: Calendar) -> Stored {
        Stored {
            id: DEFAULT_ID.to_owned(),
            title: "The company's calendar".to_owned(),
            calendar,
            company_default: true,
            version: 0,
            updated_at: 0,
        }
    }

    pub fn resource(&self) -> String {
        format!("calendars/{}", self.id)
    }
}

/// How a service brings its deadlines up to a new calendar version: every
/// running or paused deadline that counts on `calendar` and was computed
/// with an older version gets its due time recomputed, the old and new due
/// time recorded in its history as done by `actor`. Returns how many due
/// times moved.
#[tonic::async_trait]
pub trait Recompute: Send + Sync + 'static {
    async fn recompute(
        &self,
        tx: &mut AnyConnection,
        calendar: &Stored,
        actor: &Actor,
        now: Millis,
    ) -> Result<u64, Error>;
}

/// The deadlines of a service that keeps none: nothing moves.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDeadlines;

#[tonic::async_trait]
impl Recompute for NoDeadlines {
    async fn recompute(
        &self,
        _tx: &mut AnyConnection,
        _calendar: &Stored,
        _actor: &Actor,
        _now: Millis,
    ) -> Result<u64, Error> {
        Ok(0)
    }
}

/// The current version of every calendar, read without a query.
#[derive(Debug, Clone)]
pub struct Calendars {
    set: Arc<RwLock<Set>>,
    seed: Arc<Stored>,
}

#[derive(Debug, Default)]
struct Set {
    by_id: BTreeMap<String, Arc<Stored>>,
}

impl Calendars {
    /// Only the configured calendar, as version 0 of the default.
    pub fn seeded(seed: Calendar) -> Calendars {
        Calendars {
            set: Arc::default(),
            seed: Arc::new(Stored::seed(seed)),
        }
    }

    /// Calendar `id`; the company default when `id` is empty.
    pub fn get(&self, id: &str) -> Result<Arc<Stored>, Error> {
        let set = self
            .set
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if id.is_empty() {
            return Ok(set
                .by_id
                .values()
                .find(|c| c.company_default)
                .cloned()
                .unwrap_or_else(|| self.seed.clone()));
        }
        match set.by_id.get(id) {
            Some(c) => Ok(c.clone()),
            None if id == DEFAULT_ID && set.by_id.is_empty() => Ok(self.seed.clone()),
            None => Err(Error::NotFound(format!("calendars/{id}"))),
        }
    }

    /// The company default.
    pub fn default_calendar(&self) -> Arc<Stored> {
        self.get("").unwrap_or_else(|_| self.seed.clone())
    }

    /// Every calendar, by id (the seed when none is stored).
    pub fn all(&self) -> Vec<Arc<Stored>> {
        let set = self
            .set
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if set.by_id.is_empty() {
            return vec![self.seed.clone()];
        }
        set.by_id.values().cloned().collect()
    }

    fn version_of(&self, id: &str) -> i64 {
        let set = self
            .set
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.by_id.get(id).map_or(0, |c| c.version)
    }

    /// Takes a committed version in (and the default flag from the others
    /// when it carries it).
    pub(crate) fn install(&self, stored: Stored) {
        let mut set = self
            .set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if stored.company_default {
            for other in set.by_id.values_mut() {
                if other.company_default && other.id != stored.id {
                    let mut changed = (**other).clone();
                    changed.company_default = false;
                    *other = Arc::new(changed);
                }
            }
        }
        set.by_id.insert(stored.id.clone(), Arc::new(stored));
    }

    /// Reads every stored calendar and holds them.
    pub async fn load(&self, db: &Database) -> Result<(), Error> {
        let stored = self.read(db).await?;
        self.hold(stored);
        Ok(())
    }

    async fn read(&self, db: &Database) -> Result<Vec<Stored>, Error> {
        let mut conn = db.reader().acquire().await?;
        Ok(store::all(&mut conn).await?)
    }

    /// Whether what is held is exactly `versions` (id, version, default).
    fn holds(&self, versions: &[(String, i64, bool)]) -> bool {
        let set = self
            .set
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.by_id.len() == versions.len()
            && versions.iter().all(|(id, version, default)| {
                set.by_id
                    .get(id)
                    .is_some_and(|c| c.version == *version && c.company_default == *default)
            })
    }

    /// The versions in `stored` newer than those held.
    fn newer(&self, stored: &[Stored]) -> Vec<Stored> {
        stored
            .iter()
            .filter(|c| c.version > self.version_of(&c.id))
            .cloned()
            .collect()
    }

    fn hold(&self, stored: Vec<Stored>) {
        let mut set = self
            .set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.by_id = stored
            .into_iter()
            .map(|c| (c.id.clone(), Arc::new(c)))
            .collect();
    }
}

/// Stores `stored` as its calendar's new version and recomputes the
/// deadlines on it, inside `tx`; how many due times moved. The caller
/// installs it in [`Calendars`] once `tx` committed.
async fn store_version(
    tx: &mut AnyConnection,
    stored: &Stored,
    actor: &Actor,
    recompute: &dyn Recompute,
) -> Result<u64, Error> {
    store::put(tx, stored, &actor.subject).await?;
    recompute
        .recompute(tx, stored, actor, stored.updated_at)
        .await
}

/// Applies a version the keeper sent, unless this service holds it or a
/// newer one; the version to install once `tx` commits.
pub(crate) async fn apply_event(
    tx: &mut AnyConnection,
    event: &procedo_proto::common::Event,
    recompute: &dyn Recompute,
) -> Result<Option<Stored>, Error> {
    use prost::Message as _;
    let Some(stored) = event
        .data
        .as_ref()
        .and_then(|any| procedo_proto::calendar::Calendar::decode(any.value.as_slice()).ok())
        .and_then(|pb| wire::from_event(&pb))
    else {
        tracing::warn!(event = %event.id, "a calendar event without a readable calendar; skipped");
        return Ok(None);
    };
    if store::version(tx, &stored.id).await? >= stored.version {
        return Ok(None);
    }
    let actor = event
        .actor
        .as_ref()
        .map_or_else(Actor::system, Actor::from_proto);
    let moved = store_version(tx, &stored, &actor, recompute).await?;
    tracing::info!(calendar = %stored.id, version = stored.version, moved, "calendar version applied");
    Ok(Some(stored))
}

/// Who keeps the calendars and who hears of their changes.
#[derive(Debug, Clone)]
pub(crate) struct Keeper {
    pub source: String,
    pub peers: Vec<String>,
}

impl Keeper {
    /// Queues `stored` for every peer.
    async fn announce(
        &self,
        tx: &mut AnyConnection,
        actor: &Actor,
        stored: &Stored,
    ) -> Result<(), Error> {
        use prost::Message as _;
        let data = wire::to_pb(stored).encode_to_vec();
        for peer in &self.peers {
            outbox::enqueue(
                tx,
                &self.source,
                actor,
                outbox::NewEvent {
                    destination: peer,
                    event_type: procedo_proto::events::calendar::CHANGED,
                    subject: &stored.resource(),
                    data_type: procedo_proto::events::calendar::CALENDAR,
                    data: data.clone(),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// At the keeper's start: stores the configured calendar as version 1
    /// of the default when none is stored, and tells every peer the
    /// current version of each calendar (a peer added since, or one whose
    /// copy was lost, catches up; the others ignore what they hold).
    pub async fn start(
        &self,
        db: &Database,
        calendars: &Calendars,
        recompute: &dyn Recompute,
    ) -> Result<(), Error> {
        // Replicas starting together on a fresh database race to store the
        // first version; the losers find it stored when they try again.
        let mut attempts = 0;
        loop {
            match self.start_once(db, calendars, recompute).await {
                Err(Error::Contention(_) | Error::Conflict(_)) if attempts < 5 => attempts += 1,
                done => return done,
            }
        }
    }

    async fn start_once(
        &self,
        db: &Database,
        calendars: &Calendars,
        recompute: &dyn Recompute,
    ) -> Result<(), Error> {
        let mut tx = db.begin().await?;
        let mut current = store::all(&mut tx).await?;
        if current.is_empty() {
            let mut first = (*calendars.seed).clone();
            first.version = 1;
            first.updated_at = crate::time::now();
            store_version(&mut tx, &first, &Actor::system(), recompute).await?;
            current.push(first);
        }
        for stored in &current {
            self.announce(&mut tx, &Actor::system(), stored).await?;
        }
        tx.commit().await?;
        calendars.load(db).await?;
        Ok(())
    }
}

/// How often a service rereads the calendars, so that a version another
/// replica of it applied is used here too.
pub const REFRESH: Duration = Duration::from_secs(5);

/// Rereads the calendars every [`REFRESH`] until `stop`; a version newer
/// than this replica held has its deadlines recomputed again (those this
/// replica started on the older version meanwhile).
pub async fn refresh(
    db: Database,
    calendars: Calendars,
    recompute: Arc<dyn Recompute>,
    stop: Shutdown,
) {
    loop {
        tokio::select! {
            () = stop.clone().wait() => return,
            () = tokio::time::sleep(REFRESH) => {}
        }
        if let Err(e) = refresh_once(&db, &calendars, recompute.as_ref()).await {
            tracing::warn!(error = ?e, "rereading the calendars failed; trying again");
        }
    }
}

/// Holds what is stored, once the deadlines on every newer version are
/// recomputed (so a failure is tried again at the next refresh).
async fn refresh_once(
    db: &Database,
    calendars: &Calendars,
    recompute: &dyn Recompute,
) -> Result<(), Error> {
    // Most refreshes find nothing new: one small query, nothing parsed.
    let versions = {
        let mut conn = db.reader().acquire().await?;
        store::versions_held(&mut conn).await?
    };
    if calendars.holds(&versions) {
        return Ok(());
    }
    let stored = calendars.read(db).await?;
    for newer in calendars.newer(&stored) {
        let mut tx = db.begin().await?;
        recompute
            .recompute(&mut tx, &newer, &Actor::system(), crate::time::now())
            .await?;
        tx.commit().await?;
    }
    calendars.hold(stored);
    Ok(())
}
