using System.Text.Json;
using System.Text.Json.Serialization;

namespace Federation.Core.Crypto;

/// <summary>
/// A node's identity: <c>ed25519:&lt;64 lowercase hex of the public key&gt;</c> (docs/formats/keys.md).
/// SPEC A makes the fingerprint the public key itself, so a fingerprint alone is enough to verify.
/// </summary>
[JsonConverter(typeof(KeyFingerprintJsonConverter))]
public readonly record struct KeyFingerprint
{
    public const string Prefix = "ed25519:";
    private const int HexLength = Ed25519PublicKey.Size * 2;

    // Fingerprints key the hot dictionaries (key cache, node grains, update index): the string's (randomised) hash
    // is computed once, here, not per lookup.
    private readonly int _hash;

    internal KeyFingerprint(string hex)
    {
        Hex = hex;
        _hash = hex.GetHashCode(StringComparison.Ordinal);
    }

    /// <summary>The 64 lowercase hex digits of the public key.</summary>
    public string Hex { get; }

    public bool Equals(KeyFingerprint other) => _hash == other._hash && string.Equals(Hex, other.Hex, StringComparison.Ordinal);

    public override int GetHashCode() => _hash;

    /// <summary>The first 8 hex digits, for tables and logs (never for identity checks).</summary>
    public string Short => Hex is null ? string.Empty : Hex[..8];

    public override string ToString() => Prefix + Hex;

    /// <summary>Bytes of the wire form in UTF-8.</summary>
    public const int Utf8Length = 8 + HexLength;

    /// <summary>Writes the wire form as UTF-8 (<see cref="Utf8Length"/> bytes) without a string.</summary>
    public void WriteUtf8(Span<byte> destination)
    {
        "ed25519:"u8.CopyTo(destination);
        System.Text.Encoding.ASCII.GetBytes(Hex, destination.Slice(Prefix.Length, HexLength));
    }

    public static KeyFingerprint Parse(string text)
    {
        if (!TryParse(text, out var fingerprint, out var error))
        {
            throw new FormatException(error);
        }

        return fingerprint;
    }

    public static bool TryParse(string? text, out KeyFingerprint fingerprint, out string error)
    {
        fingerprint = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "fingerprint is missing";
            return false;
        }

        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = $"fingerprint \"{Shorten(text)}\" must start with \"{Prefix}\"";
            return false;
        }

        var hex = text[Prefix.Length..];
        if (hex.Length != HexLength)
        {
            error = $"fingerprint \"{Shorten(text)}\" must have {HexLength} hex digits after \"{Prefix}\", got {hex.Length}";
            return false;
        }

        foreach (var c in hex)
        {
            if (!char.IsAsciiDigit(c) && !(c >= 'a' && c <= 'f'))
            {
                error = $"fingerprint \"{Shorten(text)}\" must be lowercase hex; found '{c}'";
                return false;
            }
        }

        fingerprint = new KeyFingerprint(hex);
        error = string.Empty;
        return true;
    }

    /// <summary>Parses the wire form from UTF-8 bytes, as strictly as <see cref="TryParse(string?, out KeyFingerprint, out string)"/>; no message (callers word their own errors).</summary>
    public static bool TryParseUtf8(ReadOnlySpan<byte> text, out KeyFingerprint fingerprint)
    {
        fingerprint = default;
        if (text.Length != Utf8Length || !text.StartsWith("ed25519:"u8))
        {
            return false;
        }

        var hex = text[Prefix.Length..];
        if (!Hashing.LowerHex.IsValid(hex))
        {
            return false;
        }

        fingerprint = new KeyFingerprint(KeyHex.Get(hex));
        return true;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}

public sealed class KeyFingerprintJsonConverter : JsonConverter<KeyFingerprint>
{
    public override KeyFingerprint Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"expected a fingerprint string, got {reader.TokenType}");
        }

        return KeyFingerprint.TryParse(reader.GetString(), out var fingerprint, out var error)
            ? fingerprint
            : throw new JsonException(error);
    }

    public override void Write(Utf8JsonWriter writer, KeyFingerprint value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
