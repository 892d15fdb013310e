using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Scrolls;

namespace Federation.Storage.Ledger;

/// <summary>The index of recorded updates (<see cref="FederationUpdates"/>) rebuilt from a federation's update scroll, and the signed updates it points at.</summary>
public static class RecordedUpdatesReader
{
    /// <summary>Every admitted update (on time or late) the scroll holds, per node.</summary>
    public static async Task<FederationUpdates> ReadAsync(ScrollLedger updateScroll)
    {
        var index = new FederationUpdates();
        await foreach (var (seq, line) in updateScroll.ReadAsync(0, updateScroll.Size))
        {
            var receipt = Receipt.Parse(line);
            if (receipt.Type is not (UpdateReceipts.AcceptedType or UpdateReceipts.LateType) || receipt.Node is null)
            {
                continue;
            }

            index.Record(KeyFingerprint.Parse(receipt.Node), new RecordedUpdate(
                (long)receipt.Body["federated_epoch"]!.GetValue<double>(),
                Sha256Digest.Parse(receipt.Body["signed_hash"]!.GetValue<string>()),
                receipt.Id,
                seq,
                updateScroll.LeafHash(seq),
                receipt.Type == UpdateReceipts.LateType));
        }

        return index;
    }

    /// <summary>The signed update a recorded receipt sealed (canonical JSON), read back from the update scroll.</summary>
    public static async Task<byte[]> ReadSignedUpdateAsync(ScrollLedger updateScroll, RecordedUpdate recorded)
    {
        await foreach (var (_, line) in updateScroll.ReadAsync(recorded.Seq, recorded.Seq + 1))
        {
            return CanonicalJson.Write(Receipt.Parse(line).Body["update"]);
        }

        throw new InvalidOperationException($"receipt {recorded.ReceiptId} is not in the update scroll");
    }
}
