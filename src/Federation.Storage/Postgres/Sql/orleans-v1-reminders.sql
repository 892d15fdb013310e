-- Orleans' ADO.NET reminder table (Microsoft.Orleans.Reminders.AdoNet), schema version 1.
-- One row per (service, grain, reminder name); Version is the etag. GrainHash is the grain's uniform hash as a
-- signed integer: Orleans picks ReadRangeRows1Key when (int)begin < (int)end and ReadRangeRows2Key (the range
-- that wraps around) otherwise, which is the same ring read in signed order. StartTime keeps microseconds
-- (PostgreSQL's resolution; Orleans' DateTime has 100 ns ticks).

CREATE TABLE OrleansRemindersTable
(
    ServiceId    varchar(150) NOT NULL,
    GrainId      text NOT NULL,
    ReminderName text NOT NULL,
    StartTime    timestamptz NOT NULL,
    Period       bigint NOT NULL,                 -- milliseconds
    GrainHash    integer NOT NULL,
    Version      integer NOT NULL,

    CONSTRAINT PK_RemindersTable_ServiceId_GrainId_ReminderName PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Every silo reads its ring range of the table (the upstream script has no index for it).
CREATE INDEX OrleansRemindersTable_Ring ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Whatever the caller's etag: a new row starts at version 0, an existing one is replaced and counts up.
('UpsertReminderRowKey', $q$
    INSERT INTO OrleansRemindersTable (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
    SET StartTime = excluded.StartTime, Period = excluded.Period, GrainHash = excluded.GrainHash,
        Version = OrleansRemindersTable.Version + 1
    RETURNING Version;
$q$),
('ReadReminderRowsKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId;
$q$),
('ReadReminderRowKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;
$q$),
('ReadRangeRows1Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainHash > @BeginHash AND GrainHash <= @EndHash;
$q$),
('ReadRangeRows2Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
$q$),
-- Removes the reminder only at the caller's etag; one column, rows deleted.
('DeleteReminderRowKey', $q$
    WITH deleted AS (
        DELETE FROM OrleansRemindersTable
        WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName AND Version = @Version
        RETURNING 1
    )
    SELECT count(*)::integer FROM deleted;
$q$),
('DeleteReminderRowsKey', $q$
    DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
