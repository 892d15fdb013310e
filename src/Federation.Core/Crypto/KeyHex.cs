using System.Collections.Concurrent;

namespace Federation.Core.Crypto;

/// <summary>
/// One string per key's hex spelling: every update names its node twice (<c>node_fingerprint</c> and the
/// signature's <c>key</c>), and a federation's nodes are few beside its updates, so parsing returns the string
/// already made for the same digits (no allocation; equal keys compare by reference first). Bounded: past
/// <see cref="Capacity"/> spellings the table starts over (nothing is lost but the sharing).
/// </summary>
internal static class KeyHex
{
    public const int Capacity = 1 << 18;

    private static readonly ConcurrentDictionary<string, string> s_spellings = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> s_bySpan = s_spellings.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The string of these ASCII hex digits (the caller has checked them; at most 128).</summary>
    public static string Get(ReadOnlySpan<byte> asciiHex)
    {
        Span<char> chars = stackalloc char[asciiHex.Length];
        System.Text.Ascii.ToUtf16(asciiHex, chars, out _);

        if (s_bySpan.TryGetValue(chars, out var known))
        {
            return known;
        }

        if (s_spellings.Count >= Capacity)
        {
            s_spellings.Clear();
        }

        var made = new string(chars);
        return s_spellings.GetOrAdd(made, made);
    }
}
