"""An application submitted, accepted and started, as a CRM would drive it."""

import time

import grpc


def test_an_accepted_application_starts_its_process(pb, procedo, token):
    from google.protobuf import duration_pb2
    from procedo.common.v1 import common_pb2
    from procedo.intake.v1 import intake_pb2, intake_pb2_grpc

    channel = grpc.insecure_channel(procedo["endpoints"]["intake"].removeprefix("http://"))
    intake = intake_pb2_grpc.IntakeServiceStub(channel)
    admin = (("authorization", f"Bearer {procedo['token']}"),)
    clerk = (("authorization", f"Bearer {token('intake_clerk', 'front-desk')}"),)

    intake.CreateApplicationType(
        intake_pb2.CreateApplicationTypeRequest(
            application_type=intake_pb2.ApplicationType(
                code="loan",
                display_name="Business loan",
                in_scope=True,
                process_key="standard",
                materials=[intake_pb2.MaterialRequirement(name="ID card", mandatory=True)],
                processing_limit=common_pb2.TimeLimit(
                    elapsed=duration_pb2.Duration(seconds=5 * 86400)
                ),
            )
        ),
        metadata=admin,
    )
    filed = intake.SubmitApplication(
        intake_pb2.SubmitApplicationRequest(
            request_id="crm-4711",
            type_code="loan",
            applicant=intake_pb2.Applicant(name="Wang Fang", phone="13800138000"),
            matter=intake_pb2.Matter(title="Working capital"),
            amount=common_pb2.Money(currency_code="CNY", minor_units=50_000_000),
            materials=[intake_pb2.Material(name="ID card", content_sha256="a" * 64)],
        ),
        metadata=admin,
    )
    assert filed.status == intake_pb2.APPLICATION_STATUS_PENDING_REVIEW
    assert filed.ledger_number.startswith("SQ-")

    intake.ReviewApplication(
        intake_pb2.ReviewApplicationRequest(
            name=filed.name,
            etag=filed.etag,
            decision=intake_pb2.REVIEW_DECISION_ACCEPT,
        ),
        metadata=clerk,
    )
    # Accepted: intake tells workflow, which starts the standard process.
    deadline = time.monotonic() + 30
    while True:
        shown = intake.GetApplication(
            intake_pb2.GetApplicationRequest(name=filed.name), metadata=admin
        )
        if shown.status == intake_pb2.APPLICATION_STATUS_IN_PROGRESS:
            break
        assert time.monotonic() < deadline, f"still {shown.status}"
        time.sleep(0.1)


def test_a_bad_request_names_the_field(pb, procedo):
    from procedo.intake.v1 import intake_pb2, intake_pb2_grpc

    channel = grpc.insecure_channel(procedo["endpoints"]["intake"].removeprefix("http://"))
    intake = intake_pb2_grpc.IntakeServiceStub(channel)
    admin = (("authorization", f"Bearer {procedo['token']}"),)
    try:
        intake.SubmitApplication(intake_pb2.SubmitApplicationRequest(), metadata=admin)
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "type_code" in e.details()
    else:
        raise AssertionError("an empty submission was taken")
