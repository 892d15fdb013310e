namespace Federation.Grains.Scroll;

/// <summary>Reads a whole scroll through its grain, a page of <see cref="IScrollGrain.MaxReadCount"/> receipts per call.</summary>
public static class ScrollReader
{
    public static async IAsyncEnumerable<byte[]> ReadAllAsync(IScrollGrain scroll)
    {
        var size = (await scroll.HeadAsync()).Size;
        for (long from = 0; from < size; from += IScrollGrain.MaxReadCount)
        {
            foreach (var line in await scroll.ReadAsync(from, Math.Min(size, from + IScrollGrain.MaxReadCount)))
            {
                yield return line;
            }
        }
    }
}
