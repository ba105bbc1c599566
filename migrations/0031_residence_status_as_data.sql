-- Residence status as data (issue 21, Baustein III of the concept): the title of the Aufenthaltsgesetz a client holds,
-- for an Aufenthaltserlaubnis its paragraph, and until when it is valid. The free text `residence_status` stays as it
-- was (nothing is lost): it is now the note to the status, and for the title 'other' it says which one.
--
-- Titles: residence_permit (Aufenthaltserlaubnis, § …), settlement_permit (Niederlassungserlaubnis), toleration
-- (Duldung), permission_to_reside (Aufenthaltsgestattung), opportunity_residence (Chancen-Aufenthaltsrecht § 104c),
-- eu_free_movement (EU-Freizügigkeit), german_citizen (deutsche Staatsangehörigkeit), other (sonstiger).

ALTER TABLE clients
    ADD COLUMN residence_title text CHECK (residence_title IN ('residence_permit', 'settlement_permit', 'toleration',
        'permission_to_reside', 'opportunity_residence', 'eu_free_movement', 'german_citizen', 'other')),
    ADD COLUMN residence_paragraph text CHECK (residence_paragraph IS NULL
        OR (residence_title = 'residence_permit' AND length(residence_paragraph) BETWEEN 1 AND 100)),
    ADD COLUMN residence_valid_until date;

-- The title (and paragraph) a free text names, where it can be told; 'other' for any other text, NULL for none.
-- The order matters: the current status first (a Duldung with a § 25b application pending is a Duldung), an
-- Erlaubnis zum Daueraufenthalt-EU (§ 9a) is no EU freedom of movement, and "eu" counts only as a word.
-- A trigger, not the service, so that every writer (the API without the structured fields, the demo data) gets it.
CREATE FUNCTION clients_residence_title() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    text_given text := lower(coalesce(NEW.residence_status, ''));
BEGIN
    IF NEW.anonymised_at IS NOT NULL THEN
        -- The retention period anonymised the record: the status goes with the free text.
        IF NEW.residence_status IS NULL THEN
            NEW.residence_title := NULL;
            NEW.residence_paragraph := NULL;
            NEW.residence_valid_until := NULL;
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.residence_title IS NOT NULL OR NEW.residence_status IS NULL THEN
        RETURN NEW;
    END IF;
    IF text_given ~ '104\s*c' THEN
        NEW.residence_title := 'opportunity_residence';
    ELSIF text_given ~ 'duldung' THEN
        NEW.residence_title := 'toleration';
    ELSIF text_given ~ 'gestattung' THEN
        NEW.residence_title := 'permission_to_reside';
    ELSIF text_given ~ 'niederlassung' THEN
        NEW.residence_title := 'settlement_permit';
    ELSIF text_given ~ 'daueraufenthalt' THEN
        NEW.residence_title := 'other';
    ELSIF text_given ~ '25\s*a\M' THEN
        NEW.residence_title := 'residence_permit';
        NEW.residence_paragraph := '§ 25a';
    ELSIF text_given ~ '25\s*b\M' THEN
        NEW.residence_title := 'residence_permit';
        NEW.residence_paragraph := '§ 25b';
    ELSIF text_given ~ '(\meu\M|freizügig|freizuegig|unionsbürger)' THEN
        NEW.residence_title := 'eu_free_movement';
    ELSIF text_given ~ '(\mdeutsch|einbürger)' THEN
        NEW.residence_title := 'german_citizen';
    ELSIF text_given ~ '(aufenthaltserlaubnis|aufenthaltstitel)' THEN
        NEW.residence_title := 'residence_permit';
        NEW.residence_paragraph := substring(NEW.residence_status FROM '(?i)§\s*\d+[a-z]?(?:\s*abs\.\s*\d+)?');
    ELSE
        NEW.residence_title := 'other';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION clients_residence_title() FROM PUBLIC;
CREATE TRIGGER clients_residence_title BEFORE INSERT OR UPDATE ON clients FOR EACH ROW EXECUTE FUNCTION clients_residence_title();

-- The existing free texts: the trigger maps each (the text itself stays as it was; no version bump, nobody edited).
UPDATE clients SET residence_title = NULL WHERE residence_status IS NOT NULL AND anonymised_at IS NULL;
