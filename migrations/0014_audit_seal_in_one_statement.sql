-- Sealing writes a batch in one UPDATE instead of one UPDATE per entry: the chain is still computed
-- entry by entry in id order (each chain_hash = SHA-256(prev_hash ‖ entry_hash)), into arrays that a
-- single statement then applies. Under 700 audited requests a second the sealer's time fell from
-- 59 ms to 34 ms per call (pg_stat_statements), in bursts that every request waiting for a core felt.
-- Same contract as 0002's audit_seal(): one sealer at a time, returns how many it sealed.

CREATE OR REPLACE FUNCTION audit_seal(batch integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
    entry record;
    ids bigint[] := '{}';
    prevs bytea[] := '{}';
    chains bytea[] := '{}';
    chain bytea;
BEGIN
    -- One sealer at a time; requests appending entries never take this lock.
    PERFORM pg_advisory_xact_lock(4851245534854110529);
    SELECT a.seq, a.chain_hash INTO last_seq, last_hash FROM audit_log a WHERE a.seq IS NOT NULL ORDER BY a.seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := decode(repeat('00', 32), 'hex');
    END IF;
    FOR entry IN SELECT a.id, a.entry_hash FROM audit_log a WHERE a.seq IS NULL ORDER BY a.id LIMIT batch LOOP
        chain := sha256(last_hash || entry.entry_hash);
        ids := ids || entry.id;
        prevs := prevs || last_hash;
        chains := chains || chain;
        last_hash := chain;
    END LOOP;
    UPDATE audit_log a SET seq = last_seq + v.position, prev_hash = v.prev_hash, chain_hash = v.chain_hash, sealed_at = now()
    FROM unnest(ids, prevs, chains) WITH ORDINALITY AS v (id, prev_hash, chain_hash, position)
    WHERE a.id = v.id;
    RETURN cardinality(ids);
END
$$;
