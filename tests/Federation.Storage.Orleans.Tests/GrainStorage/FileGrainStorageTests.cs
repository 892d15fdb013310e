using System.Security.Cryptography;
using System.Text;
using Federation.Storage.Orleans.Tests.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Serialization.Activators;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Federation.Storage.Orleans.Tests.GrainStorage;

/// <summary>The file provider's own promises (docs/formats/grain-state.md): where files go, what they hold, and the old host's files.</summary>
public sealed class FileGrainStorageTests : IDisposable
{
    private const string StorageName = "Default";
    private readonly TempDirectory _data = new();
    private readonly FileGrainStorage _storage;

    public FileGrainStorageTests() => _storage = Create(_data.Path);

    public void Dispose()
    {
        _storage.Dispose();
        _data.Dispose();
    }

    private static FileGrainStorage Create(string dataDirectory) =>
        new(StorageName, new FileGrainStorageOptions { DataDirectory = dataDirectory }, new NewActivators(), NullLogger<FileGrainStorage>.Instance);

    private static GrainId Note(string key) => GrainId.Create(NoteGrain.GrainTypeName, key);

    private static async Task<GrainState<NoteState>> ReadAsync(FileGrainStorage storage, GrainId grainId)
    {
        var state = new GrainState<NoteState>();
        await storage.ReadStateAsync(NoteGrain.StateName, grainId, state);
        return state;
    }

    [Fact]
    public async Task A_state_is_one_file_named_by_storage_grain_type_key_and_state_holding_version_and_payload()
    {
        var state = new GrainState<NoteState> { State = new NoteState { Text = "hello", Revision = 1 } };

        await _storage.WriteStateAsync(NoteGrain.StateName, Note("ab12"), state);

        var path = Path.Combine(_data.Path, "grains", "Default", "note", "ab12.note.json");
        Assert.Equal(path, _storage.PathOf(NoteGrain.StateName, Note("ab12")));
        Assert.Equal("{\"version\":1,\"payload\":{\"text\":\"hello\",\"revision\":1}}\n", File.ReadAllText(path));
        Assert.Equal("1", state.ETag);
    }

    [Fact]
    public async Task A_clear_keeps_the_file_with_the_next_version_and_a_null_payload()
    {
        var grainId = Note("k");
        var state = new GrainState<NoteState> { State = new NoteState { Text = "x" } };
        await _storage.WriteStateAsync(NoteGrain.StateName, grainId, state);

        await _storage.ClearStateAsync(NoteGrain.StateName, grainId, state);

        Assert.Equal("{\"version\":2,\"payload\":null}\n", File.ReadAllText(_storage.PathOf(NoteGrain.StateName, grainId)));
        Assert.Equal("2", state.ETag);
        Assert.False(state.RecordExists);
        Assert.Equal("", state.State!.Text);
    }

    [Theory]
    [InlineData("a/b", "a%2Fb")]
    [InlineData(".", "%2E")]
    [InlineData("..", "%2E%2E")]
    [InlineData("", "%")]
    [InlineData("node-1_A", "node-1_A")]
    [InlineData("é", "%C3%A9")]
    public void Names_are_escaped_so_that_none_leaves_its_folder_or_shares_a_file(string name, string escaped) =>
        Assert.Equal(escaped, GrainFileNames.Escape(name));

    [Fact]
    public void A_name_too_long_for_a_file_name_becomes_the_hash_of_its_bytes()
    {
        var name = new string('x', GrainFileNames.MaxEscapedLength + 1);

        Assert.Equal("~" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name))), GrainFileNames.Escape(name));
        Assert.Equal(new string('x', GrainFileNames.MaxEscapedLength), GrainFileNames.Escape(new string('x', GrainFileNames.MaxEscapedLength)));
    }

    [Fact]
    public async Task A_file_of_the_old_grain_host_reads_unchanged_and_its_version_counts_on()
    {
        var grainId = Note("from-the-old-host");
        var path = _storage.PathOf(NoteGrain.StateName, grainId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "{\"version\":3,\"payload\":{\"text\":\"old\",\"revision\":2}}\n");

        var state = await ReadAsync(_storage, grainId);
        Assert.True(state.RecordExists);
        Assert.Equal("3", state.ETag);
        Assert.Equal("old", state.State!.Text);

        state.State.Text = "new";
        await _storage.WriteStateAsync(NoteGrain.StateName, grainId, state);
        Assert.Equal("4", state.ETag);
    }

    [Fact]
    public async Task A_file_reformatted_by_hand_still_reads_and_takes_the_next_write()
    {
        var grainId = Note("hand-edited");
        var path = _storage.PathOf(NoteGrain.StateName, grainId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "{\n  \"payload\": { \"revision\": 5, \"text\": \"edited\" },\n  \"version\": 9\n}\n");

        var state = await ReadAsync(_storage, grainId);
        Assert.Equal("9", state.ETag);
        Assert.Equal("edited", state.State!.Text);

        await _storage.WriteStateAsync(NoteGrain.StateName, grainId, state);
        Assert.Equal("10", state.ETag);
    }

    [Theory]
    [InlineData("{\"version\":1,\"payload\":{\"text\":\"x\",\"colour\":\"red\"}}", "colour")]
    [InlineData("{\"version\":1,\"payload\":{\"text\":\"x\"},\"extra\":1}", "unexpected member \"extra\"")]
    [InlineData("{\"payload\":{\"text\":\"x\"}}", "no \"version\"")]
    [InlineData("{\"version\":0,\"payload\":null}", "\"version\" is not a positive integer")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("{\"version\":1,\"payload\":", "not valid JSON")]
    [InlineData("", "not valid JSON")]
    public async Task A_state_file_that_does_not_read_fails_with_a_message_naming_grain_state_file_and_fault(string contents, string fault)
    {
        var grainId = Note("damaged");
        var path = _storage.PathOf(NoteGrain.StateName, grainId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, contents);

        var error = await Assert.ThrowsAsync<GrainStateFormatException>(() => ReadAsync(_storage, grainId));

        Assert.Contains(grainId.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("state \"note\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(fault, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_damaged_file_is_never_overwritten_by_a_write()
    {
        var grainId = Note("keep-the-evidence");
        var path = _storage.PathOf(NoteGrain.StateName, grainId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "not JSON");

        var state = new GrainState<NoteState> { State = new NoteState { Text = "over it" } };
        await Assert.ThrowsAsync<GrainStateFormatException>(() => _storage.WriteStateAsync(NoteGrain.StateName, grainId, state));
        await Assert.ThrowsAsync<GrainStateFormatException>(() => _storage.ClearStateAsync(NoteGrain.StateName, grainId, state));

        Assert.Equal("not JSON", File.ReadAllText(path));
    }

    [Fact]
    public async Task Concurrent_writers_in_two_instances_over_one_directory_never_both_win_from_one_version()
    {
        using var second = Create(_data.Path);
        var grainId = Note("contended");
        var storages = new[] { _storage, second };
        var wins = 0;

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            var storage = storages[i % 2];
            var state = await ReadAsync(storage, grainId);
            state.State!.Revision = i;
            try
            {
                await storage.WriteStateAsync(NoteGrain.StateName, grainId, state);
                Interlocked.Increment(ref wins);
            }
            catch (InconsistentStateException)
            {
                // another writer won from that version
            }
        })));

        var stored = await ReadAsync(_storage, grainId);
        Assert.True(wins >= 1);
        Assert.Equal(wins.ToString(System.Globalization.CultureInfo.InvariantCulture), stored.ETag);
    }

    [Fact]
    public async Task A_disposed_storage_refuses_work()
    {
        var storage = Create(_data.Path);
        storage.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.WriteStateAsync(NoteGrain.StateName, Note("late"), new GrainState<NoteState> { State = new() }));
    }

    [Fact]
    public void Options_without_a_data_directory_are_refused_with_a_message_naming_the_setting_and_storage()
    {
        var error = Assert.Throws<OrleansConfigurationException>(
            () => new FileGrainStorageOptionsValidator(new FileGrainStorageOptions(), "notes").ValidateConfiguration());

        Assert.Contains("DataDirectory is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"notes\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silo_configured_without_a_data_directory_does_not_start()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo => silo.UseLocalhostClustering().AddFileGrainStorage("notes", _ => { }));
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains("DataDirectory is required", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_serializer_is_the_protocol_json_one_not_orleans_newtonsoft_default() =>
        Assert.Same(ProtocolJsonGrainStorageSerializer.Instance, new FileGrainStorageOptions().GrainStorageSerializer);

    /// <summary>States made by their parameterless constructor, as Orleans' activator does for a plain class.</summary>
    private sealed class NewActivators : IActivatorProvider
    {
        public IActivator<T> GetActivator<T>() => new New<T>();

        private sealed class New<T> : IActivator<T>
        {
            public T Create() => Activator.CreateInstance<T>();
        }
    }
}
