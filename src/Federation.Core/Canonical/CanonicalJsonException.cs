namespace Federation.Core.Canonical;

/// <summary>
/// Input that RFC 8785 (JCS) cannot represent, or JSON that does not parse.
/// The message says what was wrong and, where known, where (a byte offset or a JSON path).
/// </summary>
public sealed class CanonicalJsonException(string message, Exception? inner = null)
    : FormatException(message, inner);
