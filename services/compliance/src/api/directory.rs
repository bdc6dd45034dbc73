//! `procedo.compliance.v1.DirectoryService`: admins import; anyone
//! authenticated reads.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::time::to_timestamp;
use procedo_platform::validate::Violations;
use procedo_proto::compliance as pb;
use tonic::{Request, Response, Status};

use crate::app::App;
use crate::domain::directory::{Department, Member, Source};

const MAX_IMPORT: usize = 5_000;

#[derive(Debug, Clone)]
pub struct DirectoryApi {
    app: App,
}

impl DirectoryApi {
    pub fn new(app: App) -> DirectoryApi {
        DirectoryApi { app }
    }
}

fn person_to_pb(m: &Member) -> pb::DirectoryPerson {
    pb::DirectoryPerson {
        name: format!("people/{}", m.subject),
        subject: m.subject.clone(),
        display_name: m.name.clone(),
        title: m.title.clone(),
        department: m.department.clone(),
        roles: m.roles.clone(),
        source: (match m.source {
            Source::Import => pb::EntrySource::Import,
            Source::Token => pb::EntrySource::Token,
        }) as i32,
        active: m.active,
        update_time: Some(to_timestamp(m.updated_at)),
    }
}

fn department_to_pb(d: &Department) -> pb::Department {
    pb::Department {
        name: format!("departments/{}", d.code),
        code: d.code.clone(),
        display_name: d.name.clone(),
        head: d.head.clone(),
        parent: d.parent.clone(),
        update_time: Some(to_timestamp(d.updated_at)),
    }
}

fn named<'a>(field: &str, collection: &str, name: &'a str, v: &mut Violations) -> &'a str {
    match name
        .strip_prefix(collection)
        .and_then(|r| r.strip_prefix('/'))
    {
        Some(id) if !id.is_empty() && id.len() <= 200 => id,
        _ => {
            v.add(field, format!("must be \"{collection}/<id>\""));
            ""
        }
    }
}

#[tonic::async_trait]
impl pb::directory_service_server::DirectoryService for DirectoryApi {
    async fn import_directory(
        &self,
        r: Request<pb::ImportDirectoryRequest>,
    ) -> Result<Response<pb::ImportDirectoryResponse>, Status> {
        let actor = authorize(&r, &[Role::Admin])?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("ImportDirectory", actor, v.request_id(&r.request_id, &r));
        if r.people.len() > MAX_IMPORT || r.departments.len() > MAX_IMPORT {
            v.add(
                "people",
                format!("at most {MAX_IMPORT} people and {MAX_IMPORT} departments at once"),
            );
        }
        if r.people.is_empty() && r.departments.is_empty() {
            v.add("people", "give people or departments to import");
        }
        let now = self.app.now();
        let people: Vec<Member> = r
            .people
            .iter()
            .enumerate()
            .map(|(n, p)| Member {
                subject: v.required_line(&format!("people[{n}].subject"), &p.subject, 200),
                name: v.optional_line(&format!("people[{n}].display_name"), &p.display_name, 200),
                title: v.optional_line(&format!("people[{n}].title"), &p.title, 200),
                department: v.optional_line(&format!("people[{n}].department"), &p.department, 100),
                roles: p
                    .roles
                    .iter()
                    .enumerate()
                    .map(|(k, role)| v.required_line(&format!("people[{n}].roles[{k}]"), role, 50))
                    .collect(),
                source: Source::Import,
                active: p.active,
                updated_at: now,
            })
            .collect();
        let departments: Vec<Department> = r
            .departments
            .iter()
            .enumerate()
            .map(|(n, d)| Department {
                code: v.required_line(&format!("departments[{n}].code"), &d.code, 100),
                name: v.optional_line(
                    &format!("departments[{n}].display_name"),
                    &d.display_name,
                    200,
                ),
                head: v.optional_line(&format!("departments[{n}].head"), &d.head, 200),
                parent: v.optional_line(&format!("departments[{n}].parent"), &d.parent, 100),
                updated_at: now,
            })
            .collect();
        for (n, d) in departments.iter().enumerate() {
            if !d.parent.is_empty() && d.parent == d.code {
                v.add(
                    format!("departments[{n}].parent"),
                    "a department is not its own parent",
                );
            }
        }
        v.finish()?;
        Ok(Response::new(
            self.app
                .import_directory(&call, people, departments, |p, d| {
                    pb::ImportDirectoryResponse {
                        people: i32::try_from(p).unwrap_or(i32::MAX),
                        departments: i32::try_from(d).unwrap_or(i32::MAX),
                    }
                })
                .await?,
        ))
    }

    async fn list_people(
        &self,
        r: Request<pb::ListPeopleRequest>,
    ) -> Result<Response<pb::ListPeopleResponse>, Status> {
        authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let department = v.optional_line("department", &r.department, 100);
        v.finish()?;
        let (people, next_page_token) = self
            .app
            .members(&department, r.include_inactive, &page)
            .await?;
        Ok(Response::new(pb::ListPeopleResponse {
            people: people.iter().map(person_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_person(
        &self,
        r: Request<pb::GetPersonRequest>,
    ) -> Result<Response<pb::DirectoryPerson>, Status> {
        authenticated(&r)?;
        let mut v = Violations::new();
        let subject = named("name", "people", &r.get_ref().name, &mut v).to_owned();
        v.finish()?;
        Ok(Response::new(person_to_pb(
            &self.app.member(&subject).await?,
        )))
    }

    async fn list_departments(
        &self,
        r: Request<pb::ListDepartmentsRequest>,
    ) -> Result<Response<pb::ListDepartmentsResponse>, Status> {
        authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        v.finish()?;
        let (departments, next_page_token) = self.app.departments(&page).await?;
        Ok(Response::new(pb::ListDepartmentsResponse {
            departments: departments.iter().map(department_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_department(
        &self,
        r: Request<pb::GetDepartmentRequest>,
    ) -> Result<Response<pb::Department>, Status> {
        authenticated(&r)?;
        let mut v = Violations::new();
        let code = named("name", "departments", &r.get_ref().name, &mut v).to_owned();
        v.finish()?;
        Ok(Response::new(department_to_pb(
            &self.app.department(&code).await?,
        )))
    }
}
