-- Advisory members invited to a single meeting of the steering group (issue 19; seed 001: advisory members take
-- part "punktuell beratend"). The coordinators invite, for one meeting only, an advisory member of the group or a
-- person who is not a member (name, body, optional e-mail), with the agenda item or topic they advise on. An
-- invited advisor advises and never votes: they are not among the group's voting members. No client data.
CREATE TABLE meeting_advisors (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    meeting_id uuid NOT NULL REFERENCES committee_meetings (id),
    -- An advisory member of the steering group invited to this meeting; NULL: a person who is not a member.
    member_id uuid,
    name text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
    body text NOT NULL CHECK (length(trim(body)) BETWEEN 1 AND 200),
    email text CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    -- The agenda item or topic they advise on.
    topic text NOT NULL CHECK (length(trim(topic)) BETWEEN 1 AND 500),
    invited_by_name text NOT NULL,
    invited_at timestamptz NOT NULL DEFAULT now(),
    -- Whether the invitation reached them as a notification (an account in the district; mailed if they want it at once).
    notified boolean NOT NULL DEFAULT false,
    -- Withdrawn invitations stay, for the record; they are no longer listed.
    withdrawn_at timestamptz,
    withdrawn_by_name text,
    CHECK ((withdrawn_at IS NULL) = (withdrawn_by_name IS NULL)),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, meeting_id) REFERENCES committee_meetings (tenant_id, id),
    FOREIGN KEY (tenant_id, member_id) REFERENCES steering_members (tenant_id, id)
);
CREATE UNIQUE INDEX meeting_advisors_member_once ON meeting_advisors (meeting_id, member_id) WHERE member_id IS NOT NULL AND withdrawn_at IS NULL;
CREATE INDEX meeting_advisors_meeting_idx ON meeting_advisors (tenant_id, meeting_id);
SELECT app_isolate_tenant_table('meeting_advisors');
-- In the district, by role: its coordinators and assistants (the coordinators alone invite, checked by the service).
CREATE POLICY district_staff_by_role ON meeting_advisors AS RESTRICTIVE TO kreiswerk_app
    USING (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()))
    WITH CHECK (tenant_id <> app_current_tenant() OR (SELECT app_coordinates()));
