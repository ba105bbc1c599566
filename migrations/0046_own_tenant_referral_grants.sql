-- Issue 20: a referral to a service of the sender's own tenant (a carrier's case workers refer to its own counselling
-- service) ends with the client's hand-over consent like any other. 0044 let such a referral go without a grant (a tenant
-- granted nothing to itself, 0004), so withdrawing the consent left it in the counsellors' hands and the withdrawal's
-- confirmation did not name it. It now carries a grant to the own tenant, resting on the consent: the same withdrawal
-- (and the same expiry) revokes it, and the counsellors answer only while it is live. Who of the tenant receives it stays
-- the application's check (`Referrals.received`: its counsellors, never the person who sent it).

-- A tenant grants itself a referral only; a report, a conference or a pre-check still goes to another tenant.
ALTER TABLE access_grants DROP CONSTRAINT access_grants_check;
ALTER TABLE access_grants ADD CONSTRAINT access_grants_grantee_check CHECK (grantee_tenant_id <> tenant_id OR object_type = 'referral');

-- The receiver answers only while it holds the grant, in its own tenant too (0004's `granted_receiver_writes`).
DROP POLICY own_tenant_receiver_writes ON referral_responses;

-- Own-tenant referrals sent before: each gets its grant when the hand-over consent it was sent on (recorded in the same
-- transaction, so at the same instant; else the latest one for its service before it) still holds today, and the
-- client's consent to case management has not lapsed without a new one — as `ConsentExpiry` would have left it.
INSERT INTO access_grants (tenant_id, id, grantee_tenant_id, object_type, object_id, consent_id, granted_by, granted_at)
SELECT r.tenant_id, gen_random_uuid(), r.tenant_id, 'referral', r.id, c.id, r.sent_by, r.sent_at
FROM referrals r
JOIN services s ON s.id = r.service_id
CROSS JOIN LATERAL (
    SELECT c.id, c.withdrawn_on, c.expires_on FROM consents c
    WHERE c.tenant_id = r.tenant_id AND c.client_id = r.client_id AND c.scope = 'handover' AND c.recorded_at <= r.sent_at
    ORDER BY c.recorded_at = r.sent_at DESC, c.recipient = s.name DESC, c.recorded_at DESC
    LIMIT 1
) c
WHERE r.receiver_tenant_id = r.tenant_id
  AND NOT EXISTS (SELECT 1 FROM access_grants g WHERE g.object_type = 'referral' AND g.object_id = r.id)
  AND (c.withdrawn_on IS NULL OR c.withdrawn_on > current_date)
  AND (c.expires_on IS NULL OR c.expires_on >= current_date)
  AND (
      EXISTS (SELECT 1 FROM consents a
              WHERE a.tenant_id = r.tenant_id AND a.client_id = r.client_id AND a.scope = 'case_management'
                AND (a.withdrawn_on IS NULL OR a.withdrawn_on > current_date) AND (a.expires_on IS NULL OR a.expires_on >= current_date))
      OR NOT EXISTS (SELECT 1 FROM consents a
                     WHERE a.tenant_id = r.tenant_id AND a.client_id = r.client_id AND a.scope = 'case_management'
                       AND (a.withdrawn_on <= current_date OR a.expires_on < current_date))
  );
