using Federation.Storage.Orleans.Tests.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Federation.Storage.Orleans.Tests.GrainStorage;

/// <summary>Names the contract's grains share with every back end's fixture.</summary>
public static class GrainStorageContract
{
    /// <summary>The storage name of the test grains' <c>[PersistentState]</c>; a fixture registers its storage under it.</summary>
    public const string StorageName = "contract";
}

/// <summary>How a contract test damages a stored state.</summary>
public enum StateDamage
{
    /// <summary>The stored bytes replaced by text that is not JSON.</summary>
    NotJson,

    /// <summary>The stored state cut in the middle (a torn write, a disk that lost the tail).</summary>
    Truncated,
}

/// <summary>
/// A cluster whose grains keep their state in one grain storage under test, registered as
/// <see cref="GrainStorageContract.StorageName"/>. A back end (file, PostgreSQL) subclasses this with the
/// registration and a way to damage a stored state, and subclasses <see cref="GrainStorageContract{TFixture}"/>
/// with nothing else.
/// </summary>
public abstract class GrainStorageClusterFixture : IAsyncLifetime
{
    public const short SiloCount = 1;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The service every start of the cluster belongs to: a restarted cluster is the same service (storage keys include it).</summary>
    public string ServiceId { get; } = "contract-" + Guid.NewGuid().ToString("N");

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>The storage under test, as the first silo resolves it.</summary>
    public IGrainStorage Storage => Cluster.Silos[0].SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(GrainStorageContract.StorageName);

    /// <summary>Registers the storage under test as <see cref="GrainStorageContract.StorageName"/>, over the same store on every start.</summary>
    protected abstract void ConfigureStorage(ISiloBuilder silo);

    /// <summary>Damages the stored state; returns where it is (a file path), which the read error must name, or null.</summary>
    public abstract Task<string?> DamageStateAsync(GrainId grainId, string stateName, StateDamage damage);

    /// <summary>Stops every silo and starts a new cluster over the same store.</summary>
    public async Task RestartClusterAsync()
    {
        await Cluster.DisposeAsync();
        Cluster = await StartClusterAsync();
    }

    public virtual async Task InitializeAsync() => Cluster = await StartClusterAsync();

    public virtual async Task DisposeAsync() => await Cluster.DisposeAsync();

    private async Task<InProcessTestCluster> StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(SiloCount);
        builder.Options.ServiceId = ServiceId;
        builder.ConfigureSilo((_, silo) => ConfigureStorage(silo));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}

/// <summary>
/// What every grain storage of the product must do (Orleans' IGrainStorage contract as docs/formats/grain-state.md
/// states it): state survives deactivation and a full restart, etags are versions and a stale one is refused, a clear
/// empties the state, and a stored state that does not read fails that grain's activation, with a message naming
/// the grain and the state, and no other grain's.
/// </summary>
public abstract class GrainStorageContract<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : GrainStorageClusterFixture
{
    protected TFixture Fixture { get; } = fixture;

    private static string NewKey() => Guid.NewGuid().ToString("N");

    private INoteGrain Note(string key) => Fixture.Grains.GetGrain<INoteGrain>(key);

    [Fact]
    public async Task A_grain_that_never_wrote_starts_from_a_new_state_without_etag()
    {
        var view = await Note(NewKey()).Read();

        Assert.False(view.RecordExists);
        Assert.Null(view.Etag);
        Assert.Equal("", view.Text);
    }

    [Fact]
    public async Task A_written_state_reads_back_after_the_grain_deactivates()
    {
        var grain = Note(NewKey());
        await grain.Write("first");
        var written = await grain.Write("second");

        await Fixture.Cluster.DeactivateAsync(grain);
        var read = await grain.Read();

        Assert.True(read.RecordExists);
        Assert.Equal("second", read.Text);
        Assert.Equal(2, read.Revision);
        Assert.Equal(written.Etag, read.Etag);
    }

    [Fact]
    public async Task A_written_state_reads_back_after_the_whole_cluster_restarts()
    {
        var key = NewKey();
        var written = await Note(key).Write("kept across a restart");

        await Fixture.RestartClusterAsync();
        var read = await Note(key).Read();

        Assert.True(read.RecordExists);
        Assert.Equal("kept across a restart", read.Text);
        Assert.Equal(written.Etag, read.Etag);
    }

    [Fact]
    public async Task Every_write_changes_the_etag()
    {
        var grain = Note(NewKey());
        var first = await grain.Write("a");
        var second = await grain.Write("b");

        Assert.NotNull(first.Etag);
        Assert.NotNull(second.Etag);
        Assert.NotEqual(first.Etag, second.Etag);
    }

    [Fact]
    public async Task A_clear_empties_the_state_and_it_stays_empty_after_deactivation()
    {
        var grain = Note(NewKey());
        await grain.Write("to be cleared");

        var cleared = await grain.Clear();
        await Fixture.Cluster.DeactivateAsync(grain);
        var read = await grain.Read();

        Assert.False(cleared.RecordExists);
        Assert.Equal("", cleared.Text);
        Assert.False(read.RecordExists);
        Assert.Equal("", read.Text);
        Assert.Equal(cleared.Etag, read.Etag);
    }

    [Fact]
    public async Task A_grain_can_write_again_after_a_clear()
    {
        var grain = Note(NewKey());
        await grain.Write("before");
        await grain.Clear();
        await grain.Write("after");

        await Fixture.Cluster.DeactivateAsync(grain);
        var read = await grain.Read();

        Assert.True(read.RecordExists);
        Assert.Equal("after", read.Text);
        Assert.Equal(1, read.Revision);
    }

    [Fact]
    public async Task A_clear_of_a_state_never_written_changes_nothing()
    {
        var grain = Note(NewKey());

        var cleared = await grain.Clear();

        Assert.False(cleared.RecordExists);
        var probe = new GrainState<NoteState>();
        await Fixture.Storage.ReadStateAsync(NoteGrain.StateName, grain.GetGrainId(), probe);
        Assert.False(probe.RecordExists);
    }

    [Fact]
    public async Task A_grain_whose_state_another_writer_changed_has_its_write_refused_and_reloads_the_other_state()
    {
        var grain = Note(NewKey());
        await grain.Write("mine");

        // Another writer (a second activation after a partition, an operator's tool) based on the same version.
        var other = new GrainState<NoteState>();
        await Fixture.Storage.ReadStateAsync(NoteGrain.StateName, grain.GetGrainId(), other);
        other.State = new NoteState { Text = "theirs", Revision = 7 };
        await Fixture.Storage.WriteStateAsync(NoteGrain.StateName, grain.GetGrainId(), other);

        await Assert.ThrowsAsync<InconsistentStateException>(() => grain.Write("mine again"));

        // Orleans deactivates the grain that met a stale etag; its next activation reads the other writer's state.
        var read = await RetryWhileDeactivatingAsync(grain.Read);
        Assert.Equal("theirs", read.Text);
        Assert.Equal(other.ETag, read.Etag);
    }

    [Fact]
    public async Task Of_two_writers_based_on_the_same_version_only_the_first_succeeds()
    {
        var grainId = Note(NewKey()).GetGrainId();
        var storage = Fixture.Storage;
        var seed = new GrainState<NoteState> { State = new NoteState { Text = "seed" } };
        await storage.WriteStateAsync(NoteGrain.StateName, grainId, seed);

        var first = new GrainState<NoteState>();
        var second = new GrainState<NoteState>();
        await storage.ReadStateAsync(NoteGrain.StateName, grainId, first);
        await storage.ReadStateAsync(NoteGrain.StateName, grainId, second);
        first.State!.Text = "first";
        second.State!.Text = "second";

        await storage.WriteStateAsync(NoteGrain.StateName, grainId, first);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(NoteGrain.StateName, grainId, second));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(NoteGrain.StateName, grainId, second));

        var stored = new GrainState<NoteState>();
        await storage.ReadStateAsync(NoteGrain.StateName, grainId, stored);
        Assert.Equal("first", stored.State!.Text);
        Assert.Equal(first.ETag, stored.ETag);
    }

    [Fact]
    public async Task A_first_write_that_claims_an_etag_is_refused()
    {
        var grainId = Note(NewKey()).GetGrainId();
        var invented = new GrainState<NoteState> { State = new NoteState { Text = "x" }, ETag = "41" };

        await Assert.ThrowsAsync<InconsistentStateException>(() => Fixture.Storage.WriteStateAsync(NoteGrain.StateName, grainId, invented));

        var stored = new GrainState<NoteState>();
        await Fixture.Storage.ReadStateAsync(NoteGrain.StateName, grainId, stored);
        Assert.False(stored.RecordExists);
        Assert.Null(stored.ETag);
    }

    [Fact]
    public async Task A_write_based_on_a_version_from_before_a_clear_is_refused()
    {
        var grainId = Note(NewKey()).GetGrainId();
        var storage = Fixture.Storage;
        var writer = new GrainState<NoteState> { State = new NoteState { Text = "v1" } };
        await storage.WriteStateAsync(NoteGrain.StateName, grainId, writer);
        var stale = new GrainState<NoteState> { State = new NoteState { Text = "stale" }, ETag = writer.ETag };

        await storage.ClearStateAsync(NoteGrain.StateName, grainId, writer);

        Assert.False(writer.RecordExists);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(NoteGrain.StateName, grainId, stale));
    }

    [Theory]
    [InlineData(StateDamage.NotJson)]
    [InlineData(StateDamage.Truncated)]
    public async Task A_damaged_state_fails_its_grains_activation_naming_the_grain_and_state_and_no_other_grain_loses_anything(StateDamage damage)
    {
        var damaged = Note(NewKey());
        var neighbour = Note(NewKey());
        await damaged.Write("will be damaged");
        await neighbour.Write("untouched");
        await Fixture.Cluster.DeactivateAsync(damaged);
        await Fixture.Cluster.DeactivateAsync(neighbour);

        var location = await Fixture.DamageStateAsync(damaged.GetGrainId(), NoteGrain.StateName, damage);
        var error = await Assert.ThrowsAnyAsync<Exception>(damaged.Read);

        Assert.Contains(damaged.GetGrainId().ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{NoteGrain.StateName}\"", error.Message, StringComparison.Ordinal);
        if (location is not null)
        {
            Assert.Contains(location, error.Message, StringComparison.Ordinal);
        }

        var read = await neighbour.Read();
        Assert.Equal("untouched", read.Text);
    }

    /// <summary>A call that meets the grain while it deactivates (after a stale write) is retried, a bounded number of times.</summary>
    private static async Task<T> RetryWhileDeactivatingAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (InconsistentStateException) when (attempt < 10)
            {
                await Task.Delay(50);
            }
        }
    }
}
