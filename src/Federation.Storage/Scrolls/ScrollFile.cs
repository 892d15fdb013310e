namespace Federation.Storage.Scrolls;

/// <summary>
/// Reads a scroll file (<c>&lt;scroll&gt;.jsonl</c>, docs/formats/scroll-storage.md) without opening the store: no lock,
/// no repair, nothing written. For offline verification of a copied scroll, or of one another process is appending to.
/// </summary>
public static class ScrollFile
{
    private const int BufferBytes = 1024 * 1024;

    /// <summary>
    /// The complete lines of the file in seq order, as of its length when opened (a snapshot, even while another
    /// process appends); bytes after the last '\n' (a torn tail, or a write in progress) are not returned.
    /// A blank line is corruption.
    /// </summary>
    /// <exception cref="InvalidDataException">The file has a blank line (the message names its seq and offset).</exception>
    public static IEnumerable<StoredLine> ReadCommittedLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        var length = RandomAccess.GetLength(stream.SafeFileHandle);
        var buffer = new byte[BufferBytes];
        var filled = 0;
        long offset = 0; // file offset of buffer[0]
        long seq = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var read = stream.Read(buffer, filled, (int)Math.Min(buffer.Length - filled, length - offset - filled));
            if (read == 0)
            {
                yield break;
            }

            filled += read;
            var consumed = 0;
            int newline;
            while ((newline = buffer.AsSpan(consumed, filled - consumed).IndexOf(ScrollLines.NewLine)) >= 0)
            {
                if (newline == 0)
                {
                    throw new InvalidDataException($"{path} is corrupt: line {seq} at byte {offset + consumed} is empty");
                }

                yield return new StoredLine(seq++, buffer[consumed..(consumed + newline)]);
                consumed += newline + 1;
            }

            Array.Copy(buffer, consumed, buffer, 0, filled - consumed);
            filled -= consumed;
            offset += consumed;
        }
    }
}
