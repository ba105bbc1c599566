-- Sign-in secrets (issue 15, findings 3, 7 and 10).
--
-- Password hashes and TOTP secrets are no longer data the request role can select: it keeps
-- column privileges on every other column of users, and reaches the secrets only through the
-- definer functions below, each acting for the acting user alone (app_current_user()), and
-- through auth_account (0002), which sign-in needs before anyone acts. TOTP secrets are stored
-- sealed by the server (AES-GCM, `kw1:KEYID:…`, Identity/SecretBox.swift) with a key kept
-- outside the database; secrets stored in plain text before this migration are sealed on their
-- next use or by `kreiswerk users rotate-totp-key`.
--
-- A column added to users later is not granted to the request role by a table privilege any more:
-- its migration grants it by name.

-- MARK: - Who may read and write which column of users

-- The step (Unix time / 30 s) of the last TOTP code accepted for the account: a code of that step
-- or an earlier one is refused, so a code signs in once.
ALTER TABLE users ADD COLUMN totp_last_step bigint;

REVOKE SELECT, INSERT, UPDATE ON users FROM kreiswerk_app;
DO $$
DECLARE
    readable text;
    writable text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname NOT IN ('password_hash', 'totp_secret', 'totp_last_step')),
           string_agg(quote_ident(attname), ', ' ORDER BY attnum)
               FILTER (WHERE attname NOT IN ('password_hash', 'totp_secret', 'totp_last_step', 'totp_enabled_at'))
      INTO readable, writable
      FROM pg_catalog.pg_attribute
     WHERE attrelid = 'public.users'::regclass AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('GRANT SELECT (%s) ON public.users TO kreiswerk_app', readable);
    EXECUTE format('GRANT INSERT (%1$s), UPDATE (%1$s) ON public.users TO kreiswerk_app', writable);
END
$$;

-- MARK: - The acting user's password

-- The acting user's password hash, to check the current password before it is changed.
CREATE FUNCTION account_password_hash() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT u.password_hash FROM public.users u WHERE u.tenant_id = public.app_current_tenant() AND u.id = public.app_current_user()
$$;

-- Sets the password hash of `account`, which must be the acting user (a password change, an accepted
-- invitation; the operator's reset acts as the account). Only bcrypt hashes are taken.
CREATE FUNCTION account_set_password(account uuid, new_hash text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF account IS DISTINCT FROM public.app_current_user() THEN
        RAISE EXCEPTION 'only the acting user sets their own password' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF new_hash !~ '^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$' THEN
        RAISE EXCEPTION 'a password is stored as a bcrypt hash only' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE public.users SET password_hash = new_hash, version = version + 1, updated_at = now()
    WHERE tenant_id = public.app_current_tenant() AND id = account;
END
$$;

-- MARK: - The acting user's second factor

-- The acting user's sealed TOTP secret, and whether it is confirmed (NULL while none is set up).
CREATE FUNCTION account_totp_secret() RETURNS TABLE (secret text, enabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT u.totp_secret, u.totp_enabled_at IS NOT NULL FROM public.users u
    WHERE u.tenant_id = public.app_current_tenant() AND u.id = public.app_current_user() AND u.totp_secret IS NOT NULL
$$;

-- Begins setting up a second factor with a new sealed secret, unless one is confirmed already.
CREATE FUNCTION account_totp_begin(sealed text) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    UPDATE public.users SET totp_secret = sealed, totp_last_step = NULL, updated_at = now()
    WHERE tenant_id = public.app_current_tenant() AND id = public.app_current_user() AND totp_enabled_at IS NULL AND sealed LIKE 'kw1:%'
    RETURNING true
$$;

-- Takes the step of a verified code for the acting user, in one conditional update: true for the
-- first use of a step later than the last one taken, false for a replay (also when two sign-ins
-- race with the same code: the second waits for the first's row lock and then finds the step taken).
-- `action`: 'sign_in' (a confirmed second factor; `resealed`, if given, replaces the stored secret:
-- sealed under the current key), 'confirm' (the setup's first code) or 'remove'.
CREATE FUNCTION account_totp_use(step bigint, action text, resealed text DEFAULT NULL) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    UPDATE public.users SET
        totp_last_step = CASE WHEN action = 'remove' THEN NULL ELSE step END,
        totp_secret = CASE WHEN action = 'remove' THEN NULL WHEN resealed LIKE 'kw1:%' THEN resealed ELSE totp_secret END,
        totp_enabled_at = CASE action WHEN 'confirm' THEN now() WHEN 'remove' THEN NULL ELSE totp_enabled_at END,
        version = version + CASE WHEN action IN ('confirm', 'remove') THEN 1 ELSE 0 END,
        updated_at = CASE WHEN action IN ('confirm', 'remove') THEN now() ELSE updated_at END
    WHERE tenant_id = public.app_current_tenant() AND id = public.app_current_user() AND totp_secret IS NOT NULL
      AND (totp_last_step IS NULL OR totp_last_step < step)
      AND CASE action WHEN 'confirm' THEN totp_enabled_at IS NULL WHEN 'sign_in' THEN totp_enabled_at IS NOT NULL
                      WHEN 'remove' THEN totp_enabled_at IS NOT NULL END
    RETURNING true
$$;

-- MARK: - Sessions of any tenant

-- Ends the web session whose cookie hashes to `hash`, whatever its tenant: a browser that signs in
-- as someone else ends the session it still holds, which may belong to another tenant (row-level
-- security would hide it from the new session's transaction). Only the cookie's holder knows it.
CREATE FUNCTION auth_end_session(hash bytea) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    UPDATE public.sessions SET ended_at = now() WHERE token_hash = hash AND ended_at IS NULL
$$;

REVOKE ALL ON FUNCTION account_password_hash(), account_set_password(uuid, text), account_totp_secret(), account_totp_begin(text),
    account_totp_use(bigint, text, text), auth_end_session(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION account_password_hash(), account_set_password(uuid, text), account_totp_secret(), account_totp_begin(text),
    account_totp_use(bigint, text, text), auth_end_session(bytea) TO kreiswerk_app;
