using Federation.Storage.Postgres;
using Npgsql;

namespace Federation.Storage.Orleans.Tests.Postgres;

/// <summary>The Orleans schema's migration (docs/formats/grain-state.md, "PostgreSQL schema").</summary>
public sealed class OrleansPostgresSchemaTests
{
    /// <summary>What the schema consists of, to compare before and after a second run.</summary>
    private const string SchemaSnapshotSql = """
        SELECT string_agg(item, E'\n' ORDER BY item) FROM (
            SELECT 'table ' || c.relname || ' ' || c.relkind::text || ' ' || c.oid::text AS item
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
            UNION ALL SELECT 'function ' || p.proname || ' ' || md5(p.prosrc) || ' ' || p.oid::text
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
            UNION ALL SELECT 'query ' || q.querykey || ' ' || md5(q.querytext) || ' ' || q.xmin::text FROM orleansquery q
            UNION ALL SELECT 'version ' || v.component || ' ' || v.version || ' ' || v.applied_at::text || ' ' || v.xmin::text FROM fed_schema_version v
        ) items
        """;

    [Fact]
    public async Task On_an_empty_database_it_creates_version_1_with_its_tables_functions_and_queries()
    {
        await using var database = await PostgresDatabase.CreateAsync();

        var result = await OrleansPostgresSchema.MigrateAsync(database.ConnectionString, CancellationToken.None);

        Assert.Equal(new PostgresMigrationResult(OrleansPostgresSchema.Component, 0, 1), result);
        Assert.Equal(1, OrleansPostgresSchema.CurrentVersion);
        Assert.Equal(1, await database.ScalarAsync<int>("SELECT version FROM fed_schema_version WHERE component = 'orleans'"));
        Assert.Equal(
            ["orleansmembershiptable", "orleansmembershipversiontable", "orleansquery", "orleansreminderstable", "orleansstorage"],
            await database.ColumnAsync<string>("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'orleans%' ORDER BY 1"));
        Assert.Equal(
            ["orleans_insert_membership", "orleans_update_membership", "orleans_write_to_storage"],
            await database.ColumnAsync<string>("SELECT proname::text FROM pg_proc WHERE proname LIKE 'orleans%' ORDER BY 1"));
        Assert.NotEmpty(await database.ColumnAsync<string>("SELECT querykey::text FROM orleansquery"));
    }

    [Fact]
    public async Task Every_query_key_the_orleans_providers_read_is_present_and_no_other()
    {
        await using var database = await PostgresDatabase.CreateMigratedAsync();

        var stored = new SortedSet<string>(await database.ColumnAsync<string>("SELECT querykey::text FROM orleansquery"), StringComparer.Ordinal);

        // The providers' own lists, each non-empty, so a reflection that found nothing cannot pass.
        Assert.Contains("CleanupDefunctSiloEntriesKey", OrleansQueryKeys.Required(OrleansQueryKeys.Clustering));
        Assert.Contains("CleanupDefunctSiloEntryKey", OrleansQueryKeys.Named(OrleansQueryKeys.Clustering));
        Assert.Contains("UpsertReminderRowKey", OrleansQueryKeys.Required(OrleansQueryKeys.Reminders));
        Assert.Contains("WriteToStorageKey", OrleansQueryKeys.GrainStorage());
        Assert.True(OrleansQueryKeys.Required(OrleansQueryKeys.Clustering).IsSubsetOf(OrleansQueryKeys.Named(OrleansQueryKeys.Clustering)), "every required key is also named in the code");
        Assert.Equal(OrleansQueryKeys.All(), stored);
    }

    [Fact]
    public async Task Running_it_again_changes_nothing()
    {
        await using var database = await PostgresDatabase.CreateMigratedAsync();
        var before = await database.ScalarAsync<string>(SchemaSnapshotSql);

        var again = await OrleansPostgresSchema.MigrateAsync(database.ConnectionString, CancellationToken.None);

        Assert.False(again.Changed);
        Assert.Equal((1, 1), (again.FromVersion, again.ToVersion));
        Assert.Equal(before, await database.ScalarAsync<string>(SchemaSnapshotSql));
    }

    [Fact]
    public async Task Two_silos_migrating_at_once_both_succeed_and_one_of_them_creates_the_schema()
    {
        await using var database = await PostgresDatabase.CreateAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => OrleansPostgresSchema.MigrateAsync(database.ConnectionString, CancellationToken.None))));

        Assert.Single(results, r => r.Changed);
        Assert.All(results, r => Assert.Equal(1, r.ToVersion));
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM fed_schema_version WHERE component = 'orleans'"));
    }

    [Fact]
    public async Task A_database_at_a_newer_version_is_refused_naming_both_versions_and_left_as_it_is()
    {
        await using var database = await PostgresDatabase.CreateMigratedAsync();
        await database.ExecuteAsync("UPDATE fed_schema_version SET version = 2 WHERE component = 'orleans'");

        var error = await Assert.ThrowsAsync<PostgresSchemaTooNewException>(() => OrleansPostgresSchema.MigrateAsync(database.ConnectionString, CancellationToken.None));

        Assert.Equal(("orleans", 2, 1), (error.Component, error.DatabaseVersion, error.KnownVersion));
        Assert.Contains("\"orleans\" schema is version 2", error.Message);
        Assert.Contains("(version 1)", error.Message);
        Assert.Equal(2, await database.ScalarAsync<int>("SELECT version FROM fed_schema_version WHERE component = 'orleans'"));
    }

    [Fact]
    public async Task A_database_whose_orleans_tables_another_script_created_is_refused_and_nothing_is_recorded()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await database.ExecuteAsync("CREATE TABLE OrleansQuery (QueryKey varchar(64) PRIMARY KEY, QueryText varchar(8000) NOT NULL)");

        var error = await Assert.ThrowsAsync<PostgresException>(() => OrleansPostgresSchema.MigrateAsync(database.ConnectionString, CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.DuplicateTable, error.SqlState);
        Assert.True(await database.ScalarAsync<bool>("SELECT to_regclass('fed_schema_version') IS NULL"), "the whole migration rolled back");
    }

    [Fact]
    public async Task The_orleans_and_scroll_components_migrate_side_by_side_in_one_database()
    {
        await using var database = await PostgresDatabase.CreateMigratedAsync();
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);

        await Federation.Storage.Scrolls.PostgresScrollSchema.MigrateAsync(dataSource, CancellationToken.None);

        Assert.Equal(
            ["orleans", "scrolls"],
            await database.ColumnAsync<string>("SELECT component FROM fed_schema_version ORDER BY 1"));
    }
}
