-- A grant to one person. A colleague invited to a case conference by name is the only one of their
-- tenant who sees it (the case's summary rests on the client's consent for exactly those people);
-- a tenant invited as a whole still grants all of its staff. Grants without a person are unchanged.

ALTER TABLE access_grants
    ADD COLUMN grantee_user_id uuid REFERENCES users (id),
    ADD CHECK (grantee_user_id IS NULL OR object_type = 'conference');

-- As 0004's, and a grant to a person holds only while that person acts.
CREATE OR REPLACE FUNCTION app_holds_grant(kind text, object uuid) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM access_grants g
                   WHERE g.object_type = kind AND g.object_id = object AND g.grantee_tenant_id = app_current_tenant() AND g.revoked_at IS NULL
                     AND (g.grantee_user_id IS NULL OR g.grantee_user_id = app_current_user()))
$$;
