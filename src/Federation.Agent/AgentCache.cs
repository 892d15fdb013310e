using System.Globalization;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Storage.Files;

namespace Federation.Agent;

/// <summary>A receipt the coordinator acknowledged for one of the node's updates, and whether its inclusion has been checked.</summary>
public sealed record AckedUpdate(long Epoch, string Disposition, string ReceiptId, long Seq, string LeafHash, bool Included);

/// <summary>
/// What a node agent keeps on disk (<c>--cache-dir</c>, one folder per federation and node), every file written
/// atomically and fsynced: <c>state.json</c> (its session, the last epoch it submitted for, its heartbeat sequence,
/// the global state it last checked, its acknowledged receipts) and <c>pending/&lt;epoch&gt;.json</c>, each a signed update
/// not yet acknowledged, written before it is first sent. A restarted agent sends a pending update again byte for byte:
/// the coordinator answers <c>duplicate</c> if it had it — never two different updates for one epoch.
/// </summary>
public sealed class AgentCache
{
    private const string Format = "fed-agent-cache/v1";

    private AgentCache(string directory) => Directory = directory;

    public string Directory { get; }

    public string? LedgerBlockId { get; set; }

    public long LastSubmittedEpoch { get; set; }

    public long HeartbeatSequence { get; set; }

    /// <summary>The epoch whose committed state the node holds (0: genesis), its state hash and aggregate.</summary>
    public long StateEpoch { get; set; }

    public string? StateHash { get; set; }

    public JsonObject? Aggregate { get; set; }

    public List<AckedUpdate> Acked { get; } = [];

    private string PendingDirectory => Path.Combine(Directory, "pending");

    private string StatePath => Path.Combine(Directory, "state.json");

    public static AgentCache Open(string root, string federation, KeyFingerprint node)
    {
        var directory = Path.Combine(root, federation, node.ToString().Replace(':', '-'));
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "pending"));
        var cache = new AgentCache(directory);
        if (!File.Exists(cache.StatePath))
        {
            return cache;
        }

        try
        {
            var json = CanonicalJson.Parse(File.ReadAllBytes(cache.StatePath)) as JsonObject ?? throw new FormatException("not a JSON object");
            if (json["format"]?.GetValue<string>() != Format)
            {
                throw new FormatException($"\"format\" is not {Format}");
            }

            cache.LedgerBlockId = json["ledger_block_id"]?.GetValue<string>();
            cache.LastSubmittedEpoch = json["last_submitted_epoch"]!.GetValue<long>();
            cache.HeartbeatSequence = json["heartbeat_sequence"]!.GetValue<long>();
            cache.StateEpoch = json["state_epoch"]!.GetValue<long>();
            cache.StateHash = json["state_hash"]?.GetValue<string>();
            cache.Aggregate = json["aggregate"]?.DeepClone() as JsonObject;
            foreach (var a in json["acked"]!.AsArray())
            {
                cache.Acked.Add(new AckedUpdate(a!["epoch"]!.GetValue<long>(), a["disposition"]!.GetValue<string>(), a["receipt_id"]!.GetValue<string>(),
                    a["seq"]!.GetValue<long>(), a["leaf_hash"]!.GetValue<string>(), a["included"]!.GetValue<bool>()));
            }
        }
        catch (Exception ex) when (ex is FormatException or CanonicalJsonException or InvalidOperationException or NullReferenceException or System.Text.Json.JsonException)
        {
            throw new FormatException($"agent cache {cache.StatePath} is unusable: {ex.Message} (move it aside to start the node afresh)", ex);
        }

        return cache;
    }

    public void Save()
    {
        var json = new JsonObject
        {
            ["format"] = Format,
            ["ledger_block_id"] = LedgerBlockId,
            ["last_submitted_epoch"] = LastSubmittedEpoch,
            ["heartbeat_sequence"] = HeartbeatSequence,
            ["state_epoch"] = StateEpoch,
            ["state_hash"] = StateHash,
            ["aggregate"] = Aggregate?.DeepClone(),
            ["acked"] = new JsonArray([.. Acked.Select(a => (JsonNode?)new JsonObject
            {
                ["epoch"] = a.Epoch,
                ["disposition"] = a.Disposition,
                ["receipt_id"] = a.ReceiptId,
                ["seq"] = a.Seq,
                ["leaf_hash"] = a.LeafHash,
                ["included"] = a.Included,
            })]),
        };
        DurableFile.WriteAtomic(StatePath, CanonicalJson.Write(json), DurableFile.OwnerOnly);
    }

    /// <summary>Cached signed updates not yet acknowledged, in epoch order (the order they are sent again in).</summary>
    public IReadOnlyList<(long Epoch, byte[] Signed)> Pending() =>
        [.. System.IO.Directory.EnumerateFiles(PendingDirectory, "*.json")
            .Select(f => (Name: Path.GetFileNameWithoutExtension(f), Path: f))
            .Where(f => long.TryParse(f.Name, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .Select(f => (long.Parse(f.Name, CultureInfo.InvariantCulture), File.ReadAllBytes(f.Path)))
            .OrderBy(p => p.Item1)];

    public byte[]? PendingFor(long epoch) => File.Exists(PendingPath(epoch)) ? File.ReadAllBytes(PendingPath(epoch)) : null;

    /// <summary>Keeps a signed update, durably, before it is first sent.</summary>
    public void AddPending(long epoch, byte[] signed) => DurableFile.WriteAtomic(PendingPath(epoch), signed, DurableFile.OwnerOnly, overwrite: false);

    public void RemovePending(long epoch)
    {
        File.Delete(PendingPath(epoch));
        DurableFile.SyncDirectory(PendingDirectory);
    }

    private string PendingPath(long epoch) => Path.Combine(PendingDirectory, epoch.ToString("D12", CultureInfo.InvariantCulture) + ".json");
}
