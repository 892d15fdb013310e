using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Federation.Hosting.Persistence;

/// <summary>
/// Grain state in PostgreSQL (table <c>grain_state</c>): insert when the etag is null, otherwise
/// <c>UPDATE … SET version = version + 1 WHERE … AND version = @v</c> and an affected-rows check, as Orleans'
/// ADO.NET scripts do. Safe for several hosts over one database.
/// </summary>
public sealed class PostgresGrainStorage : IGrainStorage, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _storageName;
    private volatile bool _closed;

    public PostgresGrainStorage(string connectionString, string storageName)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _storageName = storageName;
    }

    /// <summary>Creates or migrates the schema; the host calls it at start.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresSchema.EnsureGrainStateAsync(_dataSource, cancellationToken);

    public async Task<StoredGrainState?> ReadAsync(GrainStateKey key, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        await using var command = _dataSource.CreateCommand(
            "SELECT version, payload::text FROM grain_state WHERE storage_name = @s AND grain_type = @t AND grain_key = @k AND state_name = @n");
        AddKey(command, key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var version = reader.GetInt64(0);
        var payload = reader.IsDBNull(1) ? null : Encoding.UTF8.GetBytes(reader.GetString(1));
        return new StoredGrainState(Etags.Format(version), payload);
    }

    public async Task<string> WriteAsync(GrainStateKey key, ReadOnlyMemory<byte> payload, string? etag, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        var json = Encoding.UTF8.GetString(payload.Span);
        if (etag is null)
        {
            await using var insert = _dataSource.CreateCommand(
                "INSERT INTO grain_state (storage_name, grain_type, grain_key, state_name, version, payload) VALUES (@s, @t, @k, @n, 1, @p) ON CONFLICT DO NOTHING");
            AddKey(insert, key);
            insert.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Jsonb) { Value = json });
            if (await insert.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                throw await StaleAsync(key, etag, cancellationToken);
            }

            return Etags.Format(1);
        }

        var version = ParseEtag(etag);
        await using var update = _dataSource.CreateCommand(
            "UPDATE grain_state SET payload = @p, version = version + 1, modified_at = now() WHERE storage_name = @s AND grain_type = @t AND grain_key = @k AND state_name = @n AND version = @v");
        AddKey(update, key);
        update.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Jsonb) { Value = json });
        update.Parameters.AddWithValue("v", version);
        if (await update.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            throw await StaleAsync(key, etag, cancellationToken);
        }

        return Etags.Format(version + 1);
    }

    public async Task<string?> ClearAsync(GrainStateKey key, string? etag, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (etag is null)
        {
            if (await ReadAsync(key, cancellationToken) is { } existing)
            {
                throw Etags.Stale("postgres", key, existing.Etag, etag);
            }

            return null;
        }

        var version = ParseEtag(etag);
        await using var update = _dataSource.CreateCommand(
            "UPDATE grain_state SET payload = NULL, version = version + 1, modified_at = now() WHERE storage_name = @s AND grain_type = @t AND grain_key = @k AND state_name = @n AND version = @v");
        AddKey(update, key);
        update.Parameters.AddWithValue("v", version);
        if (await update.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            throw await StaleAsync(key, etag, cancellationToken);
        }

        return Etags.Format(version + 1);
    }

    public void Dispose()
    {
        _closed = true;
        _dataSource.Dispose();
    }

    private async Task<InconsistentStateException> StaleAsync(GrainStateKey key, string? etag, CancellationToken cancellationToken)
    {
        var current = await ReadAsync(key, cancellationToken);
        return Etags.Stale("postgres", key, current?.Etag, etag);
    }

    private void AddKey(NpgsqlCommand command, GrainStateKey key)
    {
        command.Parameters.AddWithValue("s", _storageName);
        command.Parameters.AddWithValue("t", key.GrainId.Type);
        command.Parameters.AddWithValue("k", key.GrainId.Key);
        command.Parameters.AddWithValue("n", key.StateName);
    }

    private static long ParseEtag(string etag) => long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
        ? version
        : throw new InconsistentStateException($"postgres storage: etag '{etag}' is not a version this provider issued", null, etag);

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_closed, this);
}
