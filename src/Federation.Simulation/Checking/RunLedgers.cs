using System.Globalization;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Merkle;
using Federation.Core.Consensus;
using Federation.Core.Scrolls;
using Federation.Storage.Ledger;

namespace Federation.Simulation.Checking;

/// <summary>One aligned update of a committed epoch as its sealed <c>epoch_alignment</c> receipts list it.</summary>
public sealed record SealedLeaf(int Index, long Seq, KeyFingerprint Node, Sha256Digest UpdateHash);

/// <summary>The scrolls of a finished run (every one sealed), with the governance and update receipts read once.</summary>
public sealed class RunLedgers
{
    private RunLedgers(LedgerDirectory directory, IReadOnlyList<Receipt> governance, IReadOnlyList<Receipt> updates, ScrollLedger updateScroll)
    {
        Directory = directory;
        Governance = governance;
        Updates = updates;
        UpdateScroll = updateScroll;
    }

    public LedgerDirectory Directory { get; }

    public IReadOnlyList<Receipt> Governance { get; }

    public IReadOnlyList<Receipt> Updates { get; }

    public ScrollLedger UpdateScroll { get; }

    /// <summary>A federation's scrolls and the anchoring scroll, in the order the plan lists their checkpoints.</summary>
    public static IReadOnlyList<string> ScrollsOf(string federation) => [.. FederationScrolls.All(federation), AnchorCycle.AnchorScroll];

    public static async Task<RunLedgers> ReadAsync(LedgerDirectory directory, string federation)
    {
        var updateScroll = await directory.GetAsync(FederationScrolls.Updates(federation));
        return new RunLedgers(directory, await ReadAllAsync(await directory.GetAsync(FederationScrolls.Governance(federation))), await ReadAllAsync(updateScroll), updateScroll);
    }

    /// <summary>The receipt a governance receipt id names.</summary>
    public Receipt GovernanceReceipt(string receiptId) => Governance[(int)ParseSeq(receiptId)];

    /// <summary>A committed epoch's aligned updates, rebuilt from the receipts its decision cites.</summary>
    public IReadOnlyList<SealedLeaf> Leaves(Receipt decision)
    {
        var leaves = new List<SealedLeaf>();
        foreach (var chunk in decision.Body["alignment_receipts"]!.AsArray())
        {
            foreach (var u in GovernanceReceipt(chunk!.GetValue<string>()).Body["updates"]!.AsArray())
            {
                leaves.Add(new SealedLeaf((int)u!["index"]!.GetValue<double>(), (long)u["seq"]!.GetValue<double>(), KeyFingerprint.Parse(u["node"]!.GetValue<string>()), Sha256Digest.Parse(u["update_hash"]!.GetValue<string>())));
            }
        }

        return leaves;
    }

    /// <summary>The alignment tree of sealed leaves (RFC 9162 over <see cref="AlignmentResult.LeafData"/>).</summary>
    public static MerkleTree AlignmentTree(IReadOnlyList<SealedLeaf> leaves)
    {
        var tree = new MerkleTree();
        foreach (var leaf in leaves)
        {
            tree.AppendData(AlignmentResult.LeafData(leaf.Seq, leaf.Node, leaf.UpdateHash));
        }

        return tree;
    }

    /// <summary>The validators the run's epochs flagged, with the evidence receipt of each flag, in epoch order.</summary>
    public IReadOnlyList<(string Validator, string Receipt)> ValidatorFlags(RunRecord record) =>
        record.Epochs.SelectMany(e => e.ValidatorEvidence).Select(id => (GovernanceReceipt(id).Body["validator"]!.GetValue<string>(), id)).ToList();

    public static long ParseSeq(string receiptId) => long.Parse(receiptId[(receiptId.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);

    private static async Task<IReadOnlyList<Receipt>> ReadAllAsync(ScrollLedger ledger)
    {
        var receipts = new List<Receipt>();
        await foreach (var (_, line) in ledger.ReadAsync(0, ledger.Size))
        {
            receipts.Add(Receipt.Parse(line));
        }

        return receipts;
    }
}
