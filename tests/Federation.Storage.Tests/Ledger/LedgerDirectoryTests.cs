using Federation.Core.Crypto;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Storage.Tests.Ledger;

/// <summary>
/// <see cref="LedgerDirectory.OpenAsync"/> as a scroll grain's activation uses it: a writer still open in this process
/// (the previous activation deactivating) is waited for, and the new writer gets what the old one wrote.
/// </summary>
public sealed class LedgerDirectoryTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private LedgerDirectory _ledgers = null!;

    public Task InitializeAsync()
    {
        _ledgers = new LedgerDirectory(new FileScrollStore(new ScrollStoreOptions { DataDirectory = _dir.Path }), Ed25519PrivateKey.Generate(), new ScrollLedgerOptions(), TimeProvider.System);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _ledgers.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_second_writer_waits_for_the_first_to_close_and_then_reads_what_it_sealed()
    {
        var first = await _ledgers.OpenAsync("fed1.updates");
        await first.AppendAsync(new Core.Scrolls.ReceiptDraft("test.v1", System.Text.Json.Nodes.JsonNode.Parse("""{"n":1}""")!.AsObject()));
        var second = _ledgers.OpenAsync("fed1.updates");
        await Task.Delay(200);
        Assert.False(second.IsCompleted);

        await first.SealAsync();
        await first.DisposeAsync();
        await using var reopened = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, reopened.SizeHint);
    }
}
