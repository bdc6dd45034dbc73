//! Inspections (§6.1): templates and plans, the inspection's checklist,
//! samples drawn from the other services, the automatic checks, findings.

use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::person::Person;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, events};
use crate::domain::inspection::{
    CheckKind, Finding, FindingStatus, Inspection, ItemSpec, Mark, NewInspection, Plan, Refusal,
    Scope, Severity, Source, Template,
};
use crate::store::{self, FindingFilter, InspectionFilter};

pub(super) fn refused(resource: &str, r: Refusal) -> Error {
    match r {
        Refusal::State(t) => Error::illegal(resource, t),
        Refusal::Unfit { field, description } => Error::invalid(field, description),
        Refusal::Unfinished(description) => Error::Precondition {
            kind: "UNFINISHED",
            resource: resource.to_owned(),
            description,
        },
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// How an inspection names its checklist.
#[derive(Debug, Clone)]
pub enum Checklist {
    Template(String),
    Items(Vec<ItemSpec>),
}

/// What a caller asks of a new inspection, checked on the wire.
#[derive(Debug, Clone)]
pub struct InspectionRequest {
    pub plan_id: String,
    pub title: String,
    pub scope: Scope,
    pub department: String,
    pub period: Option<(i64, i64)>,
    pub inspectors: Vec<String>,
    pub checklist: Checklist,
}

/// A finding as asked for.
#[derive(Debug, Clone)]
pub struct FindingRequest {
    pub candidate: String,
    pub severity: Severity,
    pub clause: String,
    pub resources: Vec<String>,
    pub description: String,
    pub evidence: Vec<String>,
}

/// Whether `actor` sees what concerns `department`: auditors all, a
/// department head their own department's.
pub fn sees_department(actor: &Actor, department: &str) -> bool {
    actor.has(Role::Auditor)
        || actor.has(Role::Admin)
        || (actor.has(Role::DepartmentHead) && actor.department == department)
}

impl App {
    pub async fn create_template<M: Message + Default>(
        &self,
        call: &Call,
        title: String,
        scope: Scope,
        items: Vec<ItemSpec>,
        respond: impl FnOnce(&Template) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let template = Template {
            id: new_id(),
            title,
            scope,
            items,
            creator: Person::of(&call.actor),
            created_at: self.now(),
        };
        store::insert_template(&mut tx, &template).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.templates.create",
            &template.resource(),
            template.title.clone(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&template)).await
    }

    pub async fn template(&self, id: &str) -> Result<Template, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_template(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("checklistTemplates/{id}")))
    }

    pub async fn templates(
        &self,
        scope: Option<Scope>,
        page: &Page,
    ) -> Result<(Vec<Template>, String), Error> {
        let mut rows =
            store::list_templates(self.db(), scope, page.after.as_deref(), page.fetch_limit())
                .await?;
        let next = page.finish(&mut rows, |t| t.id.clone());
        Ok((rows, next))
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn create_plan<M: Message + Default>(
        &self,
        call: &Call,
        title: String,
        (start, end): (i64, i64),
        scopes: Vec<Scope>,
        departments: Vec<String>,
        inspectors: Vec<String>,
        respond: impl FnOnce(&Plan) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let plan = Plan {
            id: new_id(),
            title,
            start,
            end,
            scopes,
            departments,
            inspectors,
            creator: Person::of(&call.actor),
            created_at: self.now(),
        };
        store::insert_plan(&mut tx, &plan).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.plans.create",
            &plan.resource(),
            plan.title.clone(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&plan)).await
    }

    pub async fn plan(&self, id: &str) -> Result<Plan, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_plan(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("inspectionPlans/{id}")))
    }

    pub async fn plans(&self, page: &Page) -> Result<(Vec<Plan>, String), Error> {
        let mut rows =
            store::list_plans(self.db(), page.after.as_deref(), page.fetch_limit()).await?;
        let next = page.finish(&mut rows, |p| p.id.clone());
        Ok((rows, next))
    }

    pub async fn create_inspection<M: Message + Default>(
        &self,
        call: &Call,
        r: InspectionRequest,
        respond: impl FnOnce(&Inspection) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let plan = if r.plan_id.is_empty() {
            None
        } else {
            let plan = store::get_plan(&mut tx, &r.plan_id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("inspectionPlans/{}", r.plan_id)))?;
            if !plan.departments.contains(&r.department) {
                return Err(Error::invalid(
                    "department",
                    format!(
                        "is not one the plan inspects: {}",
                        plan.departments.join(", ")
                    ),
                ));
            }
            Some(plan)
        };
        let Some((start, end)) = r.period.or(plan.as_ref().map(|p| (p.start, p.end))) else {
            return Err(Error::invalid(
                "start_time",
                "is required (or a plan that gives the period)",
            ));
        };
        let inspectors = if !r.inspectors.is_empty() {
            r.inspectors
        } else if let Some(plan) = &plan {
            plan.inspectors.clone()
        } else {
            vec![call.actor.subject.clone()]
        };
        let checklist = match r.checklist {
            Checklist::Items(items) => items,
            Checklist::Template(id) => {
                store::get_template(&mut tx, &id)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("checklistTemplates/{id}")))?
                    .items
            }
        };
        let inspection = Inspection::new(
            new_id(),
            NewInspection {
                plan_id: r.plan_id,
                title: r.title,
                scope: r.scope,
                department: r.department,
                start,
                end,
                inspectors,
                checklist,
            },
            &Person::of(&call.actor),
            self.now(),
        );
        store::insert_inspection(&mut tx, &inspection).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.inspections.create",
            &inspection.resource(),
            inspection.department.clone(),
        )
        .await?;
        self.mutations()
            .finish(tx, call, respond(&inspection))
            .await
    }

    async fn inspection_in(
        conn: &mut AnyConnection,
        id: &str,
        actor: &Actor,
    ) -> Result<Inspection, Error> {
        store::get_inspection(conn, id)
            .await?
            .filter(|i| sees_department(actor, &i.department))
            .ok_or_else(|| Error::NotFound(format!("inspections/{id}")))
    }

    pub async fn inspection(&self, actor: &Actor, id: &str) -> Result<Inspection, Error> {
        let mut conn = self.db().reader().acquire().await?;
        Self::inspection_in(&mut conn, id, actor).await
    }

    /// Auditors list all; a department head only their department's.
    pub async fn inspections(
        &self,
        actor: &Actor,
        mut filter: InspectionFilter,
        page: &Page,
    ) -> Result<(Vec<Inspection>, String), Error> {
        if !sees_department(actor, &filter.department) {
            filter.department.clone_from(&actor.department);
        }
        let mut rows = store::list_inspections(
            self.db(),
            &filter,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |i| i.id.clone());
        Ok((rows, next))
    }

    /// Changes inspection `id` (read at `given_etag`) with `change`, writes
    /// it and its audit record `action`.
    async fn change_inspection<M: Message + Default, T>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        action: &str,
        change: impl FnOnce(&mut Inspection, &Person) -> Result<T, Refusal>,
        respond: impl FnOnce(&Inspection) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut inspection = Self::inspection_in(&mut tx, id, &call.actor).await?;
        let resource = inspection.resource();
        etag::check(&resource, given_etag, inspection.row_version)?;
        let read = inspection.row_version;
        change(&mut inspection, &Person::of(&call.actor)).map_err(|r| refused(&resource, r))?;
        store::update_inspection(&mut tx, &inspection, read)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        let detail = inspection
            .history
            .last()
            .map(|e| e.detail.clone())
            .unwrap_or_default();
        events::audit(&mut tx, &call.actor, action, &resource, detail).await?;
        self.mutations()
            .finish(tx, call, respond(&inspection))
            .await
    }

    /// Draws `sizes` samples from the other services, as the caller.
    pub async fn draw_samples<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        sizes: Vec<(Source, usize)>,
        respond: impl FnOnce(&Inspection) -> M,
    ) -> Result<M, Error> {
        let seen = self.inspection(&call.actor, id).await?;
        let mut drawn = Vec::new();
        for (source, count) in sizes {
            let population = self
                .sources()
                .population(
                    source,
                    &seen.department,
                    seen.start,
                    seen.end,
                    call.bearer.as_deref(),
                )
                .await?;
            let fresh = population
                .into_iter()
                .filter(|(resource, _)| !seen.sampled(resource));
            drawn.extend(
                crate::domain::sampling::draw(&seen.id, fresh, count)
                    .into_iter()
                    .map(|(resource, label)| (source, resource, label)),
            );
        }
        let now = self.now();
        self.change_inspection(
            call,
            id,
            given_etag,
            "compliance.inspections.sample",
            |i, who| i.add_samples(drawn, who, now).map(|_| ()),
            respond,
        )
        .await
    }

    /// Proposes what the automatic checks find as candidate findings.
    pub async fn run_checks<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        respond: impl FnOnce(&Inspection) -> M,
    ) -> Result<M, Error> {
        let seen = self.inspection(&call.actor, id).await?;
        let mut hits = Vec::new();
        for check in CheckKind::ALL {
            hits.extend(
                store::hits(self.db(), check, &seen.department, seen.start, seen.end).await?,
            );
        }
        let now = self.now();
        self.change_inspection(
            call,
            id,
            given_etag,
            "compliance.inspections.check",
            |i, who| i.propose(hits, who, now).map(|_| ()),
            respond,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn mark_item<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        item: &str,
        mark: Mark,
        notes: String,
        evidence: Vec<String>,
        respond: impl FnOnce(&Inspection) -> M,
    ) -> Result<M, Error> {
        let now = self.now();
        self.change_inspection(
            call,
            id,
            given_etag,
            "compliance.inspections.mark",
            |i, who| i.mark(item, mark, notes, evidence, who, now),
            respond,
        )
        .await
    }

    pub async fn dismiss_candidate<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        candidate: &str,
        reason: String,
        respond: impl FnOnce(&Inspection) -> M,
    ) -> Result<M, Error> {
        let now = self.now();
        self.change_inspection(
            call,
            id,
            given_etag,
            "compliance.inspections.dismiss",
            |i, who| i.dismiss(candidate, &reason, who, now),
            respond,
        )
        .await
    }

    pub async fn complete_inspection<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        respond: impl FnOnce(&Inspection) -> M,
    ) -> Result<M, Error> {
        let now = self.now();
        self.change_inspection(
            call,
            id,
            given_etag,
            "compliance.inspections.complete",
            |i, who| i.complete(who, now),
            respond,
        )
        .await
    }

    /// Records a finding on inspection `id`.
    pub async fn record_finding<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        r: FindingRequest,
        respond: impl FnOnce(&Finding) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut inspection = Self::inspection_in(&mut tx, id, &call.actor).await?;
        let resource = inspection.resource();
        etag::check(&resource, given_etag, inspection.row_version)?;
        let read = inspection.row_version;
        let mut resources = r.resources;
        if resources.is_empty() && !r.candidate.is_empty() {
            resources = inspection
                .candidate_resources(&r.candidate)
                .map_err(|e| refused(&resource, e))?;
        }
        if resources.is_empty() {
            return Err(Error::invalid(
                "resources",
                "name the records involved (or a candidate)",
            ));
        }
        let now = self.now();
        let finding = Finding {
            id: new_id(),
            inspection_id: inspection.id.clone(),
            department: inspection.department.clone(),
            severity: r.severity,
            clause: r.clause,
            resources,
            description: r.description,
            evidence: r.evidence,
            candidate: r.candidate,
            status: FindingStatus::Open,
            notice_id: String::new(),
            recorder: Person::of(&call.actor),
            created_at: now,
            row_version: 1,
        };
        inspection
            .record_finding(&finding, &Person::of(&call.actor), now)
            .map_err(|e| refused(&resource, e))?;
        store::update_inspection(&mut tx, &inspection, read)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        store::insert_finding(&mut tx, &finding).await?;
        let detail = format!("{}: {}", finding.clause, finding.resources.join(", "));
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.findings.record",
            &finding.resource(),
            detail,
        )
        .await?;
        self.mutations().finish(tx, call, respond(&finding)).await
    }

    pub async fn finding(&self, actor: &Actor, id: &str) -> Result<Finding, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_finding(&mut conn, id)
            .await?
            .filter(|f| sees_department(actor, &f.department))
            .ok_or_else(|| Error::NotFound(format!("findings/{id}")))
    }

    pub async fn findings(
        &self,
        actor: &Actor,
        mut filter: FindingFilter,
        page: &Page,
    ) -> Result<(Vec<Finding>, String), Error> {
        if !sees_department(actor, &filter.department) {
            filter.department.clone_from(&actor.department);
        }
        let mut rows = store::list_findings(
            self.db(),
            &filter,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |f| f.id.clone());
        Ok((rows, next))
    }
}
