using Federation.Storage.Orleans.Tests.GrainStorage;
using Orleans.Runtime;

namespace Federation.Storage.Orleans.Tests.Grains;

/// <summary>A test grain with one persistent state, "note", in the contract's storage.</summary>
[Alias("fed.test.note")]
public interface INoteGrain : IGrainWithStringKey
{
    [Alias("read")]
    Task<NoteView> Read();

    [Alias("write")]
    Task<NoteView> Write(string text);

    [Alias("clear")]
    Task<NoteView> Clear();

    /// <summary>The silo hosting the activation.</summary>
    [Alias("host")]
    Task<string> Host();
}

[GenerateSerializer]
[Alias("fed.test.note-view.v1")]
public sealed class NoteView
{
    [Id(0)]
    public string Text { get; init; } = "";

    [Id(1)]
    public int Revision { get; init; }

    [Id(2)]
    public string? Etag { get; init; }

    [Id(3)]
    public bool RecordExists { get; init; }
}

/// <summary>The stored JSON: <c>{"text":…,"revision":n}</c> (protocol settings: snake_case, unknown members refused).</summary>
public sealed class NoteState
{
    public string Text { get; set; } = "";

    public int Revision { get; set; }
}

[GrainType(NoteGrain.GrainTypeName)]
public sealed class NoteGrain([PersistentState(NoteGrain.StateName, GrainStorageContract.StorageName)] IPersistentState<NoteState> note) : Grain, INoteGrain
{
    public const string GrainTypeName = "note";
    public const string StateName = "note";

    public Task<NoteView> Read() => Task.FromResult(View());

    public async Task<NoteView> Write(string text)
    {
        note.State.Text = text;
        note.State.Revision++;
        await note.WriteStateAsync();
        return View();
    }

    public async Task<NoteView> Clear()
    {
        await note.ClearStateAsync();
        return View();
    }

    public Task<string> Host() => Task.FromResult(RuntimeIdentity);

    private NoteView View() => new() { Text = note.State.Text, Revision = note.State.Revision, Etag = note.Etag, RecordExists = note.RecordExists };
}
