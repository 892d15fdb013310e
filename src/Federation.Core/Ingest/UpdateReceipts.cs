using System.Buffers;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Hashing;
using Federation.Core.Scrolls;

namespace Federation.Core.Ingest;

/// <summary>
/// The receipt that seals an admitted update in the federation's update scroll (docs/formats/receipt.md,
/// "update_accepted" and "update_late"): what was checked, the hashes, and the signed update itself, so the
/// scroll alone lets anyone re-verify it offline.
/// </summary>
public static class UpdateReceipts
{
    public const string AcceptedType = "update_accepted";
    public const string LateType = "update_late";

    /// <summary>The checks an admitted update passed, in the order they ran.</summary>
    public static readonly IReadOnlyList<string> Checks = ["signature", "standing", "session", "epoch", "update_hash", "payload", "capability", "base_state"];

    private static readonly byte[] ChecksJson = CanonicalJson.Write(new JsonArray([.. Checks.Select(c => (JsonNode?)c)]));

    /// <summary>The receipt as a draft: the general form, which <see cref="Prepare"/> writes without a tree.</summary>
    public static ReceiptDraft Draft(VerifiedUpdate update, Sha256Digest signedHash, bool late) => new(
        late ? LateType : AcceptedType,
        new JsonObject
        {
            ["federated_epoch"] = update.Update.FederatedEpoch,
            ["update_hash"] = update.Update.UpdateHash.ToString(),
            ["base_state_hash"] = update.Update.BaseStateHash.ToString(),
            ["ledger_block_id"] = update.Update.LedgerBlockId,
            ["signed_hash"] = signedHash.ToString(),
            ["checks"] = new JsonArray([.. Checks.Select(c => (JsonNode?)c)]),
        },
        Tags(update, late),
        update.Update.NodeFingerprint.ToString(),
        new Dictionary<string, byte[]> { ["update"] = update.Envelope.ToCanonicalJson() });

    /// <summary>The same receipt's bytes, for the ingest hot path: byte for byte what <see cref="Draft"/> prepares.</summary>
    /// <param name="expectedSeq">The seq it will likely get (the scroll's size): see <see cref="Receipt.Prepare(ReceiptDraft, string, long)"/>.</param>
    /// <param name="node">The node's fingerprint as text, when the caller keeps it (else it is formatted here).</param>
    public static PreparedReceipt Prepare(VerifiedUpdate update, bool late, string scroll, long expectedSeq = 0, string? node = null) =>
        Receipt.Prepare(late ? LateType : AcceptedType, scroll, Tags(update, late), node ?? update.Update.NodeFingerprint.ToString(), expectedSeq, update, static (line, update) => WriteBody(line, update, update.SignedHash));

    // Every update of an epoch has the same tags: made once per epoch (read-only, shared).
    private static IReadOnlyList<string> Tags(VerifiedUpdate update, bool late) => (late ? s_lateTags : s_onTimeTags).For(update.Update.FederatedEpoch);

    private static readonly LatestEpoch<IReadOnlyList<string>> s_onTimeTags = new(epoch => Array.AsReadOnly(["on-time", $"epoch-{epoch}"]));
    private static readonly LatestEpoch<IReadOnlyList<string>> s_lateTags = new(epoch => Array.AsReadOnly(["late", $"epoch-{epoch}"]));

    // Members in RFC 8785 order: base_state_hash, checks, federated_epoch, ledger_block_id, signed_hash, update, update_hash.
    private static void WriteBody(ArrayBufferWriter<byte> line, VerifiedUpdate update, Sha256Digest signedHash)
    {
        line.Write("{\"base_state_hash\":"u8);
        WriteDigest(line, update.Update.BaseStateHash);
        line.Write(",\"checks\":"u8);
        line.Write(ChecksJson);
        line.Write(",\"federated_epoch\":"u8);
        CanonicalJson.Write(line, update.Update.FederatedEpoch);
        line.Write(",\"ledger_block_id\":"u8);
        CanonicalJson.Write(line, update.Update.LedgerBlockId);
        line.Write(",\"signed_hash\":"u8);
        WriteDigest(line, signedHash);
        line.Write(",\"update\":"u8);
        line.Write(update.Envelope.CanonicalJsonSpan);
        line.Write(",\"update_hash\":"u8);
        WriteDigest(line, update.Update.UpdateHash);
        line.Write("}"u8);
    }

    private static void WriteDigest(ArrayBufferWriter<byte> line, Sha256Digest digest)
    {
        var span = line.GetSpan(Sha256Digest.Utf8Length + 2);
        span[0] = (byte)'"';
        digest.WriteUtf8(span[1..]);
        span[Sha256Digest.Utf8Length + 1] = (byte)'"';
        line.Advance(Sha256Digest.Utf8Length + 2);
    }
}
