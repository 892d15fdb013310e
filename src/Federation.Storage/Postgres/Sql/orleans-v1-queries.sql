-- Orleans' ADO.NET providers, schema version 1: the statement table (docs/formats/grain-state.md, "PostgreSQL schema").
-- Orleans reads `SELECT QueryKey, QueryText FROM OrleansQuery` when a provider starts and runs only those statements;
-- the clustering, persistence and reminders files of this version fill it. A later version changes a statement with
-- the same INSERT ... ON CONFLICT (QueryKey) DO UPDATE. Orleans binds @Name parameters and reads result columns by
-- name (case-insensitively), so names are the contract, not positions, except where a file says otherwise.
-- Plain CREATE (no IF NOT EXISTS): a database whose Orleans tables another script made is refused, not adopted.

DO $check$
BEGIN
    -- The grain state key is a UNIQUE ... NULLS NOT DISTINCT index (orleans-v1-persistence.sql), new in 15.
    IF current_setting('server_version_num')::integer < 150000 THEN
        RAISE EXCEPTION 'the Orleans schema needs PostgreSQL 15 or later; this server is %', current_setting('server_version');
    END IF;
END
$check$;

CREATE TABLE OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text NOT NULL,

    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);
