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

-- Conferences planned before this migration granted the whole tenant of a colleague invited by name. Where a
-- tenant takes part only through people named (no participant row for it as a whole, and it does not moderate),
-- its grant becomes one grant per person named, resting on the same consent.
CREATE TEMPORARY TABLE narrowed ON COMMIT DROP AS
SELECT g.tenant_id, g.id, g.grantee_tenant_id, g.object_id, g.consent_id, g.granted_by, g.granted_at
FROM access_grants g JOIN case_conferences f ON f.id = g.object_id
WHERE g.object_type = 'conference' AND g.revoked_at IS NULL AND g.grantee_user_id IS NULL
  AND g.grantee_tenant_id IS DISTINCT FROM f.moderator_tenant_id
  AND EXISTS (SELECT 1 FROM conference_participants p
              WHERE p.conference_id = g.object_id AND p.participant_tenant_id = g.grantee_tenant_id AND p.participant_user_id IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM conference_participants p
                  WHERE p.conference_id = g.object_id AND p.participant_tenant_id = g.grantee_tenant_id AND p.participant_user_id IS NULL);
INSERT INTO access_grants (tenant_id, id, grantee_tenant_id, grantee_user_id, object_type, object_id, consent_id, granted_by, granted_at)
SELECT n.tenant_id, gen_random_uuid(), n.grantee_tenant_id, p.participant_user_id, 'conference', n.object_id, n.consent_id, n.granted_by, n.granted_at
FROM narrowed n JOIN conference_participants p
  ON p.conference_id = n.object_id AND p.participant_tenant_id = n.grantee_tenant_id AND p.participant_user_id IS NOT NULL;
UPDATE access_grants g SET revoked_at = now(), revoked_by = n.granted_by, revoke_reason = 'narrowed to the people invited by name'
FROM narrowed n WHERE g.tenant_id = n.tenant_id AND g.id = n.id;
