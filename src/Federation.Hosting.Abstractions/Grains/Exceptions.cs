namespace Federation.Hosting;

/// <summary>
/// A request would close a cycle of non-reentrant calls (A → B → A). Orleans lets such a call wait for the
/// 30 s timeout; this host refuses it at once and names the chain.
/// </summary>
public sealed class DeadlockException(string message, IReadOnlyList<string> callChain) : Exception(message)
{
    /// <summary>The calls of the cycle, outermost first, ending with the refused call.</summary>
    public IReadOnlyList<string> CallChain { get; } = callChain;
}

/// <summary>The activation of a grain failed (construction, state load or <c>OnActivateAsync</c>); the inner exception says why.</summary>
public sealed class GrainActivationException(string message, Exception inner) : Exception(message, inner);

/// <summary>The host stopped or was killed while the request was queued or running.</summary>
public sealed class GrainHostStoppedException(string message) : Exception(message);
