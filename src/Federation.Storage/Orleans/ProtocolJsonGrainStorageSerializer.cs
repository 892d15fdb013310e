using System.Text.Json;
using Federation.Core.Canonical;
using Orleans.Storage;

namespace Federation.Storage.Orleans;

/// <summary>
/// Grain state as the project's explicit JSON: System.Text.Json with <see cref="ProtocolJson.Options"/>
/// (snake_case member names, unknown members refused, required members and nullability enforced). No type
/// names are written (never <c>$type</c>), so persisted member names are the format (docs/formats/grain-state.md).
/// For every Orleans grain storage: the file provider uses it by default, and an ADO.NET provider takes it with
/// <c>options.GrainStorageSerializer = ProtocolJsonGrainStorageSerializer.Instance</c>.
/// </summary>
public sealed class ProtocolJsonGrainStorageSerializer : IGrainStorageSerializer
{
    /// <summary>The serializer over <see cref="ProtocolJson.Options"/> (stateless, so one is enough).</summary>
    public static ProtocolJsonGrainStorageSerializer Instance { get; } = new();

    public ProtocolJsonGrainStorageSerializer()
        : this(ProtocolJson.Options)
    {
    }

    /// <param name="options">Settings other than the protocol's (tests, or a state with converters of its own).</param>
    public ProtocolJsonGrainStorageSerializer(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    public JsonSerializerOptions Options { get; }

    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    /// <summary>
    /// The stored state, or <see cref="GrainStateFormatException"/> saying what is wrong with it: not JSON, a member
    /// this build does not know, a missing required member, or JSON <c>null</c> (a grain state is never null:
    /// Orleans creates one for a grain that has none, so a stored null is damage, not an empty state).
    /// </summary>
    public T? Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        T? state;
        try
        {
            state = JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options);
        }
        catch (JsonException ex)
        {
            throw new GrainStateFormatException($"not a valid {typeof(T).Name} ({ex.Message})", ex);
        }

        return state ?? throw new GrainStateFormatException($"JSON null where a {typeof(T).Name} was expected");
    }
}
