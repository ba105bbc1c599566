-- The district's quality handbook (issue 21, seed 000): sections owned by the district tenant, drafted and changed by
-- its coordinators, released only after review by a second coordinator (never the draft's author, checked here too),
-- each release a new version kept for good. Every staff member of the district's tenants reads the released versions
-- through handbook_released() and handbook_history(), which take the reader's district from the acting tenant.

CREATE TABLE handbook_sections (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    -- The pending draft (absent when the released version is current): its title, text and author.
    draft_title text CHECK (length(trim(draft_title)) BETWEEN 1 AND 200),
    draft_body text CHECK (length(trim(draft_body)) BETWEEN 1 AND 50000),
    draft_by uuid,
    drafted_at timestamptz,
    -- Bumped by every change: an edit made against an older one is refused (stale).
    version integer NOT NULL DEFAULT 1,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    CHECK ((draft_title IS NULL) = (draft_body IS NULL) AND (draft_title IS NULL) = (draft_by IS NULL))
);
SELECT app_isolate_tenant_table('handbook_sections');

-- A released version: never changed, never deleted; a change to a released section is a new version.
CREATE TABLE handbook_versions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    section_id uuid NOT NULL,
    number integer NOT NULL CHECK (number >= 1),
    title text NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 200),
    body text NOT NULL CHECK (length(trim(body)) BETWEEN 1 AND 50000),
    written_by uuid NOT NULL,
    released_by uuid NOT NULL,
    released_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, section_id, number),
    FOREIGN KEY (tenant_id, section_id) REFERENCES handbook_sections (tenant_id, id),
    -- The four-eyes rule: the reviewer who releases is not the author.
    CONSTRAINT reviewed_by_a_second_person CHECK (released_by <> written_by)
);
SELECT app_isolate_tenant_table('handbook_versions');
REVOKE UPDATE, DELETE ON handbook_versions FROM kreiswerk_app;

-- The district the acting tenant belongs to (itself for a district tenant).
CREATE FUNCTION handbook_reader_district() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT CASE WHEN t.kind = 'district' THEN t.id ELSE t.district_id END FROM tenants t WHERE t.id = app_current_tenant()
$$;
REVOKE ALL ON FUNCTION handbook_reader_district() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION handbook_reader_district() TO kreiswerk_app;

-- The current released version of every section of the reader's district.
CREATE FUNCTION handbook_released()
RETURNS TABLE (section_id uuid, number integer, title text, body text, released_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT DISTINCT ON (v.section_id) v.section_id, v.number, v.title, v.body, v.released_at
    FROM handbook_versions v
    WHERE v.tenant_id = handbook_reader_district() AND app_current_user() IS NOT NULL
    ORDER BY v.section_id, v.number DESC
$$;
REVOKE ALL ON FUNCTION handbook_released() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION handbook_released() TO kreiswerk_app;

-- Every released version of one section of the reader's district, newest first, with who wrote and who released it.
CREATE FUNCTION handbook_history(section uuid)
RETURNS TABLE (number integer, title text, body text, written_by text, released_by text, released_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT v.number, v.title, v.body, w.display_name, r.display_name, v.released_at
    FROM handbook_versions v
    LEFT JOIN users w ON w.id = v.written_by
    LEFT JOIN users r ON r.id = v.released_by
    WHERE v.section_id = section AND v.tenant_id = handbook_reader_district() AND app_current_user() IS NOT NULL
    ORDER BY v.number DESC
$$;
REVOKE ALL ON FUNCTION handbook_history(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION handbook_history(uuid) TO kreiswerk_app;
