using Federation.Storage.Postgres;
using Npgsql;

namespace Federation.Storage.Orleans.Tests.Postgres;

/// <summary>An empty database on the throwaway cluster (<see cref="PostgresCluster"/>), dropped when disposed.</summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private PostgresDatabase(string connectionString) => ConnectionString = connectionString;

    public string ConnectionString { get; }

    public static async Task<PostgresDatabase> CreateAsync(string prefix = "orleans") =>
        new(await PostgresCluster.Instance.CreateDatabaseAsync(prefix));

    /// <summary>A database with the Orleans schema already migrated.</summary>
    public static async Task<PostgresDatabase> CreateMigratedAsync(string prefix = "orleans")
    {
        var database = await CreateAsync(prefix);
        await OrleansPostgresSchema.MigrateAsync(database.ConnectionString, CancellationToken.None);
        return database;
    }

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<int> ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteNonQueryAsync();
    }

    public async Task<List<T>> ColumnAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await PostgresCluster.Instance.DropDatabaseAsync(ConnectionString);
    }
}

/// <summary>One migrated database for a test class.</summary>
public sealed class MigratedPostgresDatabaseFixture : IAsyncLifetime
{
    public PostgresDatabase Database { get; private set; } = null!;

    public async Task InitializeAsync() => Database = await PostgresDatabase.CreateMigratedAsync();

    public async Task DisposeAsync() => await Database.DisposeAsync();
}
