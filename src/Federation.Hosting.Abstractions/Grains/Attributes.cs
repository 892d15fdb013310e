namespace Federation.Hosting;

/// <summary>
/// The stable type name of a grain class: the first half of its <see cref="GrainId"/>, the folder and the
/// row key of its persisted state. Declare it so a class rename never changes the storage format.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>
/// Every request to this grain may interleave with every other (Orleans' <c>[Reentrant]</c>):
/// while one request awaits, another may run. Still one thread at a time.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class ReentrantAttribute : Attribute;

/// <summary>This method may interleave with any request (Orleans' <c>[AlwaysInterleave]</c>).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute;

/// <summary>
/// This method does not change state: read-only requests interleave with each other, never with
/// a request that may write (Orleans' <c>[ReadOnly]</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadOnlyAttribute : Attribute;

/// <summary>
/// A call of this method from outside any grain (a gateway, a client) to an idle activation may start the
/// request on the caller's thread instead of queueing it: its synchronous part runs there, as one turn like any
/// other, and its continuations come back to the activation as usual. For hot entry points whose synchronous
/// part is short; saves a thread hop per call. The production scheduler honours it; the simulation keeps every
/// hop in its seeded order. A caller inside a grain, a busy or activating activation: queued as always.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class StartsOnCallerThreadAttribute : Attribute;

/// <summary>
/// Marks a grain constructor parameter of type <see cref="IPersistentState{T}"/>: the host loads it
/// before <c>OnActivateAsync</c> (Orleans' <c>[PersistentState]</c>).
/// </summary>
/// <param name="stateName">The name of this state within the grain (part of the storage format).</param>
/// <param name="storageName">The storage provider; null means the host's default.</param>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute(string stateName, string? storageName = null) : Attribute
{
    public string StateName { get; } = stateName;

    public string? StorageName { get; } = storageName;
}
