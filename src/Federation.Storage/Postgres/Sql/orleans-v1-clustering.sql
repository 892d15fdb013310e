-- Orleans' ADO.NET clustering (Microsoft.Orleans.Clustering.AdoNet), schema version 1.
-- One version row per cluster (DeploymentId = ClusterOptions.ClusterId): every membership change is a
-- compare-and-swap on its Version, Orleans' table etag. One row per silo incarnation (address, port, generation).

CREATE TABLE OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp    timestamptz NOT NULL DEFAULT now(),
    Version      integer NOT NULL DEFAULT 0,

    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY (DeploymentId)
);

CREATE TABLE OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address      varchar(45) NOT NULL,
    Port         integer NOT NULL,
    Generation   integer NOT NULL,
    SiloName     varchar(150) NOT NULL,
    HostName     varchar(150) NOT NULL,
    Status       integer NOT NULL,       -- Orleans' SiloStatus: 3 Active, 6 Dead
    ProxyPort    integer NULL,
    SuspectTimes text NULL,              -- "<silo>,<time>|..." votes, written and parsed by Orleans
    StartTime    timestamptz NOT NULL,
    IAmAliveTime timestamptz NOT NULL,

    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Inserts a silo's row if the table version is still VersionArg, and bumps it; 1 if both happened, else 0 and
-- nothing changed. The version row is locked first (FOR UPDATE re-reads it after a concurrent change), so two
-- writers holding the same version never both succeed, and no assertion or exception is needed for the undo
-- (the upstream script relies on ASSERT, which plpgsql.check_asserts = off turns into a no-op).
CREATE FUNCTION orleans_insert_membership(
    DeploymentIdArg text, AddressArg text, PortArg integer, GenerationArg integer,
    SiloNameArg text, HostNameArg text, StatusArg integer, ProxyPortArg integer,
    StartTimeArg timestamptz, IAmAliveTimeArg timestamptz, VersionArg integer)
    RETURNS integer
    LANGUAGE plpgsql
AS $fn$
BEGIN
    PERFORM 1 FROM OrleansMembershipVersionTable
    WHERE DeploymentId = DeploymentIdArg AND Version = VersionArg
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    VALUES
        (DeploymentIdArg, AddressArg, PortArg, GenerationArg, SiloNameArg, HostNameArg, StatusArg, ProxyPortArg, StartTimeArg, IAmAliveTimeArg)
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipVersionTable
    SET Timestamp = now(), Version = Version + 1
    WHERE DeploymentId = DeploymentIdArg;
    RETURN 1;
END
$fn$;

-- Updates a silo's row (status, suspicions, heartbeat) if the table version is still VersionArg, and bumps it;
-- 1 or 0 as orleans_insert_membership.
CREATE FUNCTION orleans_update_membership(
    DeploymentIdArg text, AddressArg text, PortArg integer, GenerationArg integer,
    StatusArg integer, SuspectTimesArg text, IAmAliveTimeArg timestamptz, VersionArg integer)
    RETURNS integer
    LANGUAGE plpgsql
AS $fn$
BEGIN
    PERFORM 1 FROM OrleansMembershipVersionTable
    WHERE DeploymentId = DeploymentIdArg AND Version = VersionArg
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipTable
    SET Status = StatusArg, SuspectTimes = SuspectTimesArg, IAmAliveTime = IAmAliveTimeArg
    WHERE DeploymentId = DeploymentIdArg AND Address = AddressArg AND Port = PortArg AND Generation = GenerationArg;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipVersionTable
    SET Timestamp = now(), Version = Version + 1
    WHERE DeploymentId = DeploymentIdArg;
    RETURN 1;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- The cluster's version row, once; a single boolean-like column (rows inserted).
('InsertMembershipVersionKey', $q$
    WITH inserted AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId)
        VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer FROM inserted;
$q$),
('InsertMembershipKey', $q$
    SELECT orleans_insert_membership(
        @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort,
        @StartTime, @IAmAliveTime, @Version);
$q$),
('UpdateMembershipKey', $q$
    SELECT orleans_update_membership(
        @DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes, @IAmAliveTime, @Version);
$q$),
-- Heartbeats do not change the table version (Orleans' extended membership protocol); never expected to fail.
('UpdateIAmAlivetimeKey', $q$
    UPDATE OrleansMembershipTable
    SET IAmAliveTime = @IAmAliveTime
    WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation;
$q$),
-- The version row even when the silo has no row (the LEFT JOIN); a row with StartTime NULL means "no member".
('MembershipReadRowKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
           m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT OUTER JOIN OrleansMembershipTable m
        ON v.DeploymentId = m.DeploymentId
        AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId;
$q$),
('MembershipReadAllKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
           m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT OUTER JOIN OrleansMembershipTable m ON v.DeploymentId = m.DeploymentId
    WHERE v.DeploymentId = @DeploymentId;
$q$),
-- Gateways for clients: active silos (Status = @Status, Orleans passes 3) with a proxy port.
('GatewaysQueryKey', $q$
    SELECT Address, ProxyPort, Generation
    FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
$q$),
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$q$),
-- Required by Orleans but not run while CleanupDefunctSiloEntryKey exists: the bulk cleanup of dead silos
-- silent since @IAmAliveTime. Dead (6) only, unlike the upstream base script's "Status != 3", which also
-- removed stale Joining and ShuttingDown rows.
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
        AND Status = 6
        AND IAmAliveTime < @IAmAliveTime;
$q$),
-- Optional in 10.4.2, preferred when present: Orleans reads the table, picks dead rows silent before its cut-off
-- with no recent suspicion, and deletes each only if it still holds the values it read (a row that changed since
-- is kept).
('CleanupDefunctSiloEntryKey', $q$
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
        AND Status = 6
        AND Address = @Address AND Port = @Port AND Generation = @Generation
        AND StartTime = @StartTime AND IAmAliveTime = @IAmAliveTime
        AND SuspectTimes IS NOT DISTINCT FROM @SuspectTimes;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
