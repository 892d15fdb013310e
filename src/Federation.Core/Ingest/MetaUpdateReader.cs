using System.Text;
using System.Text.Json;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Protocol;
using Federation.Core.Signing;

namespace Federation.Core.Ingest;

/// <summary>
/// Reads a <see cref="MetaUpdate"/> from its canonical payload without the reflection serializer: the ingest hot
/// path. It answers only for the plain shape — exactly the eight members in RFC 8785 order, strings without
/// escapes, an integer epoch, well-formed hashes and fingerprint — and returns null for anything else, which
/// the serializer then reads (or refuses, with its message). So both paths accept and produce the same records.
/// </summary>
internal static class MetaUpdateReader
{
    // The plain canonical shape of a signed update, around its variable parts (RFC 8785 member order).
    private static ReadOnlySpan<byte> BaseState => "{\"base_state_hash\":\""u8;
    private static ReadOnlySpan<byte> Epoch => "\",\"federated_epoch\":"u8;
    private static ReadOnlySpan<byte> FederationId => ",\"federation_id\":\""u8;
    private static ReadOnlySpan<byte> LedgerBlockId => "\",\"ledger_block_id\":\""u8;
    private static ReadOnlySpan<byte> NodeFingerprint => "\",\"node_fingerprint\":\""u8;
    private static ReadOnlySpan<byte> Payload => "\",\"payload\":\""u8;
    private static ReadOnlySpan<byte> Signature => "\",\"signature\":"u8;
    private static ReadOnlySpan<byte> TypeAndHash => ",\"type\":\"meta_update\",\"update_hash\":\""u8;
    private const int SignatureBlockLength = 24 + 64 + 11 + 88 + 2; // {"alg":"ed25519","key":"<hex>","value":"<base64>"}

    /// <summary>
    /// The whole signed update in one pass, for the plain shape only: exactly the nine members in RFC 8785 order
    /// (the eight of the update and an ed25519 <c>signature</c> as <see cref="SignatureBlock.ToJson"/> writes it),
    /// no whitespace, strings without escapes or control characters, an epoch of 1 to 15 digits without a leading
    /// zero, type <c>meta_update</c>. Such a message is canonical, and this returns what
    /// <see cref="SignedEnvelope.ParseOwned"/> then <see cref="TryRead"/> return for it (tested against them);
    /// null for anything else, which takes that path. Keeps <paramref name="message"/> (handed over).
    /// </summary>
    public static (SignedEnvelope Envelope, MetaUpdate Update)? TryReadSigned(byte[] message)
    {
        ReadOnlySpan<byte> rest = message;
        if (!Skip(ref rest, BaseState) || !Digest(ref rest, out var baseState)
            || !Skip(ref rest, Epoch) || !EpochNumber(ref rest, out var epoch)
            || !Skip(ref rest, FederationId) || !PlainString(ref rest, out var federationId)
            || !Skip(ref rest, LedgerBlockId) || !PlainString(ref rest, out var ledgerBlockId)
            || !Skip(ref rest, NodeFingerprint) || rest.Length < KeyFingerprint.Utf8Length || !KeyFingerprint.TryParseUtf8(rest[..KeyFingerprint.Utf8Length], out var node))
        {
            return null;
        }

        rest = rest[KeyFingerprint.Utf8Length..];
        if (!Skip(ref rest, Payload) || !PlainString(ref rest, out var payload))
        {
            return null;
        }

        // The signature member, cut out with the comma before it: the signed bytes are the rest, joined.
        var cutStart = message.Length - rest.Length + 1; // the ',' after the payload's closing quote
        if (!Skip(ref rest, Signature) || rest.Length < SignatureBlockLength
            || SignatureBlock.TryReadCanonicalEd25519(rest[..SignatureBlockLength]) is not { } signature)
        {
            return null;
        }

        rest = rest[SignatureBlockLength..];
        var cutEnd = message.Length - rest.Length;
        if (!Skip(ref rest, TypeAndHash) || !Digest(ref rest, out var updateHash) || rest is not [(byte)'"', (byte)'}'])
        {
            return null;
        }

        var signedBytes = new byte[message.Length - (cutEnd - cutStart)];
        message.AsSpan(0, cutStart).CopyTo(signedBytes);
        message.AsSpan(cutEnd).CopyTo(signedBytes.AsSpan(cutStart));
        var update = new MetaUpdate(MessageTypes.MetaUpdate, Encoding.UTF8.GetString(federationId), epoch, node, updateHash, Encoding.UTF8.GetString(ledgerBlockId), baseState, Encoding.UTF8.GetString(payload));
        return (SignedEnvelope.FromCanonicalParts(message, signedBytes, signature), update);
    }

    private static bool Skip(ref ReadOnlySpan<byte> rest, ReadOnlySpan<byte> literal)
    {
        if (!rest.StartsWith(literal))
        {
            return false;
        }

        rest = rest[literal.Length..];
        return true;
    }

    private static bool Digest(ref ReadOnlySpan<byte> rest, out Sha256Digest digest)
    {
        digest = default;
        if (rest.Length < Sha256Digest.Utf8Length || !Sha256Digest.TryParseUtf8(rest[..Sha256Digest.Utf8Length], out digest))
        {
            return false;
        }

        rest = rest[Sha256Digest.Utf8Length..];
        return true;
    }

    // A canonical non-negative integer that a double holds exactly (IsCanonicalNumber's own fast case).
    private static bool EpochNumber(ref ReadOnlySpan<byte> rest, out long epoch)
    {
        epoch = 0;
        var digits = rest.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        if (digits is <= 0 or > 15 || (rest[0] == (byte)'0' && digits > 1))
        {
            return false;
        }

        for (var i = 0; i < digits; i++)
        {
            epoch = (epoch * 10) + (rest[i] - '0');
        }

        rest = rest[digits..];
        return true;
    }

    // A string's text up to its closing quote (left in rest): valid UTF-8 with nothing JSON would escape.
    private static bool PlainString(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> text)
    {
        text = default;
        var length = rest.IndexOfAny((byte)'"', (byte)'\\');
        if (length < 0 || rest[length] != (byte)'"')
        {
            return false;
        }

        text = rest[..length];
        if (text.IndexOfAnyInRange((byte)0, (byte)0x1f) >= 0 || !System.Text.Unicode.Utf8.IsValid(text))
        {
            return false;
        }

        rest = rest[length..];
        return true;
    }

    public static MetaUpdate? TryRead(ReadOnlySpan<byte> canonicalPayload)
    {
        var reader = new Utf8JsonReader(canonicalPayload, new JsonReaderOptions { MaxDepth = 4 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            if (!Member(ref reader, "base_state_hash"u8) || !Sha256Digest.TryParseUtf8(reader.ValueSpan, out var baseState)
                || !Number(ref reader, "federated_epoch"u8, out var epoch)
                || !Member(ref reader, "federation_id"u8))
            {
                return null;
            }

            var federationId = Encoding.UTF8.GetString(reader.ValueSpan);
            if (!Member(ref reader, "ledger_block_id"u8))
            {
                return null;
            }

            var ledgerBlockId = Encoding.UTF8.GetString(reader.ValueSpan);
            if (!Member(ref reader, "node_fingerprint"u8) || !KeyFingerprint.TryParseUtf8(reader.ValueSpan, out var node)
                || !Member(ref reader, "payload"u8))
            {
                return null;
            }

            var payload = Encoding.UTF8.GetString(reader.ValueSpan);
            if (!Member(ref reader, "type"u8))
            {
                return null;
            }

            var type = reader.ValueTextEquals(MessageTypes.MetaUpdate) ? MessageTypes.MetaUpdate : Encoding.UTF8.GetString(reader.ValueSpan);
            if (!Member(ref reader, "update_hash"u8) || !Sha256Digest.TryParseUtf8(reader.ValueSpan, out var updateHash)
                || !reader.Read() || reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return null;
            }

            return new MetaUpdate(type, federationId, epoch, node, updateHash, ledgerBlockId, baseState, payload);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // The next member must be this name with a string value written without escapes (so its bytes are its text).
    private static bool Member(ref Utf8JsonReader reader, ReadOnlySpan<byte> name) =>
        reader.Read() && reader.TokenType == JsonTokenType.PropertyName && !reader.ValueIsEscaped && reader.ValueSpan.SequenceEqual(name)
        && reader.Read() && reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && System.Text.Unicode.Utf8.IsValid(reader.ValueSpan);

    private static bool Number(ref Utf8JsonReader reader, ReadOnlySpan<byte> name, out long value)
    {
        value = 0;
        return reader.Read() && reader.TokenType == JsonTokenType.PropertyName && !reader.ValueIsEscaped && reader.ValueSpan.SequenceEqual(name)
            && reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value);
    }
}
