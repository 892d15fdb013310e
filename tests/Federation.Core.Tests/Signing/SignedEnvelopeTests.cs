using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Signing;

namespace Federation.Core.Tests.Signing;

public class SignedEnvelopeTests
{
    private static Ed25519PrivateKey Key(byte fill) => Ed25519PrivateKey.FromSeed(Enumerable.Repeat(fill, 32).ToArray());

    private static JsonObject Payload() => new() { ["type"] = "meta_update", ["federated_epoch"] = 7, ["payload"] = "abc" };

    [Fact]
    public void The_signature_covers_the_rfc8785_form_of_the_payload()
    {
        using var key = Key(1);
        var envelope = SignedEnvelope.Sign(Payload(), new Ed25519Signer(key));
        var expected = Encoding.UTF8.GetBytes("""{"federated_epoch":7,"payload":"abc","type":"meta_update"}""");
        Assert.Equal(expected, envelope.SignedBytes);
        Assert.True(key.PublicKey.Verify(expected, envelope.Signature.Value));
    }

    [Fact]
    public void A_signed_object_verifies_after_reformatting_and_member_reordering()
    {
        using var key = Key(2);
        var envelope = SignedEnvelope.Sign(Payload(), new Ed25519Signer(key));
        var node = JsonNode.Parse(envelope.ToString())!.AsObject();
        var reordered = new JsonObject(node.Reverse().Select(m => KeyValuePair.Create(m.Key, m.Value?.DeepClone())));
        var pretty = reordered.ToJsonString(new() { WriteIndented = true });

        var parsed = SignedEnvelope.Parse(pretty);
        Assert.True(parsed.Verify(Ed25519Verifier.Trusting(key.PublicKey)).IsValid);
        Assert.Equal(7, parsed.Payload["federated_epoch"]!.GetValue<double>());
    }

    [Fact]
    public void A_changed_payload_fails_with_bad_signature()
    {
        using var key = Key(3);
        var text = SignedEnvelope.Sign(Payload(), new Ed25519Signer(key)).ToString().Replace("\"federated_epoch\":7", "\"federated_epoch\":8");
        var check = SignedEnvelope.Parse(text).Verify(Ed25519Verifier.Trusting(key.PublicKey));
        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
    }

    [Fact]
    public void A_valid_signature_by_an_untrusted_key_fails_as_unknown_key()
    {
        using var signer = Key(4);
        using var trusted = Key(5);
        var envelope = SignedEnvelope.Sign(Payload(), new Ed25519Signer(signer));
        var check = envelope.Verify(Ed25519Verifier.Trusting(trusted.PublicKey));
        Assert.Equal(SignatureFailure.UnknownKey, check.Failure);
        Assert.Contains(signer.PublicKey.ToHex(), check.Detail);
    }

    [Theory]
    [InlineData("""{"a":1}""", "no \"signature\" member")]
    [InlineData("""{"a":1,"signature":"x"}""", "must be a JSON object")]
    [InlineData("""{"a":1,"signature":{"alg":"rsa","key":"00","value":"AA=="}}""", "unsupported signature algorithm \"rsa\"")]
    [InlineData("""{"a":1,"signature":{"alg":"ed25519","key":"abcd","value":"AA=="}}""", "64 lowercase hex")]
    [InlineData("""{"a":1,"signature":{"alg":"ed25519","key":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","value":"AAAA"}}""", "64-byte Ed25519 signature, got 3 bytes")]
    [InlineData("""{"a":1,"signature":{"alg":"ed25519","key":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","value":"***"}}""", "not valid base64")]
    [InlineData("""{"a":1,"signature":{"alg":"ed25519","key":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","value":"AA==","extra":1}}""", "unexpected member signature.extra")]
    [InlineData("""{"a":1,"signature":{"algorithm":"hmac-sha256","value":"ABCD"}}""", "64 lowercase hex")]
    [InlineData("""[1]""", "must be a JSON object")]
    public void Malformed_signed_messages_are_refused_with_the_reason(string json, string expected)
    {
        var ex = Assert.ThrowsAny<FormatException>(() => SignedEnvelope.Parse(json));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void A_payload_with_its_own_signature_member_is_refused()
    {
        using var key = Key(6);
        var payload = Payload();
        payload["signature"] = "mine";
        Assert.Throws<ArgumentException>(() => SignedEnvelope.Sign(payload, new Ed25519Signer(key)));
    }

    [Fact]
    public void Typed_payloads_use_snake_case_and_round_trip()
    {
        using var key = Key(7);
        var envelope = SignedEnvelope.Sign(new Sample(3, "node-a"), new Ed25519Signer(key));
        Assert.Equal("""{"federated_epoch":3,"node_name":"node-a"}""", Encoding.UTF8.GetString(envelope.SignedBytes));
        Assert.Equal(new Sample(3, "node-a"), SignedEnvelope.Parse(envelope.ToCanonicalJson()).PayloadAs<Sample>());
    }

    private sealed record Sample(long FederatedEpoch, string NodeName);

    [Fact]
    public void Hmac_packets_carry_the_spec_b_signature_form_and_verify_in_constant_time()
    {
        using var hmac = new HmacSha256Signer(Enumerable.Repeat((byte)0x42, 32).ToArray());
        var envelope = SignedEnvelope.Sign(new JsonObject { ["env"] = "prod", ["files"] = new JsonArray("a.json") }, hmac);
        var signature = JsonNode.Parse(envelope.ToString())!["signature"]!.AsObject();
        Assert.Equal(["algorithm", "value"], signature.Select(m => m.Key).ToArray());
        Assert.Equal("hmac-sha256", signature["algorithm"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{64}$", signature["value"]!.GetValue<string>());

        // RFC 4231-style independent check of the value.
        var expected = System.Security.Cryptography.HMACSHA256.HashData(Enumerable.Repeat((byte)0x42, 32).ToArray(), envelope.SignedBytes);
        Assert.Equal(Convert.ToHexStringLower(expected), signature["value"]!.GetValue<string>());

        Assert.True(SignedEnvelope.Parse(envelope.ToString()).Verify(hmac).IsValid);
        using var otherKey = new HmacSha256Signer(Enumerable.Repeat((byte)0x43, 32).ToArray());
        Assert.Equal(SignatureFailure.BadSignature, SignedEnvelope.Parse(envelope.ToString()).Verify(otherKey).Failure);
    }

    [Fact]
    public void Verifiers_refuse_the_other_algorithm()
    {
        using var key = Key(8);
        using var hmac = new HmacSha256Signer(new byte[32]);
        var ed = SignedEnvelope.Sign(Payload(), new Ed25519Signer(key));
        var mac = SignedEnvelope.Sign(Payload(), hmac);
        Assert.Equal(SignatureFailure.WrongAlgorithm, ed.Verify(hmac).Failure);
        Assert.Equal(SignatureFailure.WrongAlgorithm, mac.Verify(Ed25519Verifier.Trusting(key.PublicKey)).Failure);
    }

    [Fact]
    public void Short_hmac_keys_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new HmacSha256Signer(new byte[16]));
    }

    [Fact]
    public void Signed_bytes_do_not_depend_on_how_the_payload_was_written()
    {
        using var key = Key(9);
        var a = SignedEnvelope.Sign(JsonNode.Parse("""{"b":1.50,"a":"\u00e9"}""")!.AsObject(), new Ed25519Signer(key));
        var b = SignedEnvelope.Sign(CanonicalJson.Parse("""{"a":"é","b":1.5}""")!.AsObject(), new Ed25519Signer(key));
        Assert.Equal(a.SignedBytes, b.SignedBytes);
        Assert.Equal(a.Signature.Value, b.Signature.Value); // Ed25519 is deterministic (RFC 8032 §5.1.6).
    }

    [Theory]
    [InlineData("""{"federated_epoch":7,"payload":"abc","type":"meta_update"}""")] // signature in the middle
    [InlineData("""{"a":1,"b":[1,2]}""")] // last
    [InlineData("""{"t":{"signature":1},"z":"é"}""")] // first; a nested "signature" is payload
    [InlineData("""{}""")] // only member
    public void Canonical_and_reformatted_input_parse_to_the_same_envelope(string payload)
    {
        using var key = Key(10);
        var signed = SignedEnvelope.Sign(CanonicalJson.Parse(payload)!.AsObject(), new Ed25519Signer(key));
        var canonical = signed.ToCanonicalJson();
        Assert.True(CanonicalJson.IsCanonical(canonical));
        var reformatted = Encoding.UTF8.GetBytes(JsonNode.Parse(canonical)!.ToJsonString(new() { WriteIndented = true }));
        Assert.False(CanonicalJson.IsCanonical(reformatted));

        foreach (var input in new[] { canonical, reformatted })
        {
            var parsed = SignedEnvelope.Parse(input);
            Assert.Equal(Encoding.UTF8.GetBytes(payload), parsed.SignedBytes);
            Assert.Equal(canonical, parsed.ToCanonicalJson());
            Assert.Equal(payload, CanonicalJson.WriteString(parsed.Payload));
            Assert.True(parsed.Verify(Ed25519Verifier.Trusting(key.PublicKey)).IsValid);
        }
    }

    [Fact]
    public void A_canonical_message_whose_signature_value_is_spelt_differently_is_rewritten_as_the_tree_path_does()
    {
        using var key = Key(11);
        var canonical = Encoding.UTF8.GetString(SignedEnvelope.Sign(Payload(), new Ed25519Signer(key)).ToCanonicalJson());
        var value = JsonNode.Parse(canonical)!["signature"]!["value"]!.GetValue<string>();
        var spaced = canonical.Replace(value, value[..8] + " " + value[8..]); // base64 decoders skip white space
        Assert.True(CanonicalJson.IsCanonical(Encoding.UTF8.GetBytes(spaced)));

        var parsed = SignedEnvelope.Parse(spaced);
        Assert.Equal(canonical, Encoding.UTF8.GetString(parsed.ToCanonicalJson()));
        Assert.True(parsed.Verify(Ed25519Verifier.Trusting(key.PublicKey)).IsValid);
    }

    [Theory]
    [InlineData("""{"a":1,"signature":"x"}""", "the signature must be a JSON object")]
    [InlineData("""{"a":1}""", "no \"signature\" member")]
    [InlineData("""[1]""", "must be a JSON object")]
    public void Canonical_input_without_a_usable_signature_is_refused_as_before(string json, string expected)
    {
        var ex = Assert.ThrowsAny<FormatException>(() => SignedEnvelope.Parse(json));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_tree_free_signature_reader_accepts_exactly_the_canonical_ed25519_spelling()
    {
        for (byte fill = 1; fill < 40; fill++)
        {
            using var key = Key(fill);
            var block = SignedEnvelope.Sign(Payload(), new Ed25519Signer(key)).Signature;
            var text = CanonicalJson.Write(block.ToJson());
            var read = SignatureBlock.TryReadCanonicalEd25519(text);
            Assert.NotNull(read);
            Assert.Equal(block.KeyId, read.KeyId);
            Assert.Equal(block.Value, read.Value);

            var value = Convert.ToBase64String(block.Value);
            var last = value[85];
            var strayBits = Encoding.UTF8.GetString(text).Replace(value, value[..85] + (char)(last == 'A' ? 'B' : last - 1) + "==");
            Assert.Null(SignatureBlock.TryReadCanonicalEd25519(Encoding.UTF8.GetBytes(strayBits)));
            Assert.Null(SignatureBlock.TryReadCanonicalEd25519(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(text).Replace(block.KeyId!, block.KeyId!.ToUpperInvariant()))));
            Assert.Null(SignatureBlock.TryReadCanonicalEd25519(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(text).Replace("\"}", "\"} "))));
        }
    }
}
