using System.Text;
using Federation.Core.Governance;
using Federation.Storage.Files;

namespace Federation.Storage.Governance;

/// <summary>
/// <c>META-GOVERNANCE-LOG.md</c> (SPEC A): one entry per governance action — <c>FEDERATED_APPLY</c>,
/// <c>FEDERATED_QUARANTINE</c>, validator flags, review verdicts — each citing the receipt (scroll and seq)
/// that proves it. Appended and fsynced; the receipts, not this file, are the evidence (docs/formats/governance-log.md).
/// </summary>
public sealed class GovernanceLog(string path)
{
    public const string FileName = "META-GOVERNANCE-LOG.md";
    // The actions are named in Core (GovernanceLogEntries), where the entries are worded.
    public const string Apply = GovernanceLogEntries.Apply;
    public const string Quarantine = GovernanceLogEntries.Quarantine;
    public const string ValidatorFlagged = GovernanceLogEntries.ValidatorFlagged;
    public const string ReviewApproved = GovernanceLogEntries.ReviewApproved;
    public const string ReviewRejected = GovernanceLogEntries.ReviewRejected;

    private readonly Lock _lock = new();

    public string Path { get; } = path;

    /// <summary>Appends one entry worded in Core (<see cref="GovernanceLogEntries"/>).</summary>
    public void Append(GovernanceLogEntry entry) => Append(entry.Action, entry.FederationId, entry.Title, entry.Receipt, entry.Details);

    /// <summary>Appends one entry: a heading with the action, then "- key: value" lines (the first is the receipt).</summary>
    public void Append(string action, string federationId, string title, string receipt, IReadOnlyList<(string Key, string Value)> details)
    {
        var entry = new StringBuilder()
            .Append("## ").Append(action).Append(" — ").Append(federationId).Append(" — ").Append(GovernanceLogEntries.OneLine(title)).Append('\n')
            .Append("- receipt: `").Append(receipt).Append("`\n");
        foreach (var (key, value) in details)
        {
            entry.Append("- ").Append(key).Append(": ").Append(GovernanceLogEntries.OneLine(value)).Append('\n');
        }

        entry.Append('\n');
        lock (_lock)
        {
            var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
            Directory.CreateDirectory(directory);
            var created = !File.Exists(Path);
            using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
            if (created)
            {
                stream.Write("# META-GOVERNANCE-LOG\n\nGovernance actions of the federation coordinator. Every entry cites the receipt that proves it.\n\n"u8);
            }

            stream.Write(Encoding.UTF8.GetBytes(entry.ToString()));
            stream.Flush(flushToDisk: true);
            if (created)
            {
                DurableFile.SyncDirectory(directory);
            }
        }
    }

    /// <summary>
    /// Every entry as written (<see cref="Append(string, string, string, string, IReadOnlyList{ValueTuple{string, string}})"/>),
    /// in order, with its heading's federation and title and its "key: value" details, so a checker can compare each field
    /// with the receipt the entry cites. An entry that does not have that shape is returned with what could be read and
    /// named in <paramref name="problems"/>.
    /// </summary>
    public IReadOnlyList<GovernanceLogEntry> ReadEntries(List<string> problems)
    {
        var entries = new List<GovernanceLogEntry>();
        if (!File.Exists(Path))
        {
            return entries;
        }

        string? heading = null;
        string? receipt = null;
        var details = new List<(string, string)>();
        var lineNumber = 0;
        void Flush()
        {
            if (heading is null)
            {
                return;
            }

            var parts = heading.Split(" — ", 3);
            if (parts.Length != 3 || receipt is null)
            {
                problems.Add($"{FileName}: the entry \"## {heading}\" is not \"## ACTION — federation — title\" followed by \"- receipt: `…`\"");
            }
            else
            {
                entries.Add(new GovernanceLogEntry(parts[0], parts[1], parts[2], receipt, [.. details]));
            }

            heading = null;
            receipt = null;
            details.Clear();
        }

        foreach (var line in File.ReadLines(Path))
        {
            lineNumber++;
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                Flush();
                heading = line[3..];
            }
            else if (heading is not null && receipt is null && line.StartsWith("- receipt: `", StringComparison.Ordinal) && line.EndsWith('`'))
            {
                receipt = line["- receipt: `".Length..^1];
            }
            else if (heading is not null && line.StartsWith("- ", StringComparison.Ordinal) && line.IndexOf(": ", StringComparison.Ordinal) is > 2 and var colon)
            {
                details.Add((line[2..colon], line[(colon + 2)..]));
            }
            else if (heading is not null && line.Length > 0)
            {
                problems.Add($"{FileName} line {lineNumber}: not a \"- key: value\" line of the entry \"## {heading}\"");
            }
        }

        Flush();
        return entries;
    }

    /// <summary>The entries' actions and receipts, in order (for checks such as the M5 compliance validator).</summary>
    public IReadOnlyList<(string Action, string Receipt)> Entries()
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        var entries = new List<(string, string)>();
        string? action = null;
        foreach (var line in File.ReadLines(Path))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                action = line[3..].Split(' ')[0];
            }
            else if (action is not null && line.StartsWith("- receipt: `", StringComparison.Ordinal))
            {
                entries.Add((action, line["- receipt: `".Length..].TrimEnd('`')));
                action = null;
            }
        }

        return entries;
    }
}
