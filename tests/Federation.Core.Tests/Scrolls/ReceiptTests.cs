using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Core.Merkle;
using Federation.Core.Scrolls;

namespace Federation.Core.Tests.Scrolls;

public class ReceiptTests
{
    private static readonly DateTimeOffset Time = new(2026, 11, 21, 23, 42, 31, 123, TimeSpan.Zero);

    [Fact]
    public void A_receipt_line_is_the_canonical_form_with_scroll_seq_and_time_filled_in()
    {
        var line = Receipt.BuildLine(new ReceiptDraft("update_accepted", new JsonObject { ["epoch"] = 3, ["b"] = "x" }, ["late"], "ed25519:ab"), "fed1.updates", 7, Time);
        Assert.Equal("""{"body":{"b":"x","epoch":3},"node":"ed25519:ab","scroll":"fed1.updates","seq":7,"tags":["late"],"time":"2026-11-21T23:42:31.123Z","type":"update_accepted"}""", Encoding.UTF8.GetString(line));

        var receipt = Receipt.Parse(line);
        Assert.Equal(("update_accepted", "fed1.updates", 7L, Time), (receipt.Type, receipt.Scroll, receipt.Seq, receipt.Time));
        Assert.Equal(["late"], receipt.Tags);
        Assert.Equal("ed25519:ab", receipt.Node);
        Assert.Equal("fed1.updates:7", receipt.Id);
    }

    [Fact]
    public void Times_are_written_in_utc_whatever_the_offset()
    {
        var line = Receipt.BuildLine(new ReceiptDraft("t", []), "s", 0, new DateTimeOffset(2026, 1, 1, 2, 0, 0, TimeSpan.FromHours(2)));
        Assert.Contains("\"time\":\"2026-01-01T00:00:00.000Z\"", Encoding.UTF8.GetString(line));
    }

    [Theory]
    [InlineData("""{"body":{},"scroll":"s","seq":0,"time":"2026-01-01T00:00:00.000Z","type":"t"} """, "canonical form")]
    [InlineData("""{"scroll":"s","seq":0,"body":{},"time":"2026-01-01T00:00:00.000Z","type":"t"}""", "canonical form")]
    [InlineData("""{"body":{},"extra":1,"scroll":"s","seq":0,"time":"2026-01-01T00:00:00.000Z","type":"t"}""", "unexpected receipt member \"extra\"")]
    [InlineData("""{"body":{},"scroll":"s","seq":-1,"time":"2026-01-01T00:00:00.000Z","type":"t"}""", "non-negative integer")]
    [InlineData("""{"body":{},"scroll":"s","seq":1.5,"time":"2026-01-01T00:00:00.000Z","type":"t"}""", "non-negative integer")]
    [InlineData("""{"body":{},"scroll":"s","seq":0,"time":"yesterday","type":"t"}""", "RFC 3339")]
    [InlineData("""{"body":[],"scroll":"s","seq":0,"time":"2026-01-01T00:00:00.000Z","type":"t"}""", "\"body\" must be an object")]
    [InlineData("""{"body":{},"scroll":"s","seq":0,"time":"2026-01-01T00:00:00.000Z","type":"Bad Type"}""", "receipt type")]
    [InlineData("""{"body":{},"seq":0,"time":"2026-01-01T00:00:00.000Z","type":"t"}""", "\"scroll\" must be a string")]
    public void Stored_lines_that_are_not_valid_receipts_are_refused(string line, string expected)
    {
        Assert.Contains(expected, Assert.ThrowsAny<FormatException>(() => Receipt.Parse(Encoding.UTF8.GetBytes(line))).Message);
    }

    [Fact]
    public void Drafts_with_bad_types_or_too_many_tags_are_refused()
    {
        Assert.Throws<FormatException>(() => Receipt.BuildLine(new ReceiptDraft("UPPER", []), "s", 0, Time));
        Assert.Throws<FormatException>(() => Receipt.BuildLine(new ReceiptDraft("t", [], Enumerable.Range(0, 40).Select(i => $"t{i}").ToList()), "s", 0, Time));
    }

    [Fact]
    public void An_inclusion_bundle_verifies_offline_and_every_tampering_is_caught()
    {
        using var key = Ed25519PrivateKey.FromSeed(new byte[32]);
        var signer = new NoteSigner("federation-orleans/s", key);
        var tree = new MerkleTree();
        var lines = Enumerable.Range(0, 11).Select(i => Receipt.BuildLine(new ReceiptDraft("t", new JsonObject { ["i"] = i }), "s", i, Time)).ToList();
        lines.ForEach(l => tree.AppendData(l));
        var note = new Checkpoint("federation-orleans/s", tree.Size, tree.Root()).Sign(signer);
        var bundle = new InclusionBundle("s", 4, Encoding.UTF8.GetString(lines[4]), tree.LeafHash(4), tree.InclusionProof(4, 11), note);

        var roundTripped = InclusionBundle.FromJson(Encoding.UTF8.GetBytes(bundle.ToJson().ToJsonString()));
        Assert.True(roundTripped.Verify([signer.VerifierKey]).IsValid);

        var otherLine = Encoding.UTF8.GetString(lines[5]);
        Assert.False((bundle with { Line = otherLine }).Verify([signer.VerifierKey]).IsValid);
        Assert.False((bundle with { Line = otherLine, LeafHash = tree.LeafHash(5) }).Verify([signer.VerifierKey]).IsValid);
        Assert.False((bundle with { Index = 5 }).Verify([signer.VerifierKey]).IsValid);
        Assert.False((bundle with { Proof = bundle.Proof.Skip(1).ToList() }).Verify([signer.VerifierKey]).IsValid);
        Assert.False((bundle with { Checkpoint = note.Replace("\n11\n", "\n12\n") }).Verify([signer.VerifierKey]).IsValid);

        using var stranger = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)1, 32).ToArray());
        var verdict = bundle.Verify([NoteVerifierKey.For("federation-orleans/s", stranger.PublicKey)]);
        Assert.Contains(verdict.Failures, f => f.StartsWith("checkpoint:"));
    }
}

public class PreparedReceiptTests
{
    [Fact]
    public void Prepared_lines_are_byte_identical_to_canonicalising_the_whole_receipt()
    {
        var random = new Random(42);
        for (var i = 0; i < 500; i++)
        {
            var body = new JsonObject { ["z"] = random.Next(), ["a"] = "x\u00e9\"\n" + i, ["m"] = new JsonArray(1.5, i, "é") };
            var tags = random.Next(3) == 0 ? null : Enumerable.Range(0, random.Next(1, 4)).Select(t => $"tag\"{t}").ToList();
            var node = random.Next(2) == 0 ? null : "ed25519:" + i;
            var draft = new ReceiptDraft("t" + i % 7, body, tags, node);
            var seq = random.NextInt64(0, 1L << 53);
            var time = DateTimeOffset.UnixEpoch.AddMilliseconds(random.NextInt64(0, 4_000_000_000_000));

            var expected = new JsonObject { ["type"] = draft.Type, ["scroll"] = "sc\u00f6roll", ["seq"] = seq, ["time"] = Receipt.FormatTime(time), ["body"] = body.DeepClone() };
            if (tags is not null)
            {
                expected["tags"] = new JsonArray(tags.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
            }

            if (node is not null)
            {
                expected["node"] = node;
            }

            var canonical = Federation.Core.Canonical.CanonicalJson.Write(expected);
            Assert.Equal(canonical, Receipt.Prepare(draft, "sc\u00f6roll").Build(seq, time));
            // Built once in place (the seq has the expected digits) or copied (it has not): the same bytes.
            Assert.Equal(canonical, Receipt.Prepare(draft, "sc\u00f6roll", expectedSeq: seq).BuildOnce(seq, time));
            Assert.Equal(canonical, Receipt.Prepare(draft, "sc\u00f6roll", expectedSeq: random.NextInt64(0, 1L << 53)).BuildOnce(seq, time));
        }
    }

    [Theory]
    [InlineData(99, 99)] // in place
    [InlineData(99, 100)] // one more digit than prepared for: copied
    [InlineData(100, 99)] // one fewer: copied
    [InlineData(0, 0)]
    public void Build_once_gives_the_line_then_refuses_to_build_again(long expectedSeq, long seq)
    {
        var time = DateTimeOffset.UnixEpoch.AddDays(3);
        var draft = new ReceiptDraft("t", new JsonObject { ["n"] = 1 }, ["a"], "ed25519:1");
        var expected = Receipt.BuildLine(draft, "s", seq, time);
        var prepared = Receipt.Prepare(draft, "s", expectedSeq);
        Assert.Equal(expected, prepared.Build(seq, time)); // Build may be repeated until the line is handed over
        Assert.Equal(expected, prepared.Build(seq, time));
        var line = prepared.BuildOnce(seq, time);
        Assert.Equal(expected, line);
        Assert.Equal(seq, Receipt.Parse(line).Seq);
        Assert.Contains("built once already", Assert.Throws<InvalidOperationException>(() => prepared.BuildOnce(seq, time)).Message);
        Assert.Throws<InvalidOperationException>(() => prepared.Build(seq, time));
        Assert.Equal(expected, line); // refusing did not touch the handed-over line
    }

    [Fact]
    public void A_seq_out_of_range_is_refused_before_anything_is_handed_over()
    {
        var prepared = Receipt.Prepare(new ReceiptDraft("t", new JsonObject()), "s");
        Assert.Throws<ArgumentOutOfRangeException>(() => prepared.BuildOnce(-1, DateTimeOffset.UnixEpoch));
        Assert.Equal(Receipt.BuildLine(new ReceiptDraft("t", new JsonObject()), "s", 7, DateTimeOffset.UnixEpoch), prepared.BuildOnce(7, DateTimeOffset.UnixEpoch));
    }
}

public class RawBodyTests
{
    [Fact]
    public void Raw_canonical_members_give_the_same_line_as_parsed_ones()
    {
        var signed = """{"a":[1,2],"signature":{"alg":"x"},"z":"é"}"""u8.ToArray();
        var parsed = new ReceiptDraft("t", new JsonObject { ["n"] = 1, ["update"] = Federation.Core.Canonical.CanonicalJson.Parse(signed) });
        var raw = new ReceiptDraft("t", new JsonObject { ["n"] = 1 }, RawBody: new Dictionary<string, byte[]> { ["update"] = signed });
        var time = DateTimeOffset.UnixEpoch;
        Assert.Equal(Receipt.BuildLine(parsed, "s", 3, time), Receipt.BuildLine(raw, "s", 3, time));
        Assert.Throws<Federation.Core.Canonical.CanonicalJsonException>(() => Receipt.BuildLine(raw with { Body = new JsonObject { ["update"] = 1 } }, "s", 3, time));
    }
}
