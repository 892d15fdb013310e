using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Federation.Core.Canonical;

/// <summary>
/// Serializer settings for every protocol record: snake_case member names (the wire names of SPEC A),
/// unknown members refused, required members and nullability enforced. Persisted and signed names
/// are part of the format: rename a C# property only with a [JsonPropertyName] that keeps the wire name.
/// </summary>
public static class ProtocolJson
{
    public static JsonSerializerOptions Options { get; } = Create(indented: false);

    /// <summary>The same settings, indented, for files people read.</summary>
    public static JsonSerializerOptions Indented { get; } = Create(indented: true);

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            WriteIndented = indented,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
