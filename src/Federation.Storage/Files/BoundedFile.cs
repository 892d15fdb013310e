namespace Federation.Storage.Files;

/// <summary>Reads a whole input file only when it is within a limit: a hostile or mistaken input never takes unbounded memory.</summary>
public static class BoundedFile
{
    /// <param name="raise">How the reader raises the limit (an option such as <c>--max-bytes</c>), named in the error; null when it cannot.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file is larger than <paramref name="limitBytes"/> (the message gives both sizes).</exception>
    public static byte[] ReadAllBytes(string path, long limitBytes, string? raise = null)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"{path} does not exist", path);
        }

        if (info.Length > limitBytes)
        {
            throw new IOException($"{path} is {info.Length} bytes, over the {limitBytes}-byte limit" + (raise is null ? string.Empty : $" (raise it with {raise})"));
        }

        // Read through one handle, bounded again: the file may grow between the check and the read.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        var buffer = new byte[info.Length];
        var filled = 0;
        while (filled < buffer.Length && stream.Read(buffer, filled, buffer.Length - filled) is > 0 and var read)
        {
            filled += read;
        }

        return filled == buffer.Length ? buffer : buffer[..filled];
    }
}
