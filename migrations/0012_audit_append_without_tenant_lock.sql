-- Appending to the audit trail no longer locks the tenant's row. The foreign key from audit_log to
-- tenants made every INSERT take a KEY SHARE lock on that row: every audited request of a tenant
-- locked the same row, and under concurrent requests PostgreSQL turned those locks into multixacts,
-- a third of the cost of the INSERT. What the key protected stays protected:
--   * an entry names only the acting tenant (the policy tenant_append, 0002) or none (platform events);
--   * tenants are never deleted (they are deactivated), now refused by a trigger, so no entry's tenant
--     can disappear from under it.

ALTER TABLE audit_log DROP CONSTRAINT audit_log_tenant_id_fkey;

CREATE FUNCTION tenants_never_deleted() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'tenant % cannot be deleted: deactivate it instead (its audit trail refers to it)', OLD.slug
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER tenants_never_deleted BEFORE DELETE ON tenants FOR EACH ROW EXECUTE FUNCTION tenants_never_deleted();
