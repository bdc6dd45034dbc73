-- Training (regulation §7.1–7.2) and making the rules known (§7.3).

CREATE TABLE training_plans (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE question_banks (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE training_sessions (
    id          TEXT PRIMARY KEY,
    plan_id     TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX training_sessions_plan ON training_sessions (plan_id, item_id, id);

CREATE TABLE training_attendance (
    session_id   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    present      BIGINT NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    PRIMARY KEY (session_id, subject)
);
CREATE INDEX training_attendance_subject ON training_attendance (subject);

CREATE TABLE exam_attempts (
    session_id  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    attempt     BIGINT NOT NULL,
    score       BIGINT NOT NULL,
    passed      BIGINT NOT NULL,
    -- JSON: the options chosen per question.
    answers     TEXT NOT NULL,
    taken_at    BIGINT NOT NULL,
    PRIMARY KEY (session_id, subject, attempt)
);
CREATE INDEX exam_attempts_subject ON exam_attempts (subject);

CREATE TABLE practical_scores (
    session_id  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    score       BIGINT NOT NULL,
    passed      BIGINT NOT NULL,
    notes       TEXT NOT NULL,
    scored_by   TEXT NOT NULL,
    scored_at   BIGINT NOT NULL,
    PRIMARY KEY (session_id, subject)
);
CREATE INDEX practical_scores_subject ON practical_scores (subject);

CREATE TABLE questionnaires (
    session_id    TEXT NOT NULL,
    subject       TEXT NOT NULL,
    satisfaction  BIGINT NOT NULL,
    comment       TEXT NOT NULL,
    answered_at   BIGINT NOT NULL,
    PRIMARY KEY (session_id, subject)
);
CREATE INDEX questionnaires_subject ON questionnaires (subject);

CREATE TABLE policy_publications (
    id              TEXT PRIMARY KEY,
    document        TEXT NOT NULL,
    active          BIGINT NOT NULL,
    acknowledge_by  BIGINT NOT NULL,
    reminded_at     BIGINT,
    data            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX policy_publications_document ON policy_publications (document, id);
CREATE INDEX policy_publications_remind ON policy_publications (active, acknowledge_by);

CREATE TABLE acknowledgements (
    publication_id   TEXT NOT NULL,
    subject          TEXT NOT NULL,
    quiz_score       BIGINT,
    acknowledged_at  BIGINT NOT NULL,
    PRIMARY KEY (publication_id, subject)
);
