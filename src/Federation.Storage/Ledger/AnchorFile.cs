using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Checkpoints;
using Federation.Core.Scrolls;
using Federation.Storage.Files;

namespace Federation.Storage.Ledger;

/// <summary>One anchored checkpoint: the scroll, its size and root, and the signed note itself.</summary>
public sealed record AnchorEntry(string Scroll, long Size, string RootBase64, string AnchoredAt, string Checkpoint)
{
    public JsonObject ToJson() => new()
    {
        ["anchored_at"] = AnchoredAt,
        ["checkpoint"] = Checkpoint,
        ["root"] = RootBase64,
        ["scroll"] = Scroll,
        ["size"] = Size,
    };

    public static AnchorEntry FromLine(ReadOnlySpan<byte> line)
    {
        var obj = CanonicalJson.Parse(line) as JsonObject ?? throw new FormatException("an anchor entry must be a JSON object");
        string Str(string name) => obj[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"anchor member \"{name}\" must be a string");
        var size = obj["size"] is JsonValue sv && sv.TryGetValue<double>(out var d) && d >= 0 && d == Math.Floor(d) ? (long)d : throw new FormatException("anchor member \"size\" must be a non-negative integer");
        return new AnchorEntry(Str("scroll"), size, Str("root"), Str("anchored_at"), Str("checkpoint"));
    }
}

/// <summary>
/// The local anchor backend (SPEC E, "local file first"): an append-only JSONL file, default
/// <c>artifacts/merkle/meta_M5.merk</c>, one canonical <see cref="AnchorEntry"/> per line, each
/// append fsynced. A torn last line (a crash mid-append) is ignored on read and cut on the next append,
/// after being copied to <c>&lt;file&gt;.torn</c>.
/// </summary>
public sealed class AnchorFile(string path)
{
    public const string DefaultPath = "artifacts/merkle/meta_M5.merk";

    public string Path { get; } = path;

    public IReadOnlyList<AnchorEntry> ReadAll()
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        var bytes = File.ReadAllBytes(Path);
        var entries = new List<AnchorEntry>();
        var start = 0;
        var lineNumber = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != (byte)'\n')
            {
                continue;
            }

            lineNumber++;
            try
            {
                entries.Add(AnchorEntry.FromLine(bytes.AsSpan(start, i - start)));
            }
            catch (FormatException ex)
            {
                throw new FormatException($"{Path} line {lineNumber}: {ex.Message}", ex);
            }

            start = i + 1;
        }

        return entries;
    }

    public AnchorEntry? Latest(string scroll) => ReadAll().LastOrDefault(e => e.Scroll == scroll);

    /// <summary>Appends one entry durably (fsync before returning).</summary>
    public void Append(AnchorEntry entry)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        var created = !File.Exists(Path);
        Directory.CreateDirectory(directory);
        using var stream = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        CutTornTail(stream);
        stream.Seek(0, SeekOrigin.End);
        stream.Write(CanonicalJson.Write(entry.ToJson()));
        stream.WriteByte((byte)'\n');
        stream.Flush(flushToDisk: true);
        if (created)
        {
            DurableFile.SyncDirectory(directory);
        }
    }

    private void CutTornTail(FileStream stream)
    {
        if (stream.Length == 0)
        {
            return;
        }

        var buffer = new byte[stream.Length];
        stream.Seek(0, SeekOrigin.Begin);
        stream.ReadExactly(buffer);
        var lastNewline = Array.LastIndexOf(buffer, (byte)'\n');
        var keep = lastNewline + 1;
        if (keep == buffer.Length)
        {
            return;
        }

        using (var torn = new FileStream(Path + ".torn", FileMode.Append, FileAccess.Write))
        {
            torn.Write(buffer.AsSpan(keep));
            torn.WriteByte((byte)'\n');
            torn.Flush(flushToDisk: true);
        }

        stream.SetLength(keep);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Creates an entry from a signed checkpoint note (its body gives size and root).</summary>
    public static AnchorEntry EntryFor(string scroll, string note, DateTimeOffset now)
    {
        var (text, _) = SignedNote.Split(note);
        var checkpoint = Core.Checkpoints.Checkpoint.Parse(text);
        return new AnchorEntry(scroll, checkpoint.Size, Convert.ToBase64String(checkpoint.Root.ToArray()), Receipt.FormatTime(now), note);
    }

    internal static string Describe(AnchorEntry entry) => $"{entry.Scroll}@{entry.Size}";

    internal static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
