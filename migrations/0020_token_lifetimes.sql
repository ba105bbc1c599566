-- Every bearer token ends. Personal access tokens are created for 90 days unless their
-- owner asks for another lifetime (at most 365 days, checked by the service); those
-- created without an end before this release get one now: 90 days from today, so an
-- integration keeps working long enough for its owner to see the date on "Mein Konto"
-- and create a new token. A lifetime beyond the maximum is shortened to it.
UPDATE api_tokens SET expires_at = now() + interval '90 days' WHERE expires_at IS NULL;
UPDATE api_tokens SET expires_at = now() + interval '365 days' WHERE expires_at > now() + interval '365 days';
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
