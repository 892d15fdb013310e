using System.Text.Json.Nodes;
using Federation.Core.Hashing;

namespace Federation.Core.Scrolls;

/// <summary>
/// SPEC D's verification log: every refused signature, hash or standing check is a receipt of the federation's
/// verification scroll (docs/formats/receipt.md), naming the code, the message and the hash of what was refused.
/// </summary>
public static class VerificationReceipts
{
    public const string UpdateRefusedType = "update_refused";
    public const string HelloRefusedType = "hello_refused";
    public const string SessionRefusedType = "session_refused";
    public const string RefusedTag = "refused";

    /// <summary>A refusal of type <paramref name="type"/>.</summary>
    /// <param name="refused">The bytes refused (a whole message, or the signed bytes of an update), hashed into <c>message_hash</c>.</param>
    /// <param name="node">The node the refusal concerns, once something trustworthy names it (never for a message whose signature failed).</param>
    /// <param name="epoch">The update's epoch, when it was read.</param>
    public static ReceiptDraft Refused(string type, string code, string message, ReadOnlySpan<byte> refused, string? node = null, long? epoch = null)
    {
        var body = new JsonObject { ["code"] = code, ["message"] = message, ["message_hash"] = Sha256Digest.Of(refused).ToString() };
        if (epoch is not null)
        {
            body["federated_epoch"] = epoch;
        }

        return new ReceiptDraft(type, body, [RefusedTag, code], node);
    }
}
