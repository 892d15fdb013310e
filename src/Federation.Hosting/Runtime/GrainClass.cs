using System.Reflection;
using Federation.Hosting.Telemetry;

namespace Federation.Hosting.Runtime;

/// <summary>
/// A registered grain class: its stable type name, reentrancy, constructor, persistent-state parameters and
/// the dispatch table of every grain interface method it implements. Built once per host (no static caches).
/// </summary>
internal sealed class GrainClass
{
    private readonly Dictionary<MethodInfo, GrainMethod> _methods = [];
    private int _activeCount;

    public GrainClass(Type implementation, GrainTelemetry telemetry)
    {
        if (!typeof(Grain).IsAssignableFrom(implementation) || implementation.IsAbstract)
        {
            throw new ArgumentException($"{implementation.Name} must be a non-abstract class deriving from Grain");
        }

        Implementation = implementation;
        TypeName = implementation.GetCustomAttribute<GrainTypeAttribute>()?.Name ?? DefaultTypeName(implementation);
        Reentrant = implementation.IsDefined(typeof(ReentrantAttribute), inherit: true);
        var constructors = implementation.GetConstructors();
        Constructor = constructors.Length == 1
            ? constructors[0]
            : throw new ArgumentException($"grain class {implementation.Name} must have exactly one public constructor (it has {constructors.Length})");
        Parameters = Constructor.GetParameters();

        foreach (var grainInterface in implementation.GetInterfaces())
        {
            if (!typeof(IGrain).IsAssignableFrom(grainInterface) || grainInterface == typeof(IGrain) || grainInterface == typeof(IGrainWithStringKey))
            {
                continue;
            }

            foreach (var method in grainInterface.GetMethods())
            {
                _methods[method] = GrainMethod.Create(this, method, telemetry);
            }
        }

        if (typeof(IRemindable).IsAssignableFrom(implementation))
        {
            ReminderMethod = _methods[typeof(IRemindable).GetMethod(nameof(IRemindable.ReceiveReminder))!];
        }
    }

    public Type Implementation { get; }

    /// <summary>The first half of every <see cref="GrainId"/> of this class; part of the storage format.</summary>
    public string TypeName { get; }

    public bool Reentrant { get; }

    public ConstructorInfo Constructor { get; }

    public IReadOnlyList<ParameterInfo> Parameters { get; }

    public GrainMethod? ReminderMethod { get; }

    public int ActiveCount => Volatile.Read(ref _activeCount);

    public GrainMethod Method(MethodInfo interfaceMethod) => _methods.TryGetValue(interfaceMethod, out var method)
        ? method
        : throw new InvalidOperationException($"{Implementation.Name} does not implement {interfaceMethod.DeclaringType?.Name}.{interfaceMethod.Name}");

    public void ActivationStarted() => Interlocked.Increment(ref _activeCount);

    public void ActivationEnded() => Interlocked.Decrement(ref _activeCount);

    /// <summary>Without [GrainType]: the class name without a "Grain" suffix, lower-case first letter (NodeGrain → node).</summary>
    private static string DefaultTypeName(Type type)
    {
        var name = type.Name.EndsWith("Grain", StringComparison.Ordinal) && type.Name.Length > "Grain".Length ? type.Name[..^"Grain".Length] : type.Name;
        return char.ToLowerInvariant(name[0]) + name[1..];
    }
}

/// <summary>Maps grain interfaces to their (single) registered implementation.</summary>
internal sealed class GrainTypeRegistry
{
    private readonly Dictionary<Type, GrainClass> _byInterface = [];
    private readonly Dictionary<string, GrainClass> _byTypeName = new(StringComparer.Ordinal);

    public GrainTypeRegistry(IEnumerable<GrainRegistration> registrations, GrainTelemetry telemetry)
    {
        foreach (var registration in registrations)
        {
            var grainClass = new GrainClass(registration.Implementation, telemetry);
            if (!_byTypeName.TryAdd(grainClass.TypeName, grainClass))
            {
                throw new InvalidOperationException($"grain type name '{grainClass.TypeName}' is declared by both {_byTypeName[grainClass.TypeName].Implementation.Name} and {registration.Implementation.Name}");
            }

            foreach (var grainInterface in registration.Interfaces)
            {
                if (!_byInterface.TryAdd(grainInterface, grainClass))
                {
                    throw new InvalidOperationException($"{grainInterface.Name} is implemented by both {_byInterface[grainInterface].Implementation.Name} and {registration.Implementation.Name}");
                }
            }
        }
    }

    public IEnumerable<GrainClass> Classes => _byTypeName.Values;

    public GrainClass ForInterface(Type grainInterface) => _byInterface.TryGetValue(grainInterface, out var grainClass)
        ? grainClass
        : throw new InvalidOperationException($"no grain class is registered for {grainInterface.Name} (builder.AddGrain<{grainInterface.Name}, …>())");

    public GrainClass ForTypeName(string typeName) => _byTypeName.TryGetValue(typeName, out var grainClass)
        ? grainClass
        : throw new InvalidOperationException($"no grain class is registered with type name '{typeName}'");

    public bool TryGetByTypeName(string typeName, out GrainClass grainClass) => _byTypeName.TryGetValue(typeName, out grainClass!);
}

/// <summary>One <c>AddGrain&lt;TInterface, TGrain&gt;()</c>.</summary>
internal sealed record GrainRegistration(Type Implementation, IReadOnlyList<Type> Interfaces);
