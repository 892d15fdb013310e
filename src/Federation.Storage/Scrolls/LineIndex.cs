namespace Federation.Storage.Scrolls;

/// <summary>
/// End offset of every line of a scroll file (8 bytes per line), so a seq range maps to one byte range.
/// One writer; readers see a consistent prefix: entries are written before <see cref="Count"/> is published,
/// and chunks never move once allocated.
/// </summary>
internal sealed class LineIndex
{
    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;
    private const int ChunkMask = ChunkSize - 1;

    private long[][] _chunks = [];
    private long _count;

    public long Count => Volatile.Read(ref _count);

    /// <summary>Byte offset just past the '\n' of line <paramref name="seq"/>.</summary>
    public long EndOf(long seq) => Volatile.Read(ref _chunks)[seq >> ChunkBits][seq & ChunkMask];

    /// <summary>Byte offset of the first byte of line <paramref name="seq"/> (<paramref name="seq"/> may equal Count: the end of the file).</summary>
    public long StartOf(long seq) => seq == 0 ? 0 : EndOf(seq - 1);

    /// <summary>Writer only.</summary>
    public void Add(long endOffset)
    {
        var count = _count;
        var chunk = (int)(count >> ChunkBits);
        var chunks = _chunks;
        if (chunk == chunks.Length)
        {
            var grown = new long[chunks.Length + 1][];
            Array.Copy(chunks, grown, chunks.Length);
            grown[chunk] = new long[ChunkSize];
            Volatile.Write(ref _chunks, grown);
            chunks = grown;
        }

        if (count > 0 && endOffset <= chunks[(count - 1) >> ChunkBits][(count - 1) & ChunkMask])
        {
            throw new InvalidOperationException($"line index invariant broken: end offset {endOffset} of line {count} does not follow the previous line's");
        }

        chunks[chunk][count & ChunkMask] = endOffset;
        Volatile.Write(ref _count, count + 1);
    }

    /// <summary>Writer only, with readers excluded.</summary>
    public void Truncate(long count)
    {
        if (count < 0 || count > _count)
        {
            throw new InvalidOperationException($"line index invariant broken: cannot truncate {_count} lines to {count}");
        }

        Volatile.Write(ref _count, count);
    }
}
