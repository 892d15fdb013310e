using System.Text;
using System.Text.Json;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Protocol;

namespace Federation.Core.Ingest;

/// <summary>
/// Reads a <see cref="MetaUpdate"/> from its canonical payload without the reflection serializer: the ingest hot
/// path. It answers only for the plain shape — exactly the eight members in RFC 8785 order, strings without
/// escapes, an integer epoch, well-formed hashes and fingerprint — and returns null for anything else, which
/// the serializer then reads (or refuses, with its message). So both paths accept and produce the same records.
/// </summary>
internal static class MetaUpdateReader
{
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
