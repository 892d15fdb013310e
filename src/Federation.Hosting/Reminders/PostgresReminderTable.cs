using Federation.Hosting.Persistence;
using Npgsql;

namespace Federation.Hosting.Reminders;

/// <summary>Reminders in PostgreSQL (table <c>grain_reminders</c>), one row per reminder, versioned.</summary>
public sealed class PostgresReminderTable : IReminderTable, IDisposable
{
    private const string Columns = "grain_type, grain_key, reminder_name, start_at, period_ms, next_due, version";
    private readonly NpgsqlDataSource _dataSource;

    public PostgresReminderTable(string connectionString) => _dataSource = NpgsqlDataSource.Create(connectionString);

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.EnsureRemindersAsync(_dataSource, cancellationToken);

    public async Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM grain_reminders ORDER BY grain_type, grain_key, reminder_name");
        return await ReadAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<ReminderEntry>> ReadRowsAsync(GrainId grainId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM grain_reminders WHERE grain_type = @t AND grain_key = @k ORDER BY reminder_name");
        command.Parameters.AddWithValue("t", grainId.Type);
        command.Parameters.AddWithValue("k", grainId.Key);
        return await ReadAsync(command, cancellationToken);
    }

    public async Task<string> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO grain_reminders (grain_type, grain_key, reminder_name, start_at, period_ms, next_due, version)
            VALUES (@t, @k, @n, @s, @p, @d, 1)
            ON CONFLICT (grain_type, grain_key, reminder_name)
            DO UPDATE SET start_at = excluded.start_at, period_ms = excluded.period_ms, next_due = excluded.next_due, version = grain_reminders.version + 1
            RETURNING version
            """);
        command.Parameters.AddWithValue("t", entry.GrainId.Type);
        command.Parameters.AddWithValue("k", entry.GrainId.Key);
        command.Parameters.AddWithValue("n", entry.ReminderName);
        command.Parameters.AddWithValue("s", entry.StartAt.UtcDateTime);
        command.Parameters.AddWithValue("p", (long)entry.Period.TotalMilliseconds);
        command.Parameters.AddWithValue("d", entry.NextDue.UtcDateTime);
        var version = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        return Etags.Format(version);
    }

    public async Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string? etag, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(etag is null
            ? "DELETE FROM grain_reminders WHERE grain_type = @t AND grain_key = @k AND reminder_name = @n"
            : "DELETE FROM grain_reminders WHERE grain_type = @t AND grain_key = @k AND reminder_name = @n AND version = @v");
        command.Parameters.AddWithValue("t", grainId.Type);
        command.Parameters.AddWithValue("k", grainId.Key);
        command.Parameters.AddWithValue("n", reminderName);
        if (etag is not null)
        {
            command.Parameters.AddWithValue("v", long.Parse(etag, System.Globalization.CultureInfo.InvariantCulture));
        }

        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public void Dispose() => _dataSource.Dispose();

    private static async Task<IReadOnlyList<ReminderEntry>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<ReminderEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new ReminderEntry(
                new GrainId(reader.GetString(0), reader.GetString(1)),
                reader.GetString(2),
                new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero),
                TimeSpan.FromMilliseconds(reader.GetInt64(4)),
                new DateTimeOffset(reader.GetDateTime(5), TimeSpan.Zero),
                Etags.Format(reader.GetInt64(6))));
        }

        return rows;
    }
}
