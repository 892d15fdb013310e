using Federation.Core.Ingest;

namespace Federation.Grains.Wire;

/// <summary>
/// A <see cref="VerifiedUpdate"/> on the wire: the signed message alone (its canonical JSON), which holds everything
/// else — the update's members and, in base64, its payload. The receiving silo rereads it with
/// <see cref="UpdateValidator.Reread"/> (one pass for the plain shape nodes send, a base64 decode, no signature check:
/// the gateway of this cluster verified it). Within a silo the update is not copied at all (<see cref="ShallowCopiers"/>).
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct VerifiedUpdateSurrogate([property: Id(0)] byte[] SignedMessage);

[RegisterConverter]
public sealed class VerifiedUpdateConverter : IConverter<VerifiedUpdate, VerifiedUpdateSurrogate>
{
    public VerifiedUpdate ConvertFromSurrogate(in VerifiedUpdateSurrogate surrogate) => UpdateValidator.Reread(surrogate.SignedMessage);

    public VerifiedUpdateSurrogate ConvertToSurrogate(in VerifiedUpdate value) => new(value.Envelope.ToCanonicalJson());
}
