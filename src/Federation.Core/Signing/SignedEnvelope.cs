using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;

namespace Federation.Core.Signing;

/// <summary>
/// The one signed-message type (docs/formats/signed-envelope.md): a JSON object whose members are
/// the payload plus a <c>signature</c> member. What is signed is the RFC 8785 form of the object
/// without its <c>signature</c> member. Plans, packets, votes and node messages all use it.
/// </summary>
public sealed class SignedEnvelope
{
    public const string SignatureMember = "signature";

    private readonly JsonObject _payload;

    private SignedEnvelope(JsonObject payload, byte[] signedBytes, SignatureBlock signature)
    {
        _payload = payload;
        SignedBytes = signedBytes;
        Signature = signature;
    }

    /// <summary>Exactly the bytes the signature covers: RFC 8785 of the payload.</summary>
    public byte[] SignedBytes { get; }

    public SignatureBlock Signature { get; }

    /// <summary>A copy of the payload (the envelope itself is immutable).</summary>
    public JsonObject Payload => (JsonObject)_payload.DeepClone();

    public static SignedEnvelope Sign(JsonObject payload, ISigner signer)
    {
        if (payload.ContainsKey(SignatureMember))
        {
            throw new ArgumentException($"a payload must not have its own \"{SignatureMember}\" member", nameof(payload));
        }

        var signedBytes = CanonicalJson.Write(payload);

        // Keep the payload as a reader will see it (numbers as doubles, members as parsed), so a signed
        // message behaves the same whether it was built here or received.
        var normalised = (JsonObject)CanonicalJson.Parse(signedBytes)!;
        return new SignedEnvelope(normalised, signedBytes, signer.Sign(signedBytes));
    }

    public static SignedEnvelope Sign<T>(T payload, ISigner signer, JsonSerializerOptions? options = null)
    {
        var node = JsonSerializer.SerializeToNode(payload, options ?? ProtocolJson.Options) as JsonObject
            ?? throw new ArgumentException("a signed payload must serialise to a JSON object", nameof(payload));
        return Sign(node, signer);
    }

    /// <summary>Parses a signed object strictly; a missing or malformed signature is an error naming it.</summary>
    public static SignedEnvelope Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (CanonicalJson.Parse(utf8Json) is not JsonObject obj)
        {
            throw new FormatException("a signed message must be a JSON object");
        }

        if (!obj.TryGetPropertyValue(SignatureMember, out var signatureNode))
        {
            throw new FormatException($"the message is not signed: it has no \"{SignatureMember}\" member");
        }

        var signature = SignatureBlock.FromJson(signatureNode);
        obj.Remove(SignatureMember);
        return new SignedEnvelope(obj, CanonicalJson.Write(obj), signature);
    }

    public static SignedEnvelope Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    public SignatureCheck Verify(ISignatureVerifier verifier) => verifier.Verify(SignedBytes, Signature);

    /// <summary>The payload as a protocol record.</summary>
    public T PayloadAs<T>(JsonSerializerOptions? options = null) =>
        JsonSerializer.Deserialize<T>(SignedBytes, options ?? ProtocolJson.Options) // the canonical payload: one fast pass, no tree
            ?? throw new FormatException($"the payload is not a {typeof(T).Name}");

    /// <summary>The whole signed object in canonical form (payload members plus <c>signature</c>).</summary>
    public byte[] ToCanonicalJson()
    {
        var whole = (JsonObject)_payload.DeepClone();
        whole[SignatureMember] = Signature.ToJson();
        return CanonicalJson.Write(whole);
    }

    public override string ToString() => Encoding.UTF8.GetString(ToCanonicalJson());
}
