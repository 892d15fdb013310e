using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Messaging;
using Orleans.Runtime;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;

namespace Federation.Storage.Orleans.Tests.Postgres;

/// <summary>
/// Orleans' ADO.NET membership table (<see cref="AdoNetClusteringTable"/>) and gateway list
/// (<see cref="AdoNetGatewayListProvider"/>) on the project's statements, as a silo and a client configured with
/// <c>UseFederationPostgresClustering</c> resolve them, called directly: the table version as the etag of every
/// write, stale and concurrent writes refused, heartbeats, the defunct-silo cleanup, deleting a cluster, and what
/// a client is offered as gateways. Each test is its own cluster (ClusterId) in one migrated database.
/// </summary>
public sealed class PostgresMembershipTableTests(MigratedPostgresDatabaseFixture fixture)
    : IClassFixture<MigratedPostgresDatabaseFixture>, IDisposable
{
    private const int ConcurrentWriters = 8;

    // Whole seconds: timestamptz keeps microseconds and Orleans writes suspicion times to the millisecond, so the
    // entries read back equal to what was written.
    private static readonly DateTime Now = DateTime.UnixEpoch.AddSeconds((long)(DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds);

    private readonly string _clusterId = "membership-" + Guid.NewGuid().ToString("N");
    private readonly List<IHost> _hosts = [];

    private PostgresDatabase Database => fixture.Database;

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.Dispose();
        }
    }

    [Fact]
    public void The_table_a_silo_resolves_is_orleans_ado_net_table_on_npgsql_and_the_database()
    {
        var host = BuildSilo(Database.ConnectionString, _clusterId);

        Assert.IsType<AdoNetClusteringTable>(host.Services.GetRequiredService<IMembershipTable>());
        var options = host.Services.GetRequiredService<IOptions<AdoNetClusteringSiloOptions>>().Value;
        Assert.Equal(("Npgsql", Database.ConnectionString), (options.Invariant, options.ConnectionString));
    }

    [Fact]
    public async Task A_new_cluster_reads_empty_at_version_zero_and_a_later_silos_initialization_keeps_the_version()
    {
        var first = await StartTableAsync();

        var empty = await first.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal((0, "0"), (empty.Version.Version, empty.Version.VersionEtag));

        Assert.True(await first.InsertRowAsync(Entry(10001, SiloStatus.Active), empty.Version.Next()));
        var second = await StartTableAsync();

        var seenBySecond = await second.ReadAllAsync();
        Assert.Single(seenBySecond.Members);
        Assert.Equal((1, "1"), (seenBySecond.Version.Version, seenBySecond.Version.VersionEtag));
        Assert.Equal(1L, await Database.ScalarAsync<long>("SELECT count(*) FROM OrleansMembershipVersionTable WHERE DeploymentId = @id", ("id", _clusterId)));
    }

    [Fact]
    public async Task An_inserted_row_reads_back_whole_with_the_table_version_as_its_etag()
    {
        var table = await StartTableAsync();
        var version = (await table.ReadAllAsync()).Version;
        var written = Entry(10011, SiloStatus.Joining, generation: 7, startTime: Now.AddMinutes(-3), iAmAliveTime: Now.AddMinutes(-2));
        Assert.True(await table.InsertRowAsync(written, version.Next()));

        var row = await table.ReadRowAsync(written.SiloAddress);
        var all = await table.ReadAllAsync();

        var (read, etag) = Assert.Single(row.Members);
        AssertSameEntry(written, read);
        Assert.Equal(("1", "1"), (etag, row.Version.VersionEtag));
        Assert.Equal(1, row.Version.Version);
        AssertSameEntry(written, Assert.Single(all.Members).Item1);
    }

    [Fact]
    public async Task Reading_the_row_of_an_unknown_silo_gives_no_member_and_the_table_version()
    {
        var table = await StartTableAsync();
        Assert.True(await table.InsertRowAsync(Entry(10021, SiloStatus.Active), (await table.ReadAllAsync()).Version.Next()));

        var other = await table.ReadRowAsync(SiloAddress.New(IPAddress.Loopback, 10021, 2));

        Assert.Empty(other.Members);
        Assert.Equal((1, "1"), (other.Version.Version, other.Version.VersionEtag));
    }

    [Fact]
    public async Task A_silo_inserted_twice_is_refused_the_second_time_and_the_version_stays()
    {
        var table = await StartTableAsync();
        var entry = Entry(10031, SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));

        var current = (await table.ReadAllAsync()).Version;
        entry.Status = SiloStatus.Active;
        Assert.False(await table.InsertRowAsync(entry, current.Next()));

        var after = await table.ReadAllAsync();
        Assert.Equal(SiloStatus.Joining, Assert.Single(after.Members).Item1.Status);
        Assert.Equal(current.Version, after.Version.Version);
    }

    [Fact]
    public async Task Of_two_silos_joining_at_the_same_table_version_one_succeeds_and_the_version_moves_once()
    {
        var (first, second) = (await StartTableAsync(), await StartTableAsync());
        var version = (await first.ReadAllAsync()).Version;

        var joined = await Task.WhenAll(
            Task.Run(() => first.InsertRowAsync(Entry(11111, SiloStatus.Joining), version.Next())),
            Task.Run(() => second.InsertRowAsync(Entry(22222, SiloStatus.Joining), version.Next())));

        Assert.Single(joined, j => j);
        var after = await first.ReadAllAsync();
        Assert.Equal(joined[0] ? 11111 : 22222, Assert.Single(after.Members).Item1.SiloAddress.Endpoint.Port);
        Assert.Equal(version.Version + 1, after.Version.Version);
    }

    [Fact]
    public async Task An_update_at_the_current_version_writes_status_suspicions_and_heartbeat_and_moves_the_version()
    {
        var table = await StartTableAsync();
        var suspect = Entry(10041, SiloStatus.Joining, startTime: Now.AddMinutes(-5), iAmAliveTime: Now.AddMinutes(-5));
        var bystander = Entry(10042, SiloStatus.Active, startTime: Now.AddMinutes(-5), iAmAliveTime: Now.AddMinutes(-5));
        Assert.True(await table.InsertRowAsync(suspect, (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await table.InsertRowAsync(bystander, (await table.ReadAllAsync()).Version.Next()));
        var (read, etag) = (await table.ReadRowAsync(suspect.SiloAddress)).Members.Single();
        var version = (await table.ReadAllAsync()).Version;

        read.Status = SiloStatus.Active;
        read.IAmAliveTime = Now;
        read.AddOrUpdateSuspector(bystander.SiloAddress, Now.AddSeconds(-1), 10);
        Assert.True(await table.UpdateRowAsync(read, etag, version.Next()));

        var after = await table.ReadAllAsync();
        Assert.Equal(version.Version + 1, after.Version.Version);
        var updated = after.Members.Single(m => m.Item1.SiloAddress.Equals(suspect.SiloAddress)).Item1;
        Assert.Equal((SiloStatus.Active, Now, suspect.StartTime), (updated.Status, updated.IAmAliveTime, updated.StartTime));
        var (by, at) = Assert.Single(updated.SuspectTimes!);
        Assert.Equal((bystander.SiloAddress, Now.AddSeconds(-1)), (by, at));
        AssertSameEntry(bystander, after.Members.Single(m => m.Item1.SiloAddress.Equals(bystander.SiloAddress)).Item1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_membership_write_at_a_stale_table_version_changes_nothing(bool assertionsOff)
    {
        // plpgsql.check_asserts = off turns ASSERT into a no-op; the upstream functions undo a stale write with one.
        var table = await StartTableAsync(assertionsOff ? "-c plpgsql.check_asserts=off" : null);
        var stale = (await table.ReadAllAsync()).Version;
        var active = Entry(33333, SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(active, stale.Next()));

        var insertedLate = await table.InsertRowAsync(Entry(44444, SiloStatus.Joining), stale.Next());
        // The row's etag as read before the insert (the table version then), so the write reaches the database.
        active.Status = SiloStatus.Dead;
        var updatedLate = await table.UpdateRowAsync(active, stale.VersionEtag, stale.Next());

        Assert.False(insertedLate);
        Assert.False(updatedLate);
        var after = await table.ReadAllAsync();
        var (entry, _) = Assert.Single(after.Members);
        Assert.Equal((33333, SiloStatus.Active), (entry.SiloAddress.Endpoint.Port, entry.Status));
        Assert.Equal(stale.Version + 1, after.Version.Version);
        Assert.Equal(
            [(int)SiloStatus.Active],
            await Database.ColumnAsync<int>($"SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = '{_clusterId}'"));
    }

    [Fact]
    public async Task Of_concurrent_updates_at_one_version_exactly_one_is_written()
    {
        var tables = new[] { await StartTableAsync(), await StartTableAsync() };
        var silo = Entry(10051, SiloStatus.Active, iAmAliveTime: Now.AddMinutes(-1));
        Assert.True(await tables[0].InsertRowAsync(silo, (await tables[0].ReadAllAsync()).Version.Next()));
        var snapshot = await tables[0].ReadAllAsync();
        var (_, etag) = Assert.Single(snapshot.Members);

        // Each writer stamps its own heartbeat time, so the stored row names the one that won.
        var written = await Task.WhenAll(Enumerable.Range(0, ConcurrentWriters).Select(i => Task.Run(() =>
            tables[i % tables.Length].UpdateRowAsync(Entry(10051, SiloStatus.ShuttingDown, iAmAliveTime: Now.AddSeconds(i)), etag, snapshot.Version.Next()))));

        var winner = Assert.Single(Enumerable.Range(0, ConcurrentWriters), i => written[i]);
        var after = await tables[1].ReadAllAsync();
        Assert.Equal(snapshot.Version.Version + 1, after.Version.Version);
        var (stored, _) = Assert.Single(after.Members);
        Assert.Equal((SiloStatus.ShuttingDown, Now.AddSeconds(winner)), (stored.Status, stored.IAmAliveTime));
    }

    [Fact]
    public async Task A_heartbeat_moves_only_its_silos_i_am_alive_time_and_not_the_table_version()
    {
        var table = await StartTableAsync();
        var beating = Entry(10061, SiloStatus.Active, iAmAliveTime: Now.AddMinutes(-1));
        var quiet = Entry(10062, SiloStatus.Active, iAmAliveTime: Now.AddMinutes(-1));
        Assert.True(await table.InsertRowAsync(beating, (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await table.InsertRowAsync(quiet, (await table.ReadAllAsync()).Version.Next()));
        var before = await table.ReadAllAsync();

        await table.UpdateIAmAliveAsync(Entry(10061, SiloStatus.Dead, iAmAliveTime: Now));

        var after = await table.ReadAllAsync();
        Assert.Equal((before.Version.Version, before.Version.VersionEtag), (after.Version.Version, after.Version.VersionEtag));
        var beat = after.Members.Single(m => m.Item1.SiloAddress.Equals(beating.SiloAddress)).Item1;
        Assert.Equal((SiloStatus.Active, Now), (beat.Status, beat.IAmAliveTime));
        AssertSameEntry(quiet, after.Members.Single(m => m.Item1.SiloAddress.Equals(quiet.SiloAddress)).Item1);
    }

    [Fact]
    public async Task The_defunct_silo_cleanup_removes_dead_silos_silent_before_the_cut_off_and_keeps_every_other_row()
    {
        var table = await StartTableAsync();
        var otherCluster = await StartTableAsync(clusterId: _clusterId + "-other");
        var old = Now.AddHours(-2);
        var cutOff = new DateTimeOffset(Now.AddHours(-1));
        var deadLongAgo = Entry(10071, SiloStatus.Dead, startTime: old, iAmAliveTime: old);
        var deadRecently = Entry(10072, SiloStatus.Dead, startTime: old, iAmAliveTime: Now.AddMinutes(-1));
        var activeButSilent = Entry(10073, SiloStatus.Active, startTime: old, iAmAliveTime: old);
        var joiningButSilent = Entry(10074, SiloStatus.Joining, startTime: old, iAmAliveTime: old);
        var deadButRecentlySuspected = Entry(10075, SiloStatus.Active, startTime: old, iAmAliveTime: old);
        foreach (var entry in new[] { deadLongAgo, deadRecently, activeButSilent, joiningButSilent, deadButRecentlySuspected })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        var (suspected, etag) = (await table.ReadRowAsync(deadButRecentlySuspected.SiloAddress)).Members.Single();
        suspected.Status = SiloStatus.Dead;
        suspected.AddOrUpdateSuspector(activeButSilent.SiloAddress, Now.AddMinutes(-10), 10);
        Assert.True(await table.UpdateRowAsync(suspected, etag, (await table.ReadAllAsync()).Version.Next()));
        var deadElsewhere = Entry(10071, SiloStatus.Dead, startTime: old, iAmAliveTime: old);
        Assert.True(await otherCluster.InsertRowAsync(deadElsewhere, (await otherCluster.ReadAllAsync()).Version.Next()));
        var version = (await table.ReadAllAsync()).Version;

        await table.CleanupDefunctSiloEntriesAsync(cutOff);

        var after = await table.ReadAllAsync();
        Assert.Equal(
            new[] { 10072, 10073, 10074, 10075 },
            after.Members.Select(m => m.Item1.SiloAddress.Endpoint.Port).Order());
        Assert.Equal(version.Version, after.Version.Version);
        Assert.Single((await otherCluster.ReadAllAsync()).Members);
    }

    [Fact]
    public async Task The_row_by_row_cleanup_deletes_a_dead_row_only_while_it_holds_the_values_orleans_read()
    {
        var table = await StartTableAsync();
        var dead = Entry(55555, SiloStatus.Dead, startTime: Now.AddHours(-1), iAmAliveTime: Now.AddHours(-1));
        var alive = Entry(55557, SiloStatus.Active, startTime: Now.AddHours(-1), iAmAliveTime: Now.AddHours(-1));
        Assert.True(await table.InsertRowAsync(dead, (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await table.InsertRowAsync(alive, (await table.ReadAllAsync()).Version.Next()));
        var rows = (await table.ReadAllAsync()).Members.Select(m => m.Item1).ToList();
        var (read, readAlive) = (rows.Single(e => e.Status == SiloStatus.Dead), rows.Single(e => e.Status == SiloStatus.Active));
        var cleanup = await Database.ScalarAsync<string>("SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'CleanupDefunctSiloEntryKey'");

        // Values other than the row's (a heartbeat or a suspicion landed after Orleans read it): the row stays.
        Assert.Equal(0, await RunCleanupAsync(cleanup, read, read.IAmAliveTime.AddSeconds(-1), suspectTimes: null));
        Assert.Equal(0, await RunCleanupAsync(cleanup, read, read.IAmAliveTime, suspectTimes: "a suspicion Orleans did not read"));
        // A row that is not dead (it was when read, or the caller erred) stays though every value matches.
        Assert.Equal(0, await RunCleanupAsync(cleanup, readAlive, readAlive.IAmAliveTime, suspectTimes: null));
        Assert.Equal(2, (await table.ReadAllAsync()).Members.Count);

        Assert.Equal(1, await RunCleanupAsync(cleanup, read, read.IAmAliveTime, suspectTimes: null));
        Assert.Equal(SiloStatus.Active, Assert.Single((await table.ReadAllAsync()).Members).Item1.Status);
    }

    [Fact]
    public async Task Deleting_a_clusters_entries_removes_its_rows_and_version_and_leaves_other_clusters_alone()
    {
        var doomed = await StartTableAsync();
        var kept = await StartTableAsync(clusterId: _clusterId + "-kept");
        Assert.True(await doomed.InsertRowAsync(Entry(10081, SiloStatus.Active), (await doomed.ReadAllAsync()).Version.Next()));
        Assert.True(await doomed.InsertRowAsync(Entry(10082, SiloStatus.Dead), (await doomed.ReadAllAsync()).Version.Next()));
        Assert.True(await kept.InsertRowAsync(Entry(10081, SiloStatus.Active), (await kept.ReadAllAsync()).Version.Next()));

        await doomed.DeleteMembershipTableEntriesAsync(_clusterId);

        Assert.Equal(0L, await Database.ScalarAsync<long>("SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @id", ("id", _clusterId)));
        Assert.Equal(0L, await Database.ScalarAsync<long>("SELECT count(*) FROM OrleansMembershipVersionTable WHERE DeploymentId = @id", ("id", _clusterId)));
        var survivor = await kept.ReadAllAsync();
        Assert.Single(survivor.Members);
        Assert.Equal(1, survivor.Version.Version);

        // A silo of the deleted cluster starting again finds it new.
        var reborn = await (await StartTableAsync()).ReadAllAsync();
        Assert.Empty(reborn.Members);
        Assert.Equal(0, reborn.Version.Version);
    }

    [Fact]
    public async Task A_client_is_offered_as_gateways_the_active_silos_of_its_cluster_that_have_a_proxy_port()
    {
        var table = await StartTableAsync();
        var otherCluster = await StartTableAsync(clusterId: _clusterId + "-other");
        var gatewayA = Entry(10091, SiloStatus.Active, generation: 3);
        var gatewayB = Entry(10093, SiloStatus.Active, generation: 4);
        var noProxy = Entry(10095, SiloStatus.Active, proxyPort: 0);
        var joining = Entry(10097, SiloStatus.Joining);
        var dead = Entry(10099, SiloStatus.Dead);
        foreach (var entry in new[] { gatewayA, gatewayB, noProxy, joining, dead })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        Assert.True(await otherCluster.InsertRowAsync(Entry(10101, SiloStatus.Active), (await otherCluster.ReadAllAsync()).Version.Next()));
        var gateways = await StartGatewayListAsync();

        Assert.Equal(
            new[] { GatewayOf(gatewayA), GatewayOf(gatewayB) }.Select(u => u.ToString()).Order(),
            (await gateways.GetGatewaysAsync()).Select(u => u.ToString()).Order());

        // A gateway declared dead drops out of the next listing.
        var (b, etag) = (await table.ReadRowAsync(gatewayB.SiloAddress)).Members.Single();
        b.Status = SiloStatus.Dead;
        Assert.True(await table.UpdateRowAsync(b, etag, (await table.ReadAllAsync()).Version.Next()));
        Assert.Equal([GatewayOf(gatewayA)], await gateways.GetGatewaysAsync());
    }

    private async Task<int> RunCleanupAsync(string query, MembershipEntry entry, DateTime iAmAliveTime, string? suspectTimes)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(query, connection);
        command.Parameters.AddWithValue("DeploymentId", _clusterId);
        command.Parameters.AddWithValue("Address", entry.SiloAddress.Endpoint.Address.ToString());
        command.Parameters.AddWithValue("Port", entry.SiloAddress.Endpoint.Port);
        command.Parameters.AddWithValue("Generation", entry.SiloAddress.Generation);
        command.Parameters.AddWithValue("StartTime", entry.StartTime);
        command.Parameters.AddWithValue("IAmAliveTime", iAmAliveTime);
        command.Parameters.AddWithValue("SuspectTimes", NpgsqlTypes.NpgsqlDbType.Text, (object?)suspectTimes ?? DBNull.Value);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>The membership table of a silo of the cluster (this test's unless named), with its version row.</summary>
    private async Task<IMembershipTable> StartTableAsync(string? serverOptions = null, string? clusterId = null)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Options = serverOptions }.ConnectionString;
        var table = BuildSilo(connectionString, clusterId ?? _clusterId).Services.GetRequiredService<IMembershipTable>();
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        return table;
    }

    /// <summary>A silo host on <c>UseFederationPostgresClustering</c>, built, never started.</summary>
    private IHost BuildSilo(string connectionString, string clusterId)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseOrleans(silo => silo
            .UseFederationPostgresClustering(connectionString)
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId)));
        var host = builder.Build();
        _hosts.Add(host);
        return host;
    }

    /// <summary>The gateway list of a client of this test's cluster on <c>UseFederationPostgresClustering</c>.</summary>
    private async Task<IGatewayListProvider> StartGatewayListAsync()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseOrleansClient(client => client
            .UseFederationPostgresClustering(Database.ConnectionString)
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (_clusterId, _clusterId)));
        var host = builder.Build();
        _hosts.Add(host);
        var gateways = Assert.IsType<AdoNetGatewayListProvider>(host.Services.GetRequiredService<IGatewayListProvider>());
        await gateways.InitializeGatewayListProviderAsync();
        return gateways;
    }

    private static Uri GatewayOf(MembershipEntry entry) =>
        SiloAddress.New(entry.SiloAddress.Endpoint.Address, entry.ProxyPort, entry.SiloAddress.Generation).ToGatewayUri();

    private static void AssertSameEntry(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal(
            (expected.SiloName, expected.HostName, expected.Status, expected.ProxyPort, expected.StartTime, expected.IAmAliveTime),
            (actual.SiloName, actual.HostName, actual.Status, actual.ProxyPort, actual.StartTime, actual.IAmAliveTime));
        Assert.Equal(DateTimeKind.Utc, actual.IAmAliveTime.Kind);
        Assert.True(actual.SuspectTimes is null or { Count: 0 }, "no suspicions were written");
    }

    private static MembershipEntry Entry(
        int port, SiloStatus status, int generation = 1, int? proxyPort = null, DateTime? startTime = null, DateTime? iAmAliveTime = null) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, port, generation),
        SiloName = $"silo-{port}",
        HostName = "test-host",
        Status = status,
        ProxyPort = proxyPort ?? port + 1,
        StartTime = startTime ?? Now,
        IAmAliveTime = iAmAliveTime ?? Now,
    };
}
