using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Federation.Core.Hashing;

/// <summary>
/// A SHA-256 digest, written <c>sha256:&lt;64 lowercase hex&gt;</c> wherever it crosses a boundary
/// (docs/formats/digest.md). Parsing is strict: a wrong prefix, length or letter case is an error.
/// </summary>
[JsonConverter(typeof(Sha256DigestJsonConverter))]
public readonly struct Sha256Digest : IEquatable<Sha256Digest>, IComparable<Sha256Digest>
{
    public const int Size = 32;
    public const string Prefix = "sha256:";
    private const int HexLength = Size * 2;

    // Four words instead of an array: digests are compared and stored by the million (Merkle leaves).
    private readonly ulong _a, _b, _c, _d;

    public Sha256Digest(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a SHA-256 digest is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    /// <summary>SHA-256 of the given bytes.</summary>
    public static Sha256Digest Of(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Size];
        Sha256.Hash(data, hash);
        return new Sha256Digest(hash);
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The 64 lowercase hex digits, without the prefix.</summary>
    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>The wire form, <c>sha256:&lt;64 lowercase hex&gt;</c>.</summary>
    public override string ToString() => Prefix + ToHex();

    /// <summary>Bytes of the wire form in UTF-8.</summary>
    public const int Utf8Length = 7 + HexLength;

    /// <summary>Writes the wire form as UTF-8 (<see cref="Utf8Length"/> bytes) without a string.</summary>
    public void WriteUtf8(Span<byte> destination)
    {
        "sha256:"u8.CopyTo(destination);
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        Convert.TryToHexStringLower(bytes, destination.Slice(Prefix.Length, HexLength), out _);
    }

    /// <summary>Parses the wire form strictly; the exception message says what was wrong.</summary>
    public static Sha256Digest Parse(string text)
    {
        if (!TryParse(text, out var digest, out var error))
        {
            throw new FormatException(error);
        }

        return digest;
    }

    public static bool TryParse(string? text, out Sha256Digest digest, out string error)
    {
        digest = default;
        if (text is null)
        {
            error = "digest is missing";
            return false;
        }

        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = $"digest \"{Truncate(text)}\" must start with \"{Prefix}\"";
            return false;
        }

        var hex = text.AsSpan(Prefix.Length);
        if (hex.Length != HexLength)
        {
            error = $"digest \"{Truncate(text)}\" must have {HexLength} hex digits after \"{Prefix}\", got {hex.Length}";
            return false;
        }

        if (!TryParseLowerHex(hex, out digest, out var badIndex))
        {
            var c = hex[badIndex];
            error = char.IsAsciiHexDigitUpper(c)
                ? $"digest \"{Truncate(text)}\" must use lowercase hex; found '{c}' at position {Prefix.Length + badIndex}"
                : $"digest \"{Truncate(text)}\" has a non-hex character '{c}' at position {Prefix.Length + badIndex}";
            return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>Parses 64 lowercase hex digits (no prefix), as used inside proofs and vectors.</summary>
    public static Sha256Digest ParseHex(string hex)
    {
        if (hex.Length != HexLength)
        {
            throw new FormatException($"a SHA-256 digest is {HexLength} hex digits, got {hex.Length}");
        }

        if (!TryParseLowerHex(hex, out var digest, out var badIndex))
        {
            throw new FormatException($"invalid hex character '{hex[badIndex]}' at position {badIndex} (lowercase hex only)");
        }

        return digest;
    }

    private static bool TryParseLowerHex(ReadOnlySpan<char> hex, out Sha256Digest digest, out int badIndex)
    {
        digest = default;
        for (var i = 0; i < hex.Length; i++)
        {
            if (!char.IsAsciiDigit(hex[i]) && !(hex[i] >= 'a' && hex[i] <= 'f'))
            {
                badIndex = i;
                return false;
            }
        }

        Span<byte> bytes = stackalloc byte[Size];
        Convert.FromHexString(hex, bytes, out _, out _);
        digest = new Sha256Digest(bytes);
        badIndex = -1;
        return true;
    }

    /// <summary>Parses the wire form from UTF-8 bytes, as strictly as <see cref="TryParse(string?, out Sha256Digest, out string)"/>; no message (callers word their own errors).</summary>
    public static bool TryParseUtf8(ReadOnlySpan<byte> text, out Sha256Digest digest)
    {
        digest = default;
        if (text.Length != Utf8Length || !text.StartsWith("sha256:"u8))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (!LowerHex.TryDecode(text[Prefix.Length..], bytes))
        {
            return false;
        }

        digest = new Sha256Digest(bytes);
        return true;
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..77] + "...";

    public bool Equals(Sha256Digest other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is Sha256Digest other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c, _d);

    public int CompareTo(Sha256Digest other)
    {
        var c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        if (c != 0) return c;
        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }

    public static bool operator ==(Sha256Digest left, Sha256Digest right) => left.Equals(right);

    public static bool operator !=(Sha256Digest left, Sha256Digest right) => !left.Equals(right);
}

/// <summary>Reads and writes digests in their <c>sha256:</c> wire form.</summary>
public sealed class Sha256DigestJsonConverter : JsonConverter<Sha256Digest>
{
    public override Sha256Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"expected a digest string (\"{Sha256Digest.Prefix}…\"), got {reader.TokenType}");
        }

        if (!Sha256Digest.TryParse(reader.GetString(), out var digest, out var error))
        {
            throw new JsonException(error);
        }

        return digest;
    }

    public override void Write(Utf8JsonWriter writer, Sha256Digest value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
