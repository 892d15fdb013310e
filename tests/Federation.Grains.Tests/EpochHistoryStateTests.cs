using System.Text.Json;
using Federation.Core.Canonical;
using Federation.Grains.Epoch;

namespace Federation.Grains.Tests;

public sealed class EpochHistoryStateTests
{
    [Fact]
    public void An_epoch_history_with_null_reasons_and_digests_reads_back_after_a_restart()
    {
        // Found by the crash simulation: the state serializer omits nulls and requires every constructor parameter.
        var history = new EpochHistory
        {
            Reports =
            [
                new EpochReport(1, EpochState.Committed, null, Core.Hashing.Sha256Digest.Of([1]), "fed1.governance:3", 0, [], [], 4, 0),
                new EpochReport(2, EpochState.Failed, "halted", null, null, 2, [], [], 0, 0),
            ],
        };

        var json = JsonSerializer.Serialize(history, ProtocolJson.Options);
        var read = JsonSerializer.Deserialize<EpochHistory>(json, ProtocolJson.Options)!;

        Assert.Equal(history.Reports.Select(r => (r.Epoch, r.State, r.Reason, r.Digest, r.CommitReceipt)), read.Reports.Select(r => (r.Epoch, r.State, r.Reason, r.Digest, r.CommitReceipt)));
    }
}
