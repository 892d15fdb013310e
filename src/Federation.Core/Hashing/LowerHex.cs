namespace Federation.Core.Hashing;

/// <summary>Lowercase hex in UTF-8 (the only spelling digests and fingerprints accept).</summary>
internal static class LowerHex
{
    private static readonly System.Buffers.SearchValues<byte> Digits = System.Buffers.SearchValues.Create("0123456789abcdef"u8);

    public static bool IsValid(ReadOnlySpan<byte> hex) => !hex.ContainsAnyExcept(Digits);

    /// <summary>Decodes exactly <c>destination.Length * 2</c> lowercase hex digits; false on any other byte.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> hex, Span<byte> destination)
    {
        if (hex.Length != destination.Length * 2 || !IsValid(hex))
        {
            return false;
        }

        for (var i = 0; i < destination.Length; i++)
        {
            int high = Value(hex[2 * i]), low = Value(hex[(2 * i) + 1]);
            if ((high | low) < 0)
            {
                return false;
            }

            destination[i] = (byte)((high << 4) | low);
        }

        return true;
    }

    private static int Value(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => -1,
    };
}
