using Orleans;

namespace Federation.Storage.Orleans;

/// <summary>
/// A stored grain state (or reminder row) that this build cannot read: damaged, truncated, hand-edited, or written
/// by a build with members this one does not know. The message says which state and what is wrong with it; the
/// state is left as it is for an operator to repair or remove. Serializable by Orleans: it reaches the caller whose
/// call failed the activation (inside Orleans' storage exception).
/// </summary>
[GenerateSerializer]
[Alias("fed.grain-state-format-exception")]
public sealed class GrainStateFormatException : Exception
{
    public GrainStateFormatException(string message)
        : base(message)
    {
    }

    public GrainStateFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
