using System.Text;
using Federation.Storage.Orleans.Tests.Grains;
using Federation.Storage.Orleans.Tests.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federation.Storage.Orleans.Tests.GrainStorage;

/// <summary>
/// Orleans' ADO.NET grain storage on the project's PostgreSQL schema (<c>AddFederationPostgresGrainStorage</c>), over
/// one database kept across the contract's cluster restarts; the silo migrates it on its first start.
/// </summary>
public sealed class PostgresGrainStorageClusterFixture : GrainStorageClusterFixture
{
    public PostgresDatabase Database { get; private set; } = null!;

    protected override void ConfigureStorage(ISiloBuilder silo) =>
        silo.AddFederationPostgresGrainStorage(GrainStorageContract.StorageName, Database.ConnectionString);

    /// <summary>Overwrites the state's payload in its row.</summary>
    public override async Task<string?> DamageStateAsync(GrainId grainId, string stateName, StateDamage damage)
    {
        var payload = damage switch
        {
            StateDamage.NotJson => "convert_to('this is not JSON', 'UTF8')",
            StateDamage.Truncated => "substring(PayloadBinary FROM 1 FOR length(PayloadBinary) / 2)",
            _ => throw new ArgumentOutOfRangeException(nameof(damage)),
        };
        var (where, parameters) = RowOf(grainId, stateName);
        Assert.Equal(1, await Database.ExecuteAsync($"UPDATE OrleansStorage SET PayloadBinary = {payload} WHERE {where}", parameters));
        return $"PostgreSQL grain storage \"{GrainStorageContract.StorageName}\"";
    }

    /// <summary>
    /// The row of a state, keyed as Orleans' ADO.NET storage keys it: a Guid key (a string key that parses as a Guid
    /// too) in N0/N1 with its extension, an integer key in N1, any other string key in GrainIdExtensionString.
    /// </summary>
    public (string Where, (string Name, object Value)[] Parameters) RowOf(GrainId grainId, string stateName)
    {
        long n0 = 0, n1 = 0;
        string? extension;
        if (grainId.TryGetGuidKey(out var guid, out extension))
        {
            var bytes = guid.ToByteArray();
            (n0, n1) = (BitConverter.ToInt64(bytes, 0), BitConverter.ToInt64(bytes, 8));
        }
        else if (grainId.TryGetIntegerKey(out var integer, out extension))
        {
            n1 = integer;
        }
        else
        {
            extension = grainId.Key.ToString();
        }

        return (
            "ServiceId = @service AND GrainTypeString = @state AND GrainIdN0 = @n0 AND GrainIdN1 = @n1 AND GrainIdExtensionString IS NOT DISTINCT FROM @extension",
            [("service", ServiceId), ("state", stateName), ("n0", n0), ("n1", n1), ("extension", (object?)extension ?? DBNull.Value)]);
    }

    public override async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync("grainstate");
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public sealed class PostgresGrainStorageContractTests(PostgresGrainStorageClusterFixture fixture)
    : GrainStorageContract<PostgresGrainStorageClusterFixture>(fixture)
{
    [Fact]
    public void The_storage_is_orleans_ado_net_storage_with_the_protocol_json_serializer_and_the_npgsql_invariant()
    {
        var storage = Assert.IsType<PostgresGrainStorage>(Fixture.Storage);
        var options = Fixture.Cluster.Silos[0].SiloHost.Services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>().Get(GrainStorageContract.StorageName);

        Assert.IsType<AdoNetGrainStorage>(storage.Inner);
        Assert.Same(ProtocolJsonGrainStorageSerializer.Instance, storage.Inner.Serializer);
        Assert.Same(ProtocolJsonGrainStorageSerializer.Instance, options.GrainStorageSerializer);
        Assert.Equal("Npgsql", options.Invariant);
    }

    [Fact]
    public async Task A_state_is_stored_as_protocol_json_without_type_names()
    {
        var grain = Fixture.Grains.GetGrain<INoteGrain>(Guid.NewGuid().ToString("N"));
        await grain.Write("stored as JSON");

        var (where, parameters) = Fixture.RowOf(grain.GetGrainId(), NoteGrain.StateName);
        var payload = await Fixture.Database.ScalarAsync<byte[]>($"SELECT PayloadBinary FROM OrleansStorage WHERE {where}", parameters);

        Assert.Equal("""{"text":"stored as JSON","revision":1}""", Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task A_damaged_state_read_directly_is_a_grain_state_format_exception_around_the_serializers()
    {
        var grain = Fixture.Grains.GetGrain<INoteGrain>(Guid.NewGuid().ToString("N"));
        await grain.Write("to be damaged");
        await Fixture.DamageStateAsync(grain.GetGrainId(), NoteGrain.StateName, StateDamage.NotJson);

        var error = await Assert.ThrowsAsync<GrainStateFormatException>(() =>
            Fixture.Storage.ReadStateAsync(NoteGrain.StateName, grain.GetGrainId(), new GrainState<NoteState>()));

        Assert.StartsWith($"state \"{NoteGrain.StateName}\" of grain {grain.GetGrainId()} (PostgreSQL grain storage \"{GrainStorageContract.StorageName}\"", error.Message);
        var fromSerializer = Assert.IsType<GrainStateFormatException>(error.InnerException);
        Assert.StartsWith("not a valid NoteState", fromSerializer.Message);
    }

    [Fact]
    public async Task Of_two_first_writes_racing_for_one_state_one_is_stored_and_the_other_refused()
    {
        var grainId = Fixture.Grains.GetGrain<INoteGrain>(Guid.NewGuid().ToString("N")).GetGrainId();
        var writers = Enumerable.Range(0, 8).Select(i => new GrainState<NoteState> { State = new NoteState { Text = $"writer {i}" } }).ToList();

        var outcomes = await Task.WhenAll(writers.Select(w => Task.Run(async () =>
        {
            try
            {
                await Fixture.Storage.WriteStateAsync(NoteGrain.StateName, grainId, w);
                return true;
            }
            catch (InconsistentStateException)
            {
                return false;
            }
        })));

        var winner = writers[Assert.Single(Enumerable.Range(0, writers.Count), i => outcomes[i])];
        var (where, parameters) = Fixture.RowOf(grainId, NoteGrain.StateName);
        Assert.Equal(1L, await Fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM OrleansStorage WHERE {where}", parameters));
        var stored = new GrainState<NoteState>();
        await Fixture.Storage.ReadStateAsync(NoteGrain.StateName, grainId, stored);
        Assert.Equal((winner.State!.Text, "1"), (stored.State!.Text, stored.ETag));
    }
}
