using System.Globalization;

namespace Federation.Core.Scrolls;

/// <summary>
/// Origin generations (docs/formats/checkpoint.md): a scroll never signs two trees of one size under one origin. Its
/// first generation signs under its base origin <c>&lt;prefix&gt;/&lt;scroll&gt;</c>; a rollback cuts receipts the
/// old origin has signed, so the scroll goes on under <c>&lt;base&gt;/g&lt;N&gt;</c>, N = 2, 3, …, whose first receipt
/// cites the old generation's anchored checkpoint. Scroll names have no '/', so the suffix is unambiguous.
/// </summary>
public static class ScrollGenerations
{
    public const int First = 1;

    private const string Marker = "/g";

    public static string OriginOf(string baseOrigin, int generation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(generation, First);
        return generation == First ? baseOrigin : baseOrigin + Marker + generation.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The generation of <paramref name="origin"/> among the origins of <paramref name="baseOrigin"/>, or null when it is none of them.</summary>
    public static int? Of(string origin, string baseOrigin)
    {
        if (origin == baseOrigin)
        {
            return First;
        }

        if (!origin.StartsWith(baseOrigin + Marker, StringComparison.Ordinal))
        {
            return null;
        }

        var digits = origin.AsSpan(baseOrigin.Length + Marker.Length);
        return digits.Length is > 0 and <= 9 && digits[0] != '0' && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > First
            ? n
            : null;
    }

    /// <summary>
    /// The generation of a checkpoint origin of scroll <paramref name="scroll"/> when the prefix is not known (a bundle):
    /// <c>…/&lt;scroll&gt;</c> is 1, <c>…/&lt;scroll&gt;/g&lt;N&gt;</c> is N; null when the origin is not the scroll's.
    /// </summary>
    public static int? OfScroll(string origin, string scroll)
    {
        if (origin.EndsWith("/" + scroll, StringComparison.Ordinal))
        {
            return First;
        }

        var marker = origin.LastIndexOf(Marker, StringComparison.Ordinal);
        return marker > 0 && origin[..marker].EndsWith("/" + scroll, StringComparison.Ordinal) ? Of(origin, origin[..marker]) : null;
    }

    /// <summary>The first line of a checkpoint note: its origin.</summary>
    public static string OriginLine(string note)
    {
        var end = note.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? note : note[..end];
    }
}
