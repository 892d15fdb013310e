using Npgsql;

namespace Federation.Storage.Tests;

public class PostgresClusterTests
{
    [Fact]
    public async Task The_throwaway_cluster_serves_isolated_databases()
    {
        var first = await PostgresCluster.Instance.CreateDatabaseAsync("probe");
        var second = await PostgresCluster.Instance.CreateDatabaseAsync("probe");
        Assert.NotEqual(first, second);

        await using (var connection = new NpgsqlConnection(first))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE t (x int); INSERT INTO t VALUES (1);", connection);
            await create.ExecuteNonQueryAsync();
            await using var version = new NpgsqlCommand("SHOW server_version", connection);
            Assert.StartsWith("15", (string)(await version.ExecuteScalarAsync())!);
        }

        await using (var connection = new NpgsqlConnection(second))
        {
            await connection.OpenAsync();
            await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE tablename = 't'", connection);
            Assert.Equal(0L, await exists.ExecuteScalarAsync());
        }
    }
}
