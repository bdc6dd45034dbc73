//! The gRPC surface: each handler authenticates, checks the request into
//! domain values, calls the application layer and converts the answer.
//! Roles per RPC are declared next to each handler.

mod applications;
mod catalogue;
mod convert;
mod inquiries;
mod ledger;
mod sink;

use std::pin::Pin;

use procedo_proto::intake as pb;
use tonic::{Request, Response, Status};

use crate::app::App;

pub use sink::EventSink;

/// The `procedo.intake.v1.IntakeService` implementation.
#[derive(Debug, Clone)]
pub struct IntakeApi {
    app: App,
}

impl IntakeApi {
    pub fn new(app: App) -> IntakeApi {
        IntakeApi { app }
    }
}

type ExportStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::LedgerEntry, Status>> + Send>>;

#[tonic::async_trait]
impl pb::intake_service_server::IntakeService for IntakeApi {
    async fn create_inquiry(
        &self,
        r: Request<pb::CreateInquiryRequest>,
    ) -> Result<Response<pb::Inquiry>, Status> {
        inquiries::create(self, r).await
    }
    async fn get_inquiry(
        &self,
        r: Request<pb::GetInquiryRequest>,
    ) -> Result<Response<pb::Inquiry>, Status> {
        inquiries::get(self, r).await
    }
    async fn list_inquiries(
        &self,
        r: Request<pb::ListInquiriesRequest>,
    ) -> Result<Response<pb::ListInquiriesResponse>, Status> {
        inquiries::list(self, r).await
    }
    async fn respond_to_inquiry(
        &self,
        r: Request<pb::RespondToInquiryRequest>,
    ) -> Result<Response<pb::Inquiry>, Status> {
        inquiries::respond(self, r).await
    }
    async fn add_inquiry_note(
        &self,
        r: Request<pb::AddInquiryNoteRequest>,
    ) -> Result<Response<pb::Inquiry>, Status> {
        inquiries::note(self, r).await
    }
    async fn list_inquiry_entries(
        &self,
        r: Request<pb::ListInquiryEntriesRequest>,
    ) -> Result<Response<pb::ListInquiryEntriesResponse>, Status> {
        inquiries::entries(self, r).await
    }
    async fn pause_inquiry(
        &self,
        r: Request<pb::PauseInquiryRequest>,
    ) -> Result<Response<pb::Inquiry>, Status> {
        inquiries::pause(self, r).await
    }
    async fn resume_inquiry(
        &self,
        r: Request<pb::ResumeInquiryRequest>,
    ) -> Result<Response<pb::Inquiry>, Status> {
        inquiries::resume(self, r).await
    }
    async fn escalate_inquiry(
        &self,
        r: Request<pb::EscalateInquiryRequest>,
    ) -> Result<Response<pb::Inquiry>, Status> {
        inquiries::escalate(self, r).await
    }
    async fn resolve_inquiry(
        &self,
        r: Request<pb::ResolveInquiryRequest>,
    ) -> Result<Response<pb::Inquiry>, Status> {
        inquiries::resolve(self, r).await
    }
    async fn close_inquiry(
        &self,
        r: Request<pb::CloseInquiryRequest>,
    ) -> Result<Response<pb::Inquiry>, Status> {
        inquiries::close(self, r).await
    }
    async fn create_application_type(
        &self,
        r: Request<pb::CreateApplicationTypeRequest>,
    ) -> Result<Response<pb::ApplicationType>, Status> {
        catalogue::create(self, r).await
    }
    async fn update_application_type(
        &self,
        r: Request<pb::UpdateApplicationTypeRequest>,
    ) -> Result<Response<pb::ApplicationType>, Status> {
        catalogue::update(self, r).await
    }
    async fn get_application_type(
        &self,
        r: Request<pb::GetApplicationTypeRequest>,
    ) -> Result<Response<pb::ApplicationType>, Status> {
        catalogue::get(self, r).await
    }
    async fn list_application_types(
        &self,
        r: Request<pb::ListApplicationTypesRequest>,
    ) -> Result<Response<pb::ListApplicationTypesResponse>, Status> {
        catalogue::list(self, r).await
    }
    async fn submit_application(
        &self,
        r: Request<pb::SubmitApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        applications::submit(self, r).await
    }
    async fn get_application(
        &self,
        r: Request<pb::GetApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        applications::get(self, r).await
    }
    async fn supplement_application(
        &self,
        r: Request<pb::SupplementApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        applications::supplement(self, r).await
    }
    async fn review_application(
        &self,
        r: Request<pb::ReviewApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        applications::review(self, r).await
    }
    async fn withdraw_application(
        &self,
        r: Request<pb::WithdrawApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        applications::withdraw(self, r).await
    }
    async fn list_application_history(
        &self,
        r: Request<pb::ListApplicationHistoryRequest>,
    ) -> Result<Response<pb::ListApplicationHistoryResponse>, Status> {
        applications::history(self, r).await
    }
    async fn query_ledger(
        &self,
        r: Request<pb::QueryLedgerRequest>,
    ) -> Result<Response<pb::QueryLedgerResponse>, Status> {
        ledger::query(self, r).await
    }

    type ExportLedgerStream = ExportStream;

    async fn export_ledger(
        &self,
        r: Request<pb::ExportLedgerRequest>,
    ) -> Result<Response<Self::ExportLedgerStream>, Status> {
        ledger::export(self, r).await
    }
    async fn list_notifications(
        &self,
        r: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        ledger::notifications(self, r).await
    }
}
