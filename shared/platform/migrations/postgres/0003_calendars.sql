-- The company's working calendars (DESIGN §9). The workflow service keeps
-- them; every other service keeps the versions it was sent. `definition` is
-- the calendar in the YAML of examples/calendar.yaml.
CREATE TABLE calendars (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    definition  TEXT NOT NULL,
    is_default  BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Every version of every calendar, forever: deadlines name the version
-- their due time was computed with.
CREATE TABLE calendar_versions (
    id          TEXT NOT NULL,
    version     BIGINT NOT NULL,
    title       TEXT NOT NULL,
    definition  TEXT NOT NULL,
    is_default  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    changed_by  TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
