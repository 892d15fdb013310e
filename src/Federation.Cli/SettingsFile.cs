using System.Text.Json;

namespace Federation.Cli;

/// <summary>
/// The checks every settings file (appsettings.json) passes before anything reads it: JSON (comments and trailing
/// commas allowed, as the configuration system allows them) with no member named twice in one object — the
/// configuration system matches names case-insensitively, so neither may <c>"DataDirectory"</c> and
/// <c>"datadirectory"</c>. A file that fails is unusable input naming the file and the place.
/// </summary>
public static class SettingsFile
{
    /// <summary>A settings file larger than this is refused unread (settings are a few kilobytes).</summary>
    public const long MaxBytes = 1024 * 1024;

    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 64 };

    /// <exception cref="FormatException">The file is not JSON, names a member twice, or is too large.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static JsonDocument Read(string path)
    {
        var length = new FileInfo(path).Length;
        if (length > MaxBytes)
        {
            throw new FormatException($"settings file {path} is {length} bytes, over the {MaxBytes}-byte limit");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), Options);
        }
        catch (JsonException ex)
        {
            var reason = ex.Message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0].TrimEnd();
            throw new FormatException($"settings file {path} is not valid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}: {reason}");
        }

        try
        {
            RefuseDuplicates(document.RootElement, "$", path);
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    private static void RefuseDuplicates(JsonElement element, string at, string path)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var member in element.EnumerateObject())
            {
                if (!seen.Add(member.Name))
                {
                    throw new FormatException($"settings file {path} names \"{member.Name}\" twice in {at} (names are matched without regard to case)");
                }

                RefuseDuplicates(member.Value, $"{at}.{member.Name}", path);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                RefuseDuplicates(item, $"{at}[{index++}]", path);
            }
        }
    }
}
