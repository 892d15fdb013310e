using System.Reflection;
using Federation.Storage.Orleans.Tests.Grains;
using Federation.Storage.Orleans.Tests.GrainStorage;
using Federation.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Federation.Storage.Orleans.Tests.Postgres;

/// <summary>
/// Silos on <c>UseFederationPostgres</c> over a database they find empty: membership, grain state and reminders in
/// PostgreSQL, the test cluster's in-memory membership switched off, membership timeouts short (ORLEANS.md: 1.75 s
/// from a kill to the first call served elsewhere).
/// </summary>
public sealed class PostgresSiloTests : IAsyncLifetime
{
    private const short SiloCount = 2;

    // Bounds of the waits after a kill: attempts, and the pause between them.
    private const int MaxAttempts = 60;
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(500);

    private PostgresDatabase _database = null!;
    private InProcessTestCluster? _cluster;

    private InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster is not deployed");

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync("silos");

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    [Fact]
    public async Task The_first_silo_creates_the_schema_before_membership_reads_it()
    {
        await DeployAsync(SiloCount);

        Assert.Equal(OrleansPostgresSchema.CurrentVersion, await _database.ScalarAsync<int>("SELECT version FROM fed_schema_version WHERE component = 'orleans'"));
        Assert.Equal(SiloCount, (int)await _database.ScalarAsync<long>("SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3"));
    }

    [Fact]
    public async Task A_grains_state_survives_the_death_of_the_silo_that_hosted_it()
    {
        await DeployAsync(SiloCount);
        var note = Cluster.Client.GetGrain<INoteGrain>("survives");
        await note.Write("written before the kill");
        var victim = await HostOfAsync(note);

        await Cluster.KillSiloAsync(victim);
        var read = await RetryAsync(note.Read);

        Assert.Equal("written before the kill", read.Text);
        Assert.Equal(1, read.Revision);
        Assert.NotEqual(victim.SiloAddress.ToString(), await note.Host());
    }

    [Fact]
    public async Task The_defunct_silo_cleanup_removes_the_dead_silos_row_and_keeps_the_live_one()
    {
        await DeployAsync(SiloCount);
        var victim = Cluster.Silos[1];
        var survivor = Cluster.Silos[0];
        await Cluster.KillSiloAsync(victim);
        await WaitForStatusAsync(victim.SiloAddress, SiloStatus.Dead);

        var table = survivor.SiloHost.Services.GetRequiredService<IMembershipTable>();
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddSeconds(1), CancellationToken.None);

        Assert.Equal(
            [$"{survivor.SiloAddress.Endpoint.Port} {(int)SiloStatus.Active}"],
            await _database.ColumnAsync<string>("SELECT Port || ' ' || Status FROM OrleansMembershipTable"));
    }

    [Fact]
    public async Task A_silo_refuses_to_start_on_a_database_a_newer_build_migrated()
    {
        await OrleansPostgresSchema.MigrateAsync(_database.ConnectionString, CancellationToken.None);
        await _database.ExecuteAsync("UPDATE fed_schema_version SET version = 2 WHERE component = 'orleans'");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => DeployAsync(1));

        var tooNew = Flatten(error).OfType<PostgresSchemaTooNewException>().FirstOrDefault();
        Assert.True(tooNew is not null, $"expected a PostgresSchemaTooNewException, got {error}");
        Assert.Equal((2, 1), (tooNew.DatabaseVersion, tooNew.KnownVersion));
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM OrleansMembershipTable"));
    }

    private async Task DeployAsync(short silos)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        UseRealMembership(builder);
        builder.ConfigureSilo((_, silo) => silo
            .UseFederationPostgres(o =>
            {
                o.ConnectionString = _database.ConnectionString;
                o.GrainStorageNames.Clear();
                o.GrainStorageNames.Add(GrainStorageContract.StorageName);
            })
            .Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
            })
            .Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5)));
        builder.ConfigureClient(client => client
            .UseFederationPostgresClustering(_database.ConnectionString)
            .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5)));
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        _cluster = cluster;
    }

    /// <summary>
    /// InProcessTestCluster registers its in-memory membership table after the silo's own configuration, so it
    /// would replace ADO.NET clustering; the switch for it (public on the older TestCluster) is internal here.
    /// </summary>
    private static void UseRealMembership(InProcessTestClusterBuilder builder)
    {
        var property = typeof(InProcessTestClusterOptions).GetProperty("UseTestClusterMembership", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            ?? throw new InvalidOperationException("InProcessTestClusterOptions.UseTestClusterMembership is gone: find the new way to turn off the test membership table");
        property.SetValue(builder.Options, false);
    }

    private async Task<InProcessSiloHandle> HostOfAsync(INoteGrain grain)
    {
        var host = await grain.Host();
        return Cluster.Silos.Single(s => s.SiloAddress.ToString() == host);
    }

    private async Task WaitForStatusAsync(SiloAddress silo, SiloStatus status)
    {
        for (var attempt = 1; ; attempt++)
        {
            var found = await _database.ColumnAsync<int>(
                $"SELECT Status FROM OrleansMembershipTable WHERE Port = {silo.Endpoint.Port} AND Generation = {silo.Generation}");
            if (found.SequenceEqual([(int)status]))
            {
                return;
            }

            Assert.True(attempt < MaxAttempts, $"{silo} is not {status} in the membership table after {MaxAttempts} looks ({string.Join(",", found)})");
            await Task.Delay(Pause);
        }
    }

    /// <summary>A call retried while the cluster notices a dead silo (bounded).</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (attempt < MaxAttempts && ex is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException)
            {
                await Task.Delay(Pause);
            }
        }
    }

    private static IEnumerable<Exception> Flatten(Exception error)
    {
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }
}
