namespace Federation.Hosting;

/// <summary>
/// The identity of a grain: its declared type name (see <see cref="GrainTypeAttribute"/>) and its string key.
/// Written <c>Type/Key</c>, e.g. <c>node/ab12</c>. Both parts are part of the storage format.
/// </summary>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";
}
