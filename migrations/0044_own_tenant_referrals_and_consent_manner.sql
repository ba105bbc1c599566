-- Issue 20: a referral to a service of the sender's own tenant (a carrier's case workers refer to its own counselling
-- service) is answered by that tenant's counsellors. It carries no grant (a tenant grants nothing to itself, 0004), so
-- the receiver's insert policy, which asks for a live grant, gets a second permissive branch for it: the referral is
-- the acting tenant's own, sent to the acting tenant. Who of the tenant may answer is the application's check
-- (`Referrals.receives`: its counsellors, never the sender's colleagues as case workers).
CREATE POLICY own_tenant_receiver_writes ON referral_responses FOR INSERT TO kreiswerk_app
    WITH CHECK (
        tenant_id = app_current_tenant() AND sender_tenant_id = app_current_tenant()
        AND EXISTS (SELECT 1 FROM referrals r WHERE r.id = referral_id AND r.tenant_id = app_current_tenant()
                    AND r.receiver_tenant_id = app_current_tenant())
    );

-- Issue 17: a level-2 report records how the person's consent was given (in writing, orally, with an interpreter and in
-- which language), as the consents of the intake and the client page do (0024); the receiving team's consent record
-- takes it over when it accepts the report. Absent on reports from before (NULL, never '').
ALTER TABLE case_reports ADD COLUMN consent_given_how text CHECK (consent_given_how IN ('in_writing', 'orally', 'with_interpreter'));
ALTER TABLE case_reports ADD COLUMN consent_interpreter_language text
    CHECK (consent_interpreter_language IS NULL OR (consent_given_how = 'with_interpreter' AND length(trim(consent_interpreter_language)) BETWEEN 1 AND 100));
