using System.Buffers;
using System.Runtime.CompilerServices;
using Federation.Core.Governance;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;

namespace Federation.Grains.Wire;

/// <summary>
/// The Core enums' codecs: what <c>[GenerateSerializer]</c> makes of a contracts enum (its number, marked with the
/// enum's type), which Core cannot ask for. Without one Orleans writes a Core enum as a bare int: a boxed value would
/// come back as an int, not as the enum. A member's number is part of the wire format (append members, never renumber).
/// </summary>
public abstract class CoreEnumCodec<TEnum> : IFieldCodec<TEnum>
    where TEnum : struct, Enum
{
    private static readonly Type FieldType = Enum.GetUnderlyingType(typeof(TEnum)) == typeof(int)
        ? typeof(TEnum)
        : throw new InvalidOperationException($"{typeof(TEnum)} must be int-based to cross grain boundaries as it is declared");

    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, Type? expectedType, TEnum value)
        where TBufferWriter : IBufferWriter<byte> =>
        Int32Codec.WriteField(ref writer, fieldIdDelta, expectedType, Unsafe.As<TEnum, int>(ref value), FieldType);

    public TEnum ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        var number = Int32Codec.ReadValue(ref reader, field);
        return Unsafe.As<int, TEnum>(ref number);
    }
}

public static class CoreEnumCodecs
{
    [RegisterSerializer]
    public sealed class TrustLevelCodec : CoreEnumCodec<TrustLevel>;

    [RegisterSerializer]
    public sealed class SyncPolicyCodec : CoreEnumCodec<SyncPolicy>;

    [RegisterSerializer]
    public sealed class NodeStatusCodec : CoreEnumCodec<NodeStatus>;

    [RegisterSerializer]
    public sealed class AggregationKindCodec : CoreEnumCodec<AggregationKind>;

    [RegisterSerializer]
    public sealed class DispositionCodec : CoreEnumCodec<Disposition>;

    [RegisterSerializer]
    public sealed class HeadVerdictCodec : CoreEnumCodec<HeadVerdict>;

    [RegisterSerializer]
    public sealed class VerdictKindCodec : CoreEnumCodec<VerdictKind>;

    [RegisterSerializer]
    public sealed class AdvisoryStatusCodec : CoreEnumCodec<AdvisoryStatus>;
}
