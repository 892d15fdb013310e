using System.Text.Json.Nodes;

namespace Federation.Core.Signing;

/// <summary>
/// A detached signature as it appears in a signed JSON object's <c>signature</c> member
/// (docs/formats/signed-envelope.md):
/// Ed25519 — <c>{"alg":"ed25519","key":"&lt;64 hex public key&gt;","value":"&lt;base64 64 bytes&gt;"}</c>;
/// HMAC-SHA256 (SPEC B packets) — <c>{"algorithm":"hmac-sha256","value":"&lt;64 hex&gt;"}</c>.
/// </summary>
public sealed record SignatureBlock(string Algorithm, string? KeyId, byte[] Value)
{
    public const string Ed25519 = "ed25519";
    public const string HmacSha256 = "hmac-sha256";

    public JsonObject ToJson() => Algorithm switch
    {
        Ed25519 => new JsonObject
        {
            ["alg"] = Ed25519,
            ["key"] = KeyId,
            ["value"] = Convert.ToBase64String(Value),
        },
        HmacSha256 => new JsonObject
        {
            ["algorithm"] = HmacSha256,
            ["value"] = Convert.ToHexStringLower(Value),
        },
        _ => throw new InvalidOperationException($"unknown signature algorithm \"{Algorithm}\""),
    };

    /// <summary>
    /// The common case without a tree: an Ed25519 block exactly as <see cref="ToJson"/> writes it in canonical
    /// form (so the block's text is already its canonical form). Null for anything else: the caller then uses
    /// <see cref="FromJson"/>, which accepts the other spellings and words the errors.
    /// </summary>
    internal static SignatureBlock? TryReadCanonicalEd25519(ReadOnlySpan<byte> json)
    {
        ReadOnlySpan<byte> prefix = "{\"alg\":\"ed25519\",\"key\":\""u8;
        ReadOnlySpan<byte> middle = "\",\"value\":\""u8;
        const int KeyLength = 64, ValueLength = 88; // hex of 32 bytes; base64 of 64 bytes
        if (json.Length != prefix.Length + KeyLength + middle.Length + ValueLength + 2
            || !json.StartsWith(prefix)
            || !json[(prefix.Length + KeyLength)..].StartsWith(middle)
            || !json.EndsWith("\"}"u8))
        {
            return null;
        }

        var key = json.Slice(prefix.Length, KeyLength);
        var value = json.Slice(prefix.Length + KeyLength + middle.Length, ValueLength);
        if (key.ContainsAnyExcept("0123456789abcdef"u8))
        {
            return null;
        }

        var signature = new byte[64];
        if (System.Buffers.Text.Base64.DecodeFromUtf8(value, signature, out var consumed, out var written) != System.Buffers.OperationStatus.Done
            || consumed != ValueLength || written != 64)
        {
            return null;
        }

        // Only the spelling ToJson writes (no stray bits in the last character).
        Span<byte> again = stackalloc byte[ValueLength];
        System.Buffers.Text.Base64.EncodeToUtf8(signature, again, out _, out _);
        return again.SequenceEqual(value) ? new SignatureBlock(Ed25519, Crypto.KeyHex.Get(key), signature) : null;
    }

    /// <summary>Reads either form strictly; the message names the member that is wrong.</summary>
    public static SignatureBlock FromJson(JsonNode? node)
    {
        if (node is not JsonObject obj)
        {
            throw new FormatException("the signature must be a JSON object");
        }

        if (obj.ContainsKey("alg"))
        {
            RequireOnly(obj, "alg", "key", "value");
            var alg = RequireString(obj, "alg");
            if (alg != Ed25519)
            {
                throw new FormatException($"unsupported signature algorithm \"{alg}\": expected \"{Ed25519}\"");
            }

            var key = RequireString(obj, "key");
            if (key.Length != 64 || !key.All(c => char.IsAsciiDigit(c) || (c >= 'a' && c <= 'f')))
            {
                throw new FormatException("signature.key must be the 64 lowercase hex digits of an Ed25519 public key");
            }

            byte[] value;
            try
            {
                value = Convert.FromBase64String(RequireString(obj, "value"));
            }
            catch (FormatException)
            {
                throw new FormatException("signature.value is not valid base64");
            }

            if (value.Length != 64)
            {
                throw new FormatException($"signature.value must decode to a 64-byte Ed25519 signature, got {value.Length} bytes");
            }

            return new SignatureBlock(Ed25519, key, value);
        }

        if (obj.ContainsKey("algorithm"))
        {
            RequireOnly(obj, "algorithm", "value");
            var algorithm = RequireString(obj, "algorithm");
            if (algorithm != HmacSha256)
            {
                throw new FormatException($"unsupported signature algorithm \"{algorithm}\": expected \"{HmacSha256}\"");
            }

            var hex = RequireString(obj, "value");
            if (hex.Length != 64 || !hex.All(c => char.IsAsciiDigit(c) || (c >= 'a' && c <= 'f')))
            {
                throw new FormatException("signature.value must be 64 lowercase hex digits (HMAC-SHA256)");
            }

            return new SignatureBlock(HmacSha256, null, Convert.FromHexString(hex));
        }

        throw new FormatException("the signature has neither \"alg\" (Ed25519) nor \"algorithm\" (HMAC-SHA256)");
    }

    private static string RequireString(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw new FormatException($"signature.{name} must be a string");

    private static void RequireOnly(JsonObject obj, params string[] names)
    {
        foreach (var (key, _) in obj)
        {
            if (!names.Contains(key))
            {
                throw new FormatException($"unexpected member signature.{key}");
            }
        }
    }
}
