-- Orleans' ADO.NET grain storage (Microsoft.Orleans.Persistence.AdoNet), schema version 1.
-- One row per grain state: Orleans passes the state name as GrainTypeString and the grain's key (N0/N1 for
-- integer and Guid keys, the string key or key extension in GrainIdExtensionString), not the grain type, so two
-- grain types sharing a key and a state name in one storage share a row (keep state names distinct). The
-- payload is the serializer's bytes (ProtocolJsonGrainStorageSerializer: UTF-8 JSON); Version is the etag.

CREATE TABLE OrleansStorage
(
    GrainIdHash            integer NOT NULL,
    GrainIdN0              bigint NOT NULL,
    GrainIdN1              bigint NOT NULL,
    GrainTypeHash          integer NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea NULL,              -- NULL after a clear (the row and its version stay)
    ModifiedOn             timestamptz NOT NULL DEFAULT now(),
    Version                integer NOT NULL
);

-- The state's identity, unique (the upstream script has a plain index, so two first writes racing could both
-- insert and every later read fail); the hashes lead, as the statements' filters do.
CREATE UNIQUE INDEX OrleansStorage_Grain ON OrleansStorage
    (GrainIdHash, GrainTypeHash, ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
    NULLS NOT DISTINCT;

-- A write based on version _GrainStateVersion (NULL: the state was never stored). Returns the new version, or
-- something else Orleans reads as a conflict (InconsistentStateException): the same version when the stored one
-- moved on or never existed, NULL when another writer's first write came first.
CREATE FUNCTION orleans_write_to_storage(
    _GrainIdHash integer, _GrainIdN0 bigint, _GrainIdN1 bigint, _GrainTypeHash integer, _GrainTypeString text,
    _GrainIdExtensionString text, _ServiceId text, _GrainStateVersion integer, _PayloadBinary bytea)
    RETURNS integer
    LANGUAGE plpgsql
AS $fn$
DECLARE
    _NewVersion integer;
BEGIN
    IF _GrainStateVersion IS NOT NULL THEN
        UPDATE OrleansStorage
        SET PayloadBinary = _PayloadBinary, ModifiedOn = now(), Version = Version + 1
        WHERE GrainIdHash = _GrainIdHash AND GrainTypeHash = _GrainTypeHash AND ServiceId = _ServiceId
            AND GrainTypeString = _GrainTypeString AND GrainIdN0 = _GrainIdN0 AND GrainIdN1 = _GrainIdN1
            AND GrainIdExtensionString IS NOT DISTINCT FROM _GrainIdExtensionString
            AND Version = _GrainStateVersion
        RETURNING Version INTO _NewVersion;
        RETURN coalesce(_NewVersion, _GrainStateVersion);
    END IF;

    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId,
         PayloadBinary, Version)
    VALUES
        (_GrainIdHash, _GrainIdN0, _GrainIdN1, _GrainTypeHash, _GrainTypeString, _GrainIdExtensionString, _ServiceId,
         _PayloadBinary, 1)
    ON CONFLICT DO NOTHING
    RETURNING Version INTO _NewVersion;
    RETURN _NewVersion;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('WriteToStorageKey', $q$
    SELECT orleans_write_to_storage(
        @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString,
        @ServiceId, @GrainStateVersion, @PayloadBinary) AS NewGrainStateVersion;
$q$),
('ReadFromStorageKey', $q$
    SELECT PayloadBinary, Version
    FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND ServiceId = @ServiceId
        AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString;
$q$),
-- Orleans reads the first column of clear and delete as the new version (none: a conflict).
('ClearStorageKey', $q$
    UPDATE OrleansStorage
    SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND ServiceId = @ServiceId
        AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
        AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;
$q$),
-- Clear with AdoNetGrainStorageOptions.DeleteStateOnClear: the row goes.
('DeleteStorageKey', $q$
    DELETE FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND ServiceId = @ServiceId
        AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
        AND Version = @GrainStateVersion
    RETURNING Version + 1 AS NewGrainStateVersion;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
