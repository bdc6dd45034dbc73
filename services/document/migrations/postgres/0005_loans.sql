-- Loans (§4.3): the loan as JSON (scope, approvals, deadline, history),
-- with the columns lists, the visibility check and the overdue sweep use.
CREATE TABLE loans (
    id            TEXT PRIMARY KEY,
    document_id   TEXT NOT NULL,
    borrower      TEXT NOT NULL,
    status        TEXT NOT NULL,
    due_at        BIGINT,
    escalated_at  BIGINT,
    data          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    row_version   BIGINT NOT NULL
);
CREATE INDEX loans_document ON loans (document_id, id);
CREATE INDEX loans_borrower ON loans (borrower, status);
CREATE INDEX loans_due ON loans (status, due_at);
