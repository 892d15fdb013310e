using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;

namespace Federation.Grains.Tests;

/// <summary>The in-memory index of recorded updates: per node in epoch order, per epoch in ledger order.</summary>
public sealed class UpdateIndexTests
{
    private static RecordedUpdate At(long epoch, long seq, string tag = "") =>
        new(epoch, Sha256Digest.Of(System.Text.Encoding.UTF8.GetBytes($"{epoch}{tag}")), $"fed.updates:{seq}", seq, Sha256Digest.Of(BitConverter.GetBytes(seq)), Late: false);

    [Fact]
    public void A_node_finds_each_recorded_epoch_and_nothing_for_the_gaps_or_beyond()
    {
        var node = new NodeUpdates();
        Assert.Null(node.ForEpoch(1));
        Assert.Equal(-1, node.LastEpoch);

        foreach (var epoch in new long[] { 1, 2, 5, 9, 10 })
        {
            node.Record(At(epoch, epoch * 10));
        }

        Assert.Equal(10, node.LastEpoch);
        Assert.Equal(5, node.Count);
        foreach (var epoch in new long[] { 1, 2, 5, 9, 10 })
        {
            Assert.Equal(epoch * 10, node.ForEpoch(epoch)!.Seq);
        }

        foreach (var epoch in new long[] { 0, 3, 4, 6, 8, 11, 100 })
        {
            Assert.Null(node.ForEpoch(epoch));
        }
    }

    [Fact]
    public void The_first_update_recorded_for_an_epoch_stands_and_out_of_order_records_stay_sorted()
    {
        var node = new NodeUpdates();
        node.Record(At(4, 40));
        node.Record(At(4, 41, "other")); // never from ingest (a second one is a duplicate or equivocation): ignored
        node.Record(At(2, 20)); // never from ingest either: kept, in order
        node.Record(At(7, 70));
        node.Record(At(3, 30));

        Assert.Equal(40, node.ForEpoch(4)!.Seq);
        Assert.Equal(new long[] { 2, 3, 4, 7 }, node.All.Select(u => u.Epoch));
        Assert.Equal(7, node.LastEpoch);
        Assert.Equal(30, node.ForEpoch(3)!.Seq);
    }

    [Fact]
    public void An_epochs_updates_come_in_ledger_order_across_nodes()
    {
        var index = new FederationUpdates();
        var nodes = Enumerable.Range(0, 3).Select(i => Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)(i + 1), 32).ToArray()).Fingerprint).ToArray();
        index.Record(nodes[0], At(1, 5));
        index.Record(nodes[1], At(1, 2));
        index.Record(nodes[2], At(2, 7));
        index.Record(nodes[0], At(2, 9));
        index.Record(nodes[1], At(3, 11));

        Assert.Equal(new[] { (nodes[1], 2L), (nodes[0], 5L) }, index.ForEpoch(1).Select(x => (x.Node, x.Update.Seq)));
        Assert.Equal(new[] { (nodes[2], 7L), (nodes[0], 9L) }, index.ForEpoch(2).Select(x => (x.Node, x.Update.Seq)));
        Assert.Empty(index.ForEpoch(4));
    }
}
