-- Regulatory communication (regulation §5.2.3): obligations and the filing
-- each period owes. Records are kept whole as JSON in `data`; the columns
-- beside it are what lists and the timer filter on.

CREATE TABLE obligations (
    id           TEXT PRIMARY KEY,
    active       BIGINT NOT NULL,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    row_version  BIGINT NOT NULL
);
CREATE INDEX obligations_active ON obligations (active, id);

CREATE TABLE filings (
    id             TEXT PRIMARY KEY,
    obligation_id  TEXT NOT NULL,
    -- "2026-11", "2026-Q4", "2026" or "once": one filing per period.
    period         TEXT NOT NULL,
    status         TEXT NOT NULL,
    responsible    TEXT NOT NULL,
    escalate_to    TEXT NOT NULL,
    due_at         BIGINT NOT NULL,
    remind_at      BIGINT NOT NULL,
    reminded_at    BIGINT,
    escalated_at   BIGINT,
    data           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    row_version    BIGINT NOT NULL,
    UNIQUE (obligation_id, period)
);
CREATE INDEX filings_due ON filings (status, due_at, id);
CREATE INDEX filings_responsible ON filings (responsible, due_at, id);
CREATE INDEX filings_escalate_to ON filings (escalate_to, due_at, id);
CREATE INDEX filings_remind ON filings (status, remind_at);
