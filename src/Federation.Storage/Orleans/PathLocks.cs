namespace Federation.Storage.Orleans;

/// <summary>
/// Locks striped by file path, for the version checks of the file providers. Process-wide on purpose: two
/// provider instances over one directory (two silos of a test cluster in one process) must not both pass a
/// check. Bounded: <see cref="Stripes"/> locks whatever the number of grains.
/// </summary>
internal static class PathLocks
{
    public const int Stripes = 64;

    private static readonly Lock[] Locks = [.. Enumerable.Range(0, Stripes).Select(_ => new Lock())];

    public static Lock For(string fullPath) => Locks[(uint)StringComparer.Ordinal.GetHashCode(fullPath) % Stripes];

    /// <summary>Returns once no check-and-write that was in flight when called is still running.</summary>
    public static void WaitForWritesInFlight()
    {
        foreach (var stripe in Locks)
        {
            lock (stripe)
            {
                // the write in flight on this stripe has ended
            }
        }
    }
}
