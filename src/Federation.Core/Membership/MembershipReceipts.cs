using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;

namespace Federation.Core.Membership;

/// <summary>The receipts of a federation's membership scroll (docs/formats/receipt.md).</summary>
public static class MembershipReceipts
{
    public const string SessionRecordedType = "session_recorded";

    /// <summary>
    /// SPEC A: the node's signature of its session is recorded in the ledger (the signed accept and the node's signed
    /// acknowledgement of it); the receipt's id becomes the node's <c>ledger_block_id</c>.
    /// </summary>
    public static ReceiptDraft SessionRecorded(SessionAck ack, ReadOnlySpan<byte> signedAccept, ReadOnlySpan<byte> signedSessionAck) => new(
        SessionRecordedType,
        new JsonObject
        {
            ["session_id"] = ack.SessionId,
            ["accept"] = CanonicalJson.Parse(signedAccept),
            ["session_ack"] = CanonicalJson.Parse(signedSessionAck),
        },
        ["membership"],
        ack.NodeFingerprint.ToString());
}
