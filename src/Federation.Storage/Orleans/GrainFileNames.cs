using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Federation.Storage.Orleans;

/// <summary>
/// File names for grain types, keys, state and storage names: bytes outside <c>[A-Za-z0-9_-]</c> are written
/// <c>%XX</c> (UTF-8, upper-case hex), so distinct names never share a file and no name can climb out of its
/// folder; the empty name is <c>%</c>; a name whose escaped form exceeds <see cref="MaxEscapedLength"/> becomes
/// <c>~</c> + the lower-case hex SHA-256 of its UTF-8 bytes. The same escaping as the old grain host's files
/// (docs/formats/grain-state.md), so their paths are unchanged.
/// </summary>
public static class GrainFileNames
{
    /// <summary>Below NAME_MAX (255 bytes) with room for ".&lt;state&gt;.json" and the temp-file decoration of DurableFile.</summary>
    public const int MaxEscapedLength = 160;

    public static string Escape(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var bytes = Encoding.UTF8.GetBytes(name);
        if (bytes.Length == 0)
        {
            return "%";
        }

        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_' or (byte)'-')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.Length <= MaxEscapedLength ? builder.ToString() : "~" + Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
