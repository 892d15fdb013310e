using System.Reflection;
using Orleans;

namespace Federation.Grains.Tests.Wire;

/// <summary>
/// What crosses a grain boundary, found by reflection: every parameter and return type of every method of every grain
/// interface in the contracts assembly, and — through their serialized members, or the surrogates of Core types — every
/// type inside those. A new method or member brings its types in without anyone listing them.
/// </summary>
internal static class WireTypeCatalog
{
    public static Assembly Contracts { get; } = typeof(IFederationGrain).Assembly;

    /// <summary>Types Orleans serializes itself and that carry no name of ours.</summary>
    public static bool IsBuiltIn(Type type) =>
        type.IsPrimitive || type == typeof(string) || type == typeof(byte[]) || type == typeof(decimal)
        || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(TimeSpan) || type == typeof(Guid);

    public static IReadOnlyList<Type> GrainInterfaces { get; } = Contracts.GetExportedTypes()
        .Where(t => t.IsInterface && t.GetInterfaces().Any(i => i == typeof(IGrain)))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>The Core types' surrogates: Core type → surrogate, from the converters the contracts register.</summary>
    public static IReadOnlyDictionary<Type, Type> Surrogates { get; } = Contracts.GetTypes()
        .Where(t => t.IsDefined(typeof(RegisterConverterAttribute)))
        .SelectMany(t => t.GetInterfaces().Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConverter<,>)))
        .ToDictionary(i => i.GetGenericArguments()[0], i => i.GetGenericArguments()[1]);

    /// <summary>Every wire type and where it was first met (for the failure messages).</summary>
    public static IReadOnlyDictionary<Type, string> WireTypes { get; } = Discover();

    private static Dictionary<Type, string> Discover()
    {
        var found = new Dictionary<Type, string>();
        var pending = new Queue<Type>();
        void Add(Type type, string where)
        {
            foreach (var leaf in Unwrap(type))
            {
                if (!IsBuiltIn(leaf) && found.TryAdd(leaf, where))
                {
                    pending.Enqueue(leaf);
                }
            }
        }

        foreach (var grain in GrainInterfaces)
        {
            foreach (var method in grain.GetMethods())
            {
                foreach (var parameter in method.GetParameters())
                {
                    Add(parameter.ParameterType, $"{grain.Name}.{method.Name}({parameter.Name})");
                }

                Add(method.ReturnType, $"{grain.Name}.{method.Name} (returned)");
            }
        }

        while (pending.TryDequeue(out var type))
        {
            foreach (var (member, memberType) in SerializedMembers(type))
            {
                Add(memberType, $"{type.Name}.{member} (inside {found[type]})");
            }
        }

        return found;
    }

    /// <summary>The members the wire carries: a generated serializer's [Id] members, or a Core type's surrogate's.</summary>
    public static IEnumerable<(string Name, Type Type)> SerializedMembers(Type type)
    {
        var shape = Surrogates.TryGetValue(type, out var surrogate) ? surrogate : type;
        if (!shape.IsDefined(typeof(GenerateSerializerAttribute)) || shape.IsEnum)
        {
            yield break;
        }

        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        foreach (var property in shape.GetProperties(all).Where(p => p.IsDefined(typeof(IdAttribute))))
        {
            yield return (property.Name, property.PropertyType);
        }

        foreach (var field in shape.GetFields(all).Where(f => f.IsDefined(typeof(IdAttribute))))
        {
            yield return (field.Name, field.FieldType);
        }
    }

    /// <summary>The element types of tasks, nullables, arrays and collections; anything else is itself.</summary>
    public static IEnumerable<Type> Unwrap(Type type)
    {
        if (type == typeof(Task) || type == typeof(ValueTask) || type == typeof(void))
        {
            return [];
        }

        if (type.IsArray && type != typeof(byte[]))
        {
            return Unwrap(type.GetElementType()!);
        }

        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            if (definition == typeof(Task<>) || definition == typeof(ValueTask<>) || definition == typeof(Nullable<>)
                || definition == typeof(IReadOnlyList<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>)
                || definition == typeof(IList<>) || definition == typeof(List<>) || definition == typeof(IReadOnlySet<>) || definition == typeof(HashSet<>)
                || definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(Dictionary<,>))
            {
                return type.GetGenericArguments().SelectMany(Unwrap);
            }
        }

        return [type];
    }
}
