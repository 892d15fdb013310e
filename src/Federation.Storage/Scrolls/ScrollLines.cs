namespace Federation.Storage.Scrolls;

/// <summary>The rules every stored line obeys: non-empty, no '\n' or '\r', at most the configured size.</summary>
public static class ScrollLines
{
    public const byte NewLine = (byte)'\n';
    private const byte CarriageReturn = (byte)'\r';

    /// <exception cref="InvalidScrollLineException">The line breaks a rule; the message says which and at what seq.</exception>
    public static void Validate(byte[]? line, long seq, int maxLineBytes)
    {
        if (line is null || line.Length == 0)
        {
            throw new InvalidScrollLineException($"line for seq {seq} is empty; a scroll line must have at least one byte");
        }

        if (line.Length > maxLineBytes)
        {
            throw new InvalidScrollLineException($"line for seq {seq} has {line.Length} bytes; the limit is {maxLineBytes} (MaxLineBytes)");
        }

        var bad = line.AsSpan().IndexOfAny(NewLine, CarriageReturn);
        if (bad >= 0)
        {
            var name = line[bad] == NewLine ? "'\\n'" : "'\\r'";
            throw new InvalidScrollLineException($"line for seq {seq} contains {name} at byte {bad}; a scroll line must not contain '\\n' or '\\r'");
        }
    }
}

/// <summary>A line refused by <see cref="ScrollLines.Validate"/>; nothing of its append was written.</summary>
public sealed class InvalidScrollLineException(string message) : ArgumentException(message);

/// <summary>A scroll that refuses appends after a failure it cannot recover from in place (e.g. a failed fsync).</summary>
public sealed class ScrollFailedException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>The scroll has an open writer in this store instance already (one writer per scroll and store).</summary>
public sealed class ScrollAlreadyOpenException(string scroll) : InvalidOperationException($"scroll {scroll} is already open in this store instance")
{
    public string Scroll { get; } = scroll;
}

/// <summary>A read-only open of a scroll the store does not have: reading never creates one.</summary>
public sealed class ScrollNotFoundException(string scroll, string detail) : IOException($"scroll {scroll} does not exist ({detail})")
{
    public string Scroll { get; } = scroll;
}
