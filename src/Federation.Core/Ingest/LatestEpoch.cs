namespace Federation.Core.Ingest;

/// <summary>
/// A value made once per epoch and shared (it must be immutable): every update of an epoch gets the same one. Holds
/// the latest epoch's only; another epoch's is made afresh. Thread-safe: readers see a whole (epoch, value) pair.
/// </summary>
internal sealed class LatestEpoch<T>(Func<long, T> make)
{
    private Entry? _latest;

    public T For(long epoch)
    {
        if (_latest is { } latest && latest.Epoch == epoch)
        {
            return latest.Value;
        }

        var value = make(epoch);
        _latest = new Entry(epoch, value);
        return value;
    }

    private sealed record Entry(long Epoch, T Value);
}
