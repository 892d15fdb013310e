using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Scrolls;
using Orleans.Serialization.Cloning;

namespace Federation.Grains.Wire;

/// <summary>
/// A <see cref="ReceiptDraft"/> on the wire: its body as RFC 8785 bytes (the form the scroll seals it in, so the
/// sealed line is the same whichever side canonicalises), the rest member for member.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct ReceiptDraftSurrogate(
    [property: Id(0)] string Type,
    [property: Id(1)] byte[] Body,
    [property: Id(2)] IReadOnlyList<string>? Tags,
    [property: Id(3)] string? Node,
    [property: Id(4)] IReadOnlyDictionary<string, byte[]>? RawBody);

[RegisterConverter]
public sealed class ReceiptDraftConverter : IConverter<ReceiptDraft, ReceiptDraftSurrogate>
{
    public ReceiptDraft ConvertFromSurrogate(in ReceiptDraftSurrogate s) =>
        new(s.Type, CanonicalJson.Parse(s.Body) as JsonObject ?? throw new FormatException("a receipt draft's body must be a JSON object"), s.Tags, s.Node, s.RawBody);

    public ReceiptDraftSurrogate ConvertToSurrogate(in ReceiptDraft v) => new(v.Type, CanonicalJson.Write(v.Body), v.Tags, v.Node, v.RawBody);
}

/// <summary>
/// Within a silo a draft is copied by cloning its body alone: the body is a mutable JSON tree the caller built, while its
/// tags and raw members (canonical bytes) are never changed once made. Cheaper than the surrogate's write and parse.
/// </summary>
[RegisterCopier]
public sealed class ReceiptDraftCopier : IDeepCopier<ReceiptDraft>
{
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(input))]
    public ReceiptDraft? DeepCopy(ReceiptDraft? input, CopyContext context)
    {
        if (input is null)
        {
            return null;
        }

        if (context.TryGetCopy<ReceiptDraft>(input, out var copy))
        {
            return copy!;
        }

        copy = input with { Body = (JsonObject)input.Body.DeepClone() };
        context.RecordCopy(input, copy);
        return copy;
    }

    public object? DeepCopy(object? input, CopyContext context) => DeepCopy((ReceiptDraft?)input, context);
}
