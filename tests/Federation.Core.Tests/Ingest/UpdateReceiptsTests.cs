using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;

namespace Federation.Core.Tests.Ingest;

public sealed class UpdateReceiptsTests : IDisposable
{
    private static readonly DateTimeOffset Time = new(2026, 11, 22, 3, 4, 5, 678, TimeSpan.Zero);
    private readonly Ed25519PrivateKey _node = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)9, 32).ToArray());
    private readonly FederationPolicy _policy = new("fed1", AggregationKind.Vector, ["ingest.v1"], VectorDimension: 3);

    public void Dispose() => _node.Dispose();

    private VerifiedUpdate Verified(long epoch, string ledgerBlockId, bool canonicalInput = true)
    {
        var (payload, hash) = UpdateDelta.Vector([0.5, -1.25, 3e-7]).Encode();
        var update = MetaUpdate.Create("fed1", epoch, _node.Fingerprint, hash, ledgerBlockId, Sha256Digest.Of("base"u8), payload);
        var message = SignedEnvelope.Sign(update, new Ed25519Signer(_node)).ToCanonicalJson();
        if (!canonicalInput)
        {
            // The same message with whitespace: parsed through the tree, re-canonicalised.
            message = Encoding.UTF8.GetBytes(JsonNode.Parse(message)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        }

        var (verified, refusal) = UpdateValidator.Verify(message, _policy);
        Assert.Null(refusal);
        return verified!;
    }

    [Theory]
    [InlineData(1, "fed1.membership:7", false, true)]
    [InlineData(42, "fed1.membership:7", true, true)]
    [InlineData(0, "fed1.membership:7", false, false)]
    [InlineData(9007199254740991, "odd \"id\" \\ with\ttab and é ✓ 𝄞", true, true)]
    public void The_hot_path_receipt_is_byte_for_byte_the_draft_receipt(long epoch, string ledgerBlockId, bool late, bool canonicalInput)
    {
        var update = Verified(epoch, ledgerBlockId, canonicalInput);
        var signedHash = Sha256Digest.Of(update.Envelope.SignedBytes);

        var fast = UpdateReceipts.Prepare(update, late, "fed1.updates").Build(123, Time);
        var general = Receipt.BuildLine(UpdateReceipts.Draft(update, signedHash, late), "fed1.updates", 123, Time);

        Assert.Equal(Encoding.UTF8.GetString(general), Encoding.UTF8.GetString(fast));
        var receipt = Receipt.Parse(fast); // canonical, and a valid receipt
        Assert.Equal(late ? UpdateReceipts.LateType : UpdateReceipts.AcceptedType, receipt.Type);
        Assert.Equal(epoch, (long)receipt.Body["federated_epoch"]!.GetValue<double>());
        Assert.Equal(ledgerBlockId, receipt.Body["ledger_block_id"]!.GetValue<string>());
        Assert.Equal(signedHash.ToString(), receipt.Body["signed_hash"]!.GetValue<string>());
        Assert.Equal(update.Envelope.ToCanonicalJson(), Federation.Core.Canonical.CanonicalJson.Write(receipt.Body["update"]));
        Assert.Equal(["signature", "standing", "session", "epoch", "update_hash", "payload", "capability", "base_state"], receipt.Body["checks"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal([late ? "late" : "on-time", $"epoch-{epoch}"], receipt.Tags);
        Assert.Equal(_node.Fingerprint.ToString(), receipt.Node);
    }

    [Fact]
    public void A_receipt_prepared_for_one_scroll_names_it()
    {
        var update = Verified(3, "fed1.membership:7");
        var prepared = UpdateReceipts.Prepare(update, late: false, "fed1.updates");
        Assert.Equal("fed1.updates", prepared.Scroll);
        Assert.Equal("fed1.updates", Receipt.Parse(prepared.Build(0, Time)).Scroll);
    }

    [Fact]
    public void Preparing_receipts_on_many_threads_never_mixes_their_bytes()
    {
        // Receipt.Prepare reuses one buffer per thread: concurrent preparations must stay separate.
        var updates = Enumerable.Range(1, 64).Select(e => Verified(e, $"fed1.membership:{e}")).ToArray();
        var expected = updates.Select(u => Receipt.BuildLine(UpdateReceipts.Draft(u, Sha256Digest.Of(u.Envelope.SignedBytes), false), "fed1.updates", 5, Time)).ToArray();
        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var u = updates[i % updates.Length];
            var line = UpdateReceipts.Prepare(u, false, "fed1.updates").Build(5, Time);
            Assert.Equal(expected[i % updates.Length], line);
        });
    }

    [Fact]
    public void Each_receipt_is_tagged_with_its_own_epoch_and_timeliness_as_they_alternate()
    {
        // Tags are shared per epoch once made: a change of epoch or of timeliness must never reuse another's.
        foreach (var (epoch, late) in new[] { (5L, false), (4L, true), (5L, false), (6L, false), (4L, true), (5L, true), (6L, false) })
        {
            var update = Verified(epoch, "fed1.membership:7");
            var receipt = Receipt.Parse(UpdateReceipts.Prepare(update, late, "fed1.updates").Build(1, Time));
            Assert.Equal([late ? "late" : "on-time", $"epoch-{epoch}"], receipt.Tags);
        }
    }
}
