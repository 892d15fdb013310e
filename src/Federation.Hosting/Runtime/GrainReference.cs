using System.Reflection;

namespace Federation.Hosting.Runtime;

/// <summary>
/// The object <c>GetGrain&lt;T&gt;(key)</c> returns: a <see cref="DispatchProxy"/> that turns each interface call
/// into a message for the grain's activation, wherever and whenever it lives.
/// </summary>
public class GrainReference : DispatchProxy, IAddressable
{
    private GrainRuntime? _runtime;
    private GrainClass? _grainClass;

    public GrainId GrainId { get; private set; }

    /// <summary>The activation the last call reached: tried first, so a hot reference skips the catalog lookup.</summary>
    internal Activation? LastActivation { get; set; }

    internal void Initialize(GrainRuntime runtime, GrainClass grainClass, GrainId grainId)
    {
        _runtime = runtime;
        _grainClass = grainClass;
        GrainId = grainId;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var method = _grainClass!.Method(targetMethod!);
        return _runtime!.Send(method, GrainId, args ?? [], this);
    }

    public override string ToString() => GrainId.ToString();

    /// <summary>References are equal when they name the same grain (as in Orleans), wherever they were made.</summary>
    public override bool Equals(object? obj) => obj is GrainReference other && other.GrainId == GrainId;

    public override int GetHashCode() => GrainId.GetHashCode();
}
