using System.Text;
using Orleans.Hosting;
using Orleans.Runtime;

namespace Federation.Storage.Orleans.Tests.GrainStorage;

/// <summary>The file grain storage over one data directory, kept across the cluster restarts of the contract.</summary>
public sealed class FileGrainStorageClusterFixture : GrainStorageClusterFixture
{
    private readonly TempDirectory _data = new();

    public string DataDirectory => _data.Path;

    protected override void ConfigureStorage(ISiloBuilder silo) =>
        silo.AddFileGrainStorage(GrainStorageContract.StorageName, o => o.DataDirectory = DataDirectory);

    public override Task<string?> DamageStateAsync(GrainId grainId, string stateName, StateDamage damage)
    {
        var path = ((FileGrainStorage)Storage).PathOf(stateName, grainId);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, damage switch
        {
            StateDamage.NotJson => Encoding.UTF8.GetBytes("this is not JSON\n"),
            StateDamage.Truncated => bytes[..(bytes.Length / 2)],
            _ => throw new ArgumentOutOfRangeException(nameof(damage)),
        });
        return Task.FromResult<string?>(path);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _data.Dispose();
    }
}

public sealed class FileGrainStorageContractTests(FileGrainStorageClusterFixture fixture)
    : GrainStorageContract<FileGrainStorageClusterFixture>(fixture);
