using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Protocol;
using Federation.Core.Signing;

namespace Federation.Core.Tests.Ingest;

public sealed class MetaUpdateReaderTests
{
    private static readonly string Fingerprint = "ed25519:" + new string('a', 32) + new string('0', 32);
    private static readonly string Hash = Sha256Digest.Of("x"u8).ToString();

    private static JsonObject Typical() => new()
    {
        ["type"] = "meta_update",
        ["federation_id"] = "fed1",
        ["federated_epoch"] = 12,
        ["node_fingerprint"] = Fingerprint,
        ["update_hash"] = Hash,
        ["ledger_block_id"] = "fed1.membership:3",
        ["base_state_hash"] = Sha256Digest.Of("y"u8).ToString(),
        ["payload"] = "q1YqSc/Pz1bSUUpNSc3NL0pVsqoGAA==",
    };

    private static MetaUpdate? Serializer(byte[] canonical)
    {
        try
        {
            return JsonSerializer.Deserialize<MetaUpdate>(canonical, ProtocolJson.Options);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    public static IEnumerable<object[]> Variants()
    {
        yield return ["typical", (Action<JsonObject>)(_ => { })];
        yield return ["epoch 0", (Action<JsonObject>)(o => o["federated_epoch"] = 0)];
        yield return ["negative epoch", (Action<JsonObject>)(o => o["federated_epoch"] = -4)];
        yield return ["fractional epoch", (Action<JsonObject>)(o => o["federated_epoch"] = 1.5)];
        yield return ["huge epoch", (Action<JsonObject>)(o => o["federated_epoch"] = 1e300)];
        yield return ["largest exact epoch", (Action<JsonObject>)(o => o["federated_epoch"] = 9007199254740991L)];
        yield return ["epoch as string", (Action<JsonObject>)(o => o["federated_epoch"] = "12")];
        yield return ["escaped id", (Action<JsonObject>)(o => o["federation_id"] = "fed\"1\\")];
        yield return ["unicode block id", (Action<JsonObject>)(o => o["ledger_block_id"] = "é✓𝄞")];
        yield return ["control character", (Action<JsonObject>)(o => o["ledger_block_id"] = "a\u0001b")];
        yield return ["other type", (Action<JsonObject>)(o => o["type"] = "heartbeat")];
        yield return ["uppercase hash", (Action<JsonObject>)(o => o["update_hash"] = Hash.ToUpperInvariant().Replace("SHA256", "sha256"))];
        yield return ["short hash", (Action<JsonObject>)(o => o["update_hash"] = Hash[..^1])];
        yield return ["wrong prefix", (Action<JsonObject>)(o => o["base_state_hash"] = "sha512:" + Hash[7..])];
        yield return ["bad fingerprint", (Action<JsonObject>)(o => o["node_fingerprint"] = Fingerprint.Replace('a', 'g'))];
        yield return ["null payload", (Action<JsonObject>)(o => o["payload"] = null)];
        yield return ["numeric payload", (Action<JsonObject>)(o => o["payload"] = 5)];
        yield return ["extra member", (Action<JsonObject>)(o => o["zzz"] = 1)];
        yield return ["extra first member", (Action<JsonObject>)(o => o["aaa"] = 1)];
        yield return ["missing payload", (Action<JsonObject>)(o => o.Remove("payload"))];
        yield return ["missing hash", (Action<JsonObject>)(o => o.Remove("update_hash"))];
        yield return ["object id", (Action<JsonObject>)(o => o["federation_id"] = new JsonObject())];
        yield return ["empty strings", (Action<JsonObject>)(o => { o["federation_id"] = ""; o["payload"] = ""; })];
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void The_fast_reader_agrees_with_the_serializer(string name, Action<JsonObject> change)
    {
        var payload = Typical();
        change(payload);
        var canonical = CanonicalJson.Write(payload);

        var fast = MetaUpdateReader.TryRead(canonical);
        var slow = Serializer(canonical);

        if (fast is not null)
        {
            Assert.Equal(slow, fast); // never accepts what the serializer refuses, never reads it differently
        }

        if (name is "typical" or "epoch 0" or "negative epoch" or "largest exact epoch" or "other type" or "empty strings")
        {
            Assert.NotNull(fast); // the plain shape takes the fast path
        }
    }

    [Fact]
    public void Random_mutations_never_make_the_paths_disagree()
    {
        var random = new Random(7);
        var baseline = CanonicalJson.Write(Typical());
        var fastAccepted = 0;
        for (var i = 0; i < 5000; i++)
        {
            var bytes = (byte[])baseline.Clone();
            for (var k = random.Next(1, 3); k > 0; k--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(32, 127);
            }

            byte[] canonical;
            try
            {
                canonical = CanonicalJson.Canonicalize(bytes);
            }
            catch (FormatException)
            {
                continue;
            }

            var fast = MetaUpdateReader.TryRead(canonical);
            if (fast is not null)
            {
                fastAccepted++;
                Assert.Equal(Serializer(canonical), fast);
            }
        }

        Assert.True(fastAccepted > 100, $"only {fastAccepted} mutations took the fast path");
    }

    [Fact]
    public void Reads_what_the_serializer_writes()
    {
        var update = MetaUpdate.Create("fed1", 7, KeyFingerprint.Parse(Fingerprint), Sha256Digest.Parse(Hash), "fed1.membership:9", Sha256Digest.Of("z"u8), "AAAA");
        var canonical = CanonicalJson.Write(JsonSerializer.SerializeToNode(update, ProtocolJson.Options));
        Assert.Equal(update, MetaUpdateReader.TryRead(canonical));
        Assert.Equal(Encoding.UTF8.GetString(canonical), Encoding.UTF8.GetString(CanonicalJson.Write(JsonSerializer.SerializeToNode(MetaUpdateReader.TryRead(canonical), ProtocolJson.Options))));
    }

    // ---- the whole signed message in one pass (TryReadSigned) against the general path ----

    private static readonly Ed25519PrivateKey Signer = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)21, 32).ToArray());

    private static byte[] SignedMessage(JsonObject payload) => SignedEnvelope.Sign(payload, new Ed25519Signer(Signer)).ToCanonicalJson();

    /// <summary>What UpdateValidator does without the one-pass reader: the canonical parse, then the payload reader or the serializer.</summary>
    private static (SignedEnvelope Envelope, MetaUpdate Update)? GeneralPath(byte[] message)
    {
        try
        {
            var envelope = SignedEnvelope.Parse(message);
            var update = MetaUpdateReader.TryRead(envelope.SignedBytes) ?? Serializer(envelope.SignedBytes);
            return update is null ? null : (envelope, update);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static void AssertSame((SignedEnvelope Envelope, MetaUpdate Update) fast, byte[] message)
    {
        Assert.True(CanonicalJson.IsCanonical(message), "the one-pass reader accepted a message that is not canonical");
        var general = GeneralPath(message);
        Assert.NotNull(general);
        Assert.Equal(general.Value.Update, fast.Update);
        Assert.Equal(general.Value.Envelope.SignedBytes, fast.Envelope.SignedBytes);
        Assert.Equal(general.Value.Envelope.Signature.Algorithm, fast.Envelope.Signature.Algorithm);
        Assert.Equal(general.Value.Envelope.Signature.KeyId, fast.Envelope.Signature.KeyId);
        Assert.Equal(general.Value.Envelope.Signature.Value, fast.Envelope.Signature.Value);
        Assert.Equal(general.Value.Envelope.ToCanonicalJson(), fast.Envelope.ToCanonicalJson());
        Assert.Equal(message, fast.Envelope.ToCanonicalJson());
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void The_one_pass_reader_of_signed_updates_agrees_with_the_general_path(string name, Action<JsonObject> change)
    {
        var payload = Typical();
        change(payload);
        var message = SignedMessage(payload);

        var fast = MetaUpdateReader.TryReadSigned((byte[])message.Clone());
        if (fast is not null)
        {
            AssertSame(fast.Value, message);
        }

        if (name is "typical" or "epoch 0" or "unicode block id" or "empty strings")
        {
            Assert.NotNull(fast); // the plain shape takes the one pass
        }

        if (name is "negative epoch" or "largest exact epoch" or "escaped id" or "control character" or "other type" or "extra member" or "extra first member" or "missing payload")
        {
            Assert.Null(fast); // outside its shape: the general path decides
        }
    }

    [Fact]
    public void Random_byte_changes_and_cuts_never_make_the_one_pass_reader_disagree()
    {
        var random = new Random(11);
        var baseline = SignedMessage(Typical());
        var accepted = 0;
        for (var i = 0; i < 20000; i++)
        {
            var bytes = (byte[])baseline.Clone();
            if (i % 10 == 0)
            {
                bytes = bytes[..random.Next(bytes.Length)]; // a cut message
            }

            for (var k = random.Next(1, 3); k > 0 && bytes.Length > 0; k--)
            {
                bytes[random.Next(bytes.Length)] = i % 3 == 0 ? (byte)random.Next(256) : (byte)random.Next(32, 127);
            }

            var fast = MetaUpdateReader.TryReadSigned((byte[])bytes.Clone());
            if (fast is not null)
            {
                accepted++;
                AssertSame(fast.Value, bytes);
            }
        }

        Assert.True(accepted > 1000, $"only {accepted} changed messages took the one pass");
    }
}
