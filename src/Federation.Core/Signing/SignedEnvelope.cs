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

    // The payload tree when it was built (signing) or parsed (non-canonical input); else parsed on demand.
    private readonly JsonObject? _payload;

    // The whole signed object in canonical form, kept from a canonical input or built on first use.
    private byte[]? _canonicalWhole;

    private SignedEnvelope(JsonObject? payload, byte[] signedBytes, SignatureBlock signature, byte[]? canonicalWhole = null)
    {
        _payload = payload;
        SignedBytes = signedBytes;
        Signature = signature;
        _canonicalWhole = canonicalWhole;
    }

    /// <summary>Exactly the bytes the signature covers: RFC 8785 of the payload.</summary>
    public byte[] SignedBytes { get; }

    public SignatureBlock Signature { get; }

    /// <summary>A copy of the payload (the envelope itself is immutable).</summary>
    public JsonObject Payload => _payload is null ? (JsonObject)CanonicalJson.Parse(SignedBytes)! : (JsonObject)_payload.DeepClone();

    public static SignedEnvelope Sign(JsonObject payload, ISigner signer)
    {
        if (payload.ContainsKey(SignatureMember))
        {
            throw new ArgumentException($"a payload must not have its own \"{SignatureMember}\" member", nameof(payload));
        }

        var signedBytes = CanonicalJson.Write(payload);
        return new SignedEnvelope(null, signedBytes, signer.Sign(signedBytes));
    }

    public static SignedEnvelope Sign<T>(T payload, ISigner signer, JsonSerializerOptions? options = null)
    {
        var node = JsonSerializer.SerializeToNode(payload, options ?? ProtocolJson.Options) as JsonObject
            ?? throw new ArgumentException("a signed payload must serialise to a JSON object", nameof(payload));
        return Sign(node, signer);
    }

    /// <summary>Parses a signed object strictly; a missing or malformed signature is an error naming it.</summary>
    public static SignedEnvelope Parse(ReadOnlySpan<byte> utf8Json) => Parse(utf8Json, owned: null);

    /// <summary>
    /// <see cref="Parse(ReadOnlySpan{byte})"/> of a message the caller hands over: when it is canonical, the envelope
    /// keeps the array itself as its canonical whole instead of a copy (a receiver's hot path). The caller must not
    /// change the array afterwards.
    /// </summary>
    public static SignedEnvelope ParseOwned(byte[] utf8Json) => Parse(utf8Json, owned: utf8Json);

    private static SignedEnvelope Parse(ReadOnlySpan<byte> utf8Json, byte[]? owned)
    {
        if (CanonicalJson.IsCanonical(utf8Json, "signature"u8, out var signatureStart, out var signatureValue)
            && ParseCanonical(utf8Json, signatureStart, signatureValue, owned) is { } envelope)
        {
            return envelope;
        }

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

    /// <summary>
    /// The tree-free path for input already in RFC 8785 form: the payload's canonical form is the input
    /// without its <c>signature</c> member (removing a member keeps the rest canonical). Null when the
    /// input is not an object with an object-valued <c>signature</c> (the tree path then says what is wrong).
    /// </summary>
    private static SignedEnvelope? ParseCanonical(ReadOnlySpan<byte> canonical, int nameStart, Range value, byte[]? owned)
    {
        if (nameStart < 0 || canonical[0] != (byte)'{' || canonical[value.Start] != (byte)'{')
        {
            return null;
        }

        var (valueStart, valueEnd) = (value.Start.Value, value.End.Value);

        // Cut the member with one neighbouring comma: the one before it, else the one after it (if any).
        var (cutStart, cutEnd) = canonical[nameStart - 1] == (byte)','
            ? (nameStart - 1, valueEnd)
            : (nameStart, canonical[valueEnd] == (byte)',' ? valueEnd + 1 : valueEnd);
        var block = canonical[valueStart..valueEnd];
        var written = SignatureBlock.TryReadCanonicalEd25519(block);
        var signature = written ?? SignatureBlock.FromJson(CanonicalJson.Parse(block));
        var signedBytes = new byte[canonical.Length - (cutEnd - cutStart)];
        canonical[..cutStart].CopyTo(signedBytes);
        canonical[cutEnd..].CopyTo(signedBytes.AsSpan(cutStart));

        // The whole is the input when its signature is written as this block writes it (base64 may differ).
        var whole = written is not null || block.SequenceEqual(CanonicalJson.Write(signature.ToJson())) ? owned ?? canonical.ToArray() : null;
        return new SignedEnvelope(null, signedBytes, signature, whole);
    }

    public static SignedEnvelope Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    /// <summary>
    /// An envelope from a canonical message a reader has already taken apart: <paramref name="whole"/> is the
    /// message (kept, not copied), <paramref name="signedBytes"/> the message without its <c>signature</c> member and
    /// <paramref name="signature"/> that member, written as <see cref="SignatureBlock.ToJson"/> writes it. What
    /// <see cref="ParseOwned"/> returns for the same bytes; the caller answers for that.
    /// </summary>
    internal static SignedEnvelope FromCanonicalParts(byte[] whole, byte[] signedBytes, SignatureBlock signature) => new(null, signedBytes, signature, whole);

    public SignatureCheck Verify(ISignatureVerifier verifier) => verifier.Verify(SignedBytes, Signature);

    /// <summary>The payload as a protocol record.</summary>
    public T PayloadAs<T>(JsonSerializerOptions? options = null) =>
        JsonSerializer.Deserialize<T>(SignedBytes, options ?? ProtocolJson.Options) // the canonical payload: one fast pass, no tree
            ?? throw new FormatException($"the payload is not a {typeof(T).Name}");

    /// <summary>The whole signed object in canonical form (payload members plus <c>signature</c>).</summary>
    public byte[] ToCanonicalJson() => CanonicalJsonSpan.ToArray();

    /// <summary><see cref="ToCanonicalJson"/> without a copy, for writers that splice it into a larger document.</summary>
    public ReadOnlySpan<byte> CanonicalJsonSpan =>
        // Built once (racing builders produce equal bytes).
        _canonicalWhole ??= CanonicalJson.WriteObject(Payload, new Dictionary<string, byte[]> { [SignatureMember] = CanonicalJson.Write(Signature.ToJson()) });

    public override string ToString() => Encoding.UTF8.GetString(ToCanonicalJson());
}
