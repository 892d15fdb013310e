using System.Security.Cryptography;
using System.Text;

namespace Federation.Hosting.Persistence;

/// <summary>
/// File names for grain keys: bytes outside [A-Za-z0-9_-] are written %XX (UTF-8), so distinct keys never
/// share a file and no key can climb out of its folder; keys whose escaped form exceeds
/// <see cref="MaxEscapedLength"/> become <c>~sha256hex</c> (documented in docs/formats/grain-state.md).
/// </summary>
public static class StoragePaths
{
    /// <summary>Below NAME_MAX (255 bytes) with room for ".json" and the temp-file decoration of DurableFile.</summary>
    public const int MaxEscapedLength = 160;

    public static string Escape(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_' or (byte)'-')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        if (builder.Length == 0)
        {
            return "%"; // the empty key
        }

        return builder.Length <= MaxEscapedLength ? builder.ToString() : "~" + Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
