using System.Text;
using Federation.Hosting.Persistence;

namespace Federation.Hosting.Tests.Persistence;

/// <summary>The contract every grain storage provider keeps; one subclass per provider.</summary>
public abstract class GrainStorageContract
{
    protected abstract Task<IGrainStorage> CreateAsync();

    private static GrainStateKey Key(string key, string type = "node", string state = "state") => new(new GrainId(type, key), state);

    private static byte[] Json(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(StoredGrainState? state) => state?.Payload is { } p ? System.Text.Json.Nodes.JsonNode.Parse(p)!.ToJsonString() : "(none)";

    [Fact]
    public async Task Reading_a_key_never_written_gives_nothing()
    {
        var storage = await CreateAsync();
        Assert.Null(await storage.ReadAsync(Key("absent")));
    }

    [Fact]
    public async Task A_first_write_needs_no_etag_and_each_write_returns_a_new_one()
    {
        var storage = await CreateAsync();
        var key = Key("a");
        var first = await storage.WriteAsync(key, Json("""{"n":1}"""), etag: null);
        var second = await storage.WriteAsync(key, Json("""{"n":2}"""), first);
        Assert.NotEqual(first, second);

        var read = await storage.ReadAsync(key);
        Assert.Equal(second, read!.Etag);
        Assert.Equal("""{"n":2}""", Text(read));
    }

    [Fact]
    public async Task A_write_based_on_a_stale_etag_is_refused_and_changes_nothing()
    {
        var storage = await CreateAsync();
        var key = Key("stale");
        var first = await storage.WriteAsync(key, Json("""{"n":1}"""), null);
        var second = await storage.WriteAsync(key, Json("""{"n":2}"""), first);

        var stale = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync(key, Json("""{"n":3}"""), first));
        Assert.Equal(second, stale.StoredEtag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync(key, Json("""{"n":3}"""), null));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync(Key("never"), Json("""{"n":3}"""), "7"));

        var read = await storage.ReadAsync(key);
        Assert.Equal((second, """{"n":2}"""), (read!.Etag, Text(read)));
    }

    [Fact]
    public async Task A_clear_removes_the_payload_but_keeps_the_version_counting()
    {
        var storage = await CreateAsync();
        var key = Key("clear");
        var first = await storage.WriteAsync(key, Json("""{"n":1}"""), null);
        var cleared = await storage.ClearAsync(key, first);
        Assert.NotNull(cleared);
        Assert.NotEqual(first, cleared);

        var read = await storage.ReadAsync(key);
        Assert.Equal(cleared, read!.Etag);
        Assert.Null(read.Payload);

        // A write based on the etag from before the clear is stale; one based on the clear's etag is not.
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync(key, Json("""{"n":9}"""), first));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearAsync(key, first));
        var again = await storage.WriteAsync(key, Json("""{"n":2}"""), cleared);
        Assert.Equal("""{"n":2}""", Text(await storage.ReadAsync(key)));
        Assert.NotEqual(cleared, again);
    }

    [Fact]
    public async Task Clearing_what_was_never_written_is_a_no_op()
    {
        var storage = await CreateAsync();
        Assert.Null(await storage.ClearAsync(Key("nothing"), null));
        Assert.Null(await storage.ReadAsync(Key("nothing")));
    }

    [Fact]
    public async Task Grain_type_key_and_state_name_each_separate_states()
    {
        var storage = await CreateAsync();
        GrainStateKey[] keys = [Key("k"), Key("k", type: "epoch"), Key("k", state: "other"), Key("K"), Key("k/x"), Key("k%2Fx"), Key("k.x"), Key(""), Key("..")];
        for (var i = 0; i < keys.Length; i++)
        {
            await storage.WriteAsync(keys[i], Json($$"""{"i":{{i}}}"""), null);
        }

        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal($$"""{"i":{{i}}}""", Text(await storage.ReadAsync(keys[i])));
        }
    }

    [Fact]
    public async Task Keys_with_any_characters_and_any_length_round_trip()
    {
        var storage = await CreateAsync();
        string[] keys = ["../../etc/passwd", "ключ-ñ-🙂", new string('x', 600), new string('x', 601), "a b\tc\\d:e*f?g\"h<i>j|"];
        foreach (var key in keys)
        {
            await storage.WriteAsync(Key(key), Json($$"""{"key":{{System.Text.Json.JsonSerializer.Serialize(key)}}}"""), null);
        }

        foreach (var key in keys)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse((await storage.ReadAsync(Key(key)))!.Payload!)!;
            Assert.Equal(key, node["key"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Persistent_state_tracks_etag_and_existence_over_a_provider()
    {
        var storage = await CreateAsync();
        var key = Key("typed");
        var state = new PersistentState<Grains.CounterState>(storage, key, StateFactory.StateJson);
        await state.ReadStateAsync();
        Assert.False(state.RecordExists);
        Assert.Null(state.Etag);

        state.State.Value = 5;
        await state.WriteStateAsync();
        Assert.True(state.RecordExists);

        var other = new PersistentState<Grains.CounterState>(storage, key, StateFactory.StateJson);
        await other.ReadStateAsync();
        Assert.Equal((5, state.Etag), (other.State.Value, other.Etag));
        other.State.Value = 6;
        await other.WriteStateAsync();

        state.State.Value = 7;
        await Assert.ThrowsAsync<InconsistentStateException>(state.WriteStateAsync); // the other copy wrote first
        await state.ReadStateAsync();
        Assert.Equal(6, state.State.Value);

        await state.ClearStateAsync();
        Assert.False(state.RecordExists);
        Assert.Equal(0, state.State.Value);
        await state.ReadStateAsync();
        Assert.False(state.RecordExists);
    }
}

public sealed class MemoryGrainStorageTests : GrainStorageContract
{
    protected override Task<IGrainStorage> CreateAsync() => Task.FromResult<IGrainStorage>(new MemoryGrainStorage());
}

public sealed class FileGrainStorageTests : GrainStorageContract, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<IGrainStorage> CreateAsync() => Task.FromResult<IGrainStorage>(new FileGrainStorage(_directory.Path));

    [Fact]
    public async Task State_lives_in_one_json_file_per_grain_state_with_its_version()
    {
        var storage = new FileGrainStorage(_directory.Path);
        await storage.WriteAsync(new GrainStateKey(new GrainId("node", "a/b"), "state"), Encoding.UTF8.GetBytes("""{"n":1}"""), null);

        var path = Path.Combine(_directory.Path, "node", "a%2Fb.state.json");
        Assert.Equal(path, storage.PathOf(new GrainStateKey(new GrainId("node", "a/b"), "state")));
        Assert.Equal("""{"version":1,"payload":{"n":1}}""" + "\n", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.Combine(_directory.Path, "node"))); // no temp files left
    }

    [Fact]
    public async Task A_write_checks_the_version_another_writer_left_in_the_file()
    {
        var key = new GrainStateKey(new GrainId("federation", "f"), "federation");
        var mine = new FileGrainStorage(_directory.Path);
        var etag = await mine.WriteAsync(key, Encoding.UTF8.GetBytes("""{"nodes":["a"]}"""), null);

        // Another process (or a restored backup) moved the file on: the head now says version 7.
        var path = mine.PathOf(key);
        File.WriteAllText(path, """{"version":7,"payload":{"nodes":["a","b"]}}""" + "\n");
        var stale = await Assert.ThrowsAsync<InconsistentStateException>(() => mine.WriteAsync(key, Encoding.UTF8.GetBytes("""{"nodes":[]}"""), etag));
        Assert.Contains("7", stale.Message);
        Assert.Contains("\"b\"", File.ReadAllText(path)); // nothing lost

        Assert.Equal("8", await mine.WriteAsync(key, Encoding.UTF8.GetBytes("""{"nodes":["c"]}"""), "7"));
    }

    [Fact]
    public async Task A_hand_edited_file_is_still_checked_and_a_damaged_one_is_named()
    {
        var key = new GrainStateKey(new GrainId("node", "n"), "state");
        var storage = new FileGrainStorage(_directory.Path);
        var path = storage.PathOf(key);
        await storage.WriteAsync(key, Encoding.UTF8.GetBytes("""{"n":1}"""), null);

        // Reformatted by an editor: members reordered, whitespace added. The version is still found.
        File.WriteAllText(path, "{\n  \"payload\": {\"n\": 5},\n  \"version\": 3\n}\n");
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync(key, Encoding.UTF8.GetBytes("""{"n":6}"""), "1"));
        Assert.Equal("4", await storage.WriteAsync(key, Encoding.UTF8.GetBytes("""{"n":6}"""), "3"));

        // Truncated: reads and writes both refuse with the file's path, and the bytes stay for inspection.
        File.WriteAllText(path, """{"version":4,"payload":{"n":""");
        var read = await Assert.ThrowsAsync<InvalidDataException>(() => storage.ReadAsync(key));
        Assert.Contains(path, read.Message);
        Assert.Contains("not valid JSON", read.Message);
        File.WriteAllText(path, """{"payload":{"n":""");
        var write = await Assert.ThrowsAsync<InvalidDataException>(() => storage.WriteAsync(key, Encoding.UTF8.GetBytes("""{"n":7}"""), "4"));
        Assert.Contains(path, write.Message);
        Assert.Equal("""{"payload":{"n":""", File.ReadAllText(path));
    }

    [Fact]
    public async Task A_closed_store_refuses_further_writes()
    {
        var storage = new FileGrainStorage(_directory.Path);
        storage.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.WriteAsync(new GrainStateKey(new GrainId("node", "x"), "s"), Encoding.UTF8.GetBytes("{}"), null));
    }

    public void Dispose() => _directory.Dispose();
}

public sealed class PostgresGrainStorageTests : GrainStorageContract, IDisposable
{
    private readonly List<PostgresGrainStorage> _stores = [];

    protected override async Task<IGrainStorage> CreateAsync()
    {
        var storage = new PostgresGrainStorage(await PostgresCluster.Instance.CreateDatabaseAsync("grains"), "Default");
        await storage.InitializeAsync(CancellationToken.None);
        await storage.InitializeAsync(CancellationToken.None); // idempotent: a second host starting finds the schema
        _stores.Add(storage);
        return storage;
    }

    [Fact]
    public async Task Two_hosts_over_one_database_see_each_others_writes_and_stale_etags()
    {
        var connection = await PostgresCluster.Instance.CreateDatabaseAsync("grains");
        using var first = new PostgresGrainStorage(connection, "Default");
        using var second = new PostgresGrainStorage(connection, "Default");
        await first.InitializeAsync(CancellationToken.None);
        await second.InitializeAsync(CancellationToken.None);
        var key = new GrainStateKey(new GrainId("node", "shared"), "state");

        var etag = await first.WriteAsync(key, Encoding.UTF8.GetBytes("""{"n":1}"""), null);
        Assert.Equal(etag, (await second.ReadAsync(key))!.Etag);
        await second.WriteAsync(key, Encoding.UTF8.GetBytes("""{"n":2}"""), etag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => first.WriteAsync(key, Encoding.UTF8.GetBytes("""{"n":3}"""), etag));
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }
}
