-- Token digests are secrets too (DESIGN.md "Security model": password hashes, TOTP secrets and token
-- digests are never selectable by the request role). The request role writes the digest when it issues a
-- session, a token or an invitation; only the sign-in functions (auth_session, auth_token, auth_invitation,
-- auth_end_session: SECURITY DEFINER) read it. Every other column stays readable and writable as before.
DO $$
DECLARE
    secret_holder text;
    readable text;
BEGIN
    FOREACH secret_holder IN ARRAY ARRAY['sessions', 'api_tokens', 'invitations'] LOOP
        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO readable
        FROM pg_attribute WHERE attrelid = secret_holder::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'token_hash';
        EXECUTE format('REVOKE SELECT, UPDATE ON %I FROM kreiswerk_app', secret_holder);
        EXECUTE format('GRANT SELECT (%s), UPDATE (%s) ON %I TO kreiswerk_app', readable, readable, secret_holder);
    END LOOP;
END
$$;
