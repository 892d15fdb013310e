using System.Security.Cryptography;

namespace Federation.Testing;

/// <summary>
/// Every directory and file under a root, files by SHA-256 of their bytes: "reading never writes" is a snapshot taken
/// before and compared after (issue 20). Names, contents and the set of directories count; times do not.
/// </summary>
public sealed class TreeSnapshot
{
    private readonly string _root;
    private readonly SortedDictionary<string, string> _entries;

    private TreeSnapshot(string root, SortedDictionary<string, string> entries)
    {
        _root = root;
        _entries = entries;
    }

    public int Count => _entries.Count;

    public static TreeSnapshot Of(string root)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var directory in Directory.GetDirectories(root, "*", SearchOption.AllDirectories))
        {
            entries[Path.GetRelativePath(root, directory) + "/"] = "directory";
        }

        foreach (var file in Directory.GetFiles(root, "*", SearchOption.AllDirectories))
        {
            entries[Path.GetRelativePath(root, file)] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
        }

        return new TreeSnapshot(root, entries);
    }

    /// <summary>Every entry created, removed or changed since <paramref name="before"/> (empty: the same tree).</summary>
    public IReadOnlyList<string> DifferencesFrom(TreeSnapshot before)
    {
        var differences = new List<string>();
        foreach (var (path, hash) in _entries)
        {
            if (!before._entries.TryGetValue(path, out var old))
            {
                differences.Add($"created {path}");
            }
            else if (old != hash)
            {
                differences.Add($"changed {path}");
            }
        }

        differences.AddRange(before._entries.Keys.Where(path => !_entries.ContainsKey(path)).Select(path => $"removed {path}"));
        return differences.Select(d => $"{d} (under {_root})").ToList();
    }
}
