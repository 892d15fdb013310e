namespace Federation.Hosting;

/// <summary>Marker of every grain interface.</summary>
public interface IGrain;

/// <summary>A grain whose key is a string (Orleans' <c>IGrainWithStringKey</c>).</summary>
public interface IGrainWithStringKey : IGrain;

/// <summary>Anything that names a grain: references returned by <see cref="IGrainFactory"/> and the grains themselves.</summary>
public interface IAddressable
{
    GrainId GrainId { get; }
}

public static class GrainReferenceExtensions
{
    /// <summary>The key of a grain reference (Orleans' <c>GetPrimaryKeyString</c>).</summary>
    public static string GetPrimaryKeyString(this IGrainWithStringKey grain) => grain switch
    {
        IAddressable addressable => addressable.GrainId.Key,
        _ => throw new ArgumentException($"{grain.GetType().Name} is neither a grain reference nor a grain", nameof(grain)),
    };
}

/// <summary>Makes location-independent grain references.</summary>
public interface IGrainFactory
{
    /// <summary>
    /// A reference to the grain <paramref name="key"/> of the type that implements <typeparamref name="TGrainInterface"/>.
    /// Nothing is activated until the first call.
    /// </summary>
    TGrainInterface GetGrain<TGrainInterface>(string key)
        where TGrainInterface : IGrainWithStringKey;
}
