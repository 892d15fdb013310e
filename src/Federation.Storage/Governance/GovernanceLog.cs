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
            .Append("## ").Append(action).Append(" — ").Append(federationId).Append(" — ").Append(title).Append('\n')
            .Append("- receipt: `").Append(receipt).Append("`\n");
        foreach (var (key, value) in details)
        {
            entry.Append("- ").Append(key).Append(": ").Append(value.Replace('\n', ' ')).Append('\n');
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
