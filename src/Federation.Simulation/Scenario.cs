using System.Text.Json;
using System.Text.Json.Serialization;
using Federation.Core.Consensus;
using Federation.Core.Scrolls;

namespace Federation.Simulation;

/// <summary>What a node does wrong, and in which epochs (docs/formats/scenario.md).</summary>
public enum NodeFaultKind
{
    /// <summary>Submits an outlier payload (statistical divergence; quarantined after a streak).</summary>
    Divergent,

    /// <summary>Signs two different updates for one epoch (cryptographic evidence: quarantined at once).</summary>
    Equivocation,

    /// <summary>Sends an update whose signature does not verify (refused at the gateway).</summary>
    BadSignature,

    /// <summary>Sends an update whose update_hash does not match its payload (refused).</summary>
    WrongHash,

    /// <summary>Replays its previous epoch's signed update (refused or a duplicate; never counted twice).</summary>
    StaleEpoch,

    /// <summary>Reports a ledger head that contradicts the coordinator's scroll (evidence: quarantined).</summary>
    LyingLedgerHead,

    /// <summary>Cut off: sends nothing in these epochs, caches its updates and resends them after (late).</summary>
    Partitioned,

    /// <summary>Crashed: sends nothing in these epochs (and nothing is resent).</summary>
    Crashed,
}

public sealed record NodeFault(
    [property: JsonPropertyName("node")] int Node,
    [property: JsonPropertyName("kind")] NodeFaultKind Kind,
    [property: JsonPropertyName("epochs")] IReadOnlyList<long> Epochs);

public sealed record ValidatorFault(
    [property: JsonPropertyName("validator")] int Validator,
    [property: JsonPropertyName("behaviour")] ValidatorBehaviour Behaviour);

/// <summary>Network faults the driver models between nodes and the coordinator (probabilities per submission).</summary>
public sealed record NetworkFaults(
    [property: JsonPropertyName("duplicate")] double Duplicate = 0,
    [property: JsonPropertyName("drop")] double Drop = 0,
    [property: JsonPropertyName("reorder")] bool Reorder = false);

/// <summary>A simulation scenario (JSON, docs/formats/scenario.md).</summary>
public sealed record Scenario(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("federation")] string Federation,
    [property: JsonPropertyName("nodes")] int Nodes,
    [property: JsonPropertyName("validators")] int Validators,
    [property: JsonPropertyName("epochs")] int Epochs,
    [property: JsonPropertyName("dimension")] int Dimension = Scenario.DefaultDimension,
    [property: JsonPropertyName("join_epochs")] IReadOnlyDictionary<string, long>? JoinEpochs = null,
    [property: JsonPropertyName("node_faults")] IReadOnlyList<NodeFault>? NodeFaults = null,
    [property: JsonPropertyName("validator_faults")] IReadOnlyList<ValidatorFault>? ValidatorFaults = null,
    [property: JsonPropertyName("network")] NetworkFaults? Network = null,
    [property: JsonPropertyName("coordinator_crashes")] IReadOnlyList<long>? CoordinatorCrashes = null)
{
    public const int DefaultDimension = 4;
    public const int MaxNodes = 100_000;
    public const int MaxEpochs = 1_000;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    public IReadOnlyList<NodeFault> NodeFaultList => NodeFaults ?? [];

    public IReadOnlyList<ValidatorFault> ValidatorFaultList => ValidatorFaults ?? [];

    public NetworkFaults NetworkFaultsOrNone => Network ?? new NetworkFaults();

    /// <summary>Whether the coordinator crashes (killed, no graceful stop) in the middle of this epoch's submissions.</summary>
    public bool CoordinatorCrashesIn(long epoch) => CoordinatorCrashes?.Contains(epoch) ?? false;

    /// <summary>The epoch node <paramref name="node"/> joins in (1 unless the scenario says otherwise).</summary>
    public long JoinEpochOf(int node) => JoinEpochs?.GetValueOrDefault(node.ToString(System.Globalization.CultureInfo.InvariantCulture), 1) ?? 1;

    public bool HasFault(int node, NodeFaultKind kind, long epoch) => NodeFaultList.Any(f => f.Node == node && f.Kind == kind && f.Epochs.Contains(epoch));

    /// <summary>A scenario is settings, not data: 16 MiB holds per-node join epochs and faults for far more nodes than a run can take.</summary>
    public const long DefaultMaxBytes = 16L * 1024 * 1024;

    public static Scenario Load(string path, long maxBytes = DefaultMaxBytes, string? raise = null) =>
        Parse(global::Federation.Storage.Files.BoundedFile.ReadAllBytes(path, maxBytes, raise));

    public static Scenario Parse(byte[] json)
    {
        Scenario scenario;
        try
        {
            scenario = JsonSerializer.Deserialize<Scenario>(json, JsonOptions) ?? throw new FormatException("the scenario is null");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"scenario: {Describe(ex)}", ex);
        }

        return scenario.Validate();
    }

    /// <summary>
    /// A deserialization error in the scenario's own words: the member (its JSON path), what it must be — for an enum
    /// every valid value — and where; never a .NET type name.
    /// </summary>
    private static string Describe(JsonException ex)
    {
        var path = ex.Path ?? "$";
        var where = ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : string.Empty;
        var (expected, members) = Expected(path);
        var parent = System.Text.RegularExpressions.Regex.Replace(path, @"(\.[^.\[]+|\[[^\]]*\])$", string.Empty) is { Length: > 0 } p ? p : "$";
        var unknown = System.Text.RegularExpressions.Regex.Match(ex.Message, "The JSON property '([^']*)' could not be mapped");
        if (unknown.Success)
        {
            return $"unknown member \"{unknown.Groups[1].Value}\" in {parent}{where}; the members are {string.Join(", ", members)}";
        }

        var duplicate = System.Text.RegularExpressions.Regex.Match(ex.Message, "[Dd]uplicate property '([^']*)'");
        if (duplicate.Success)
        {
            return $"member \"{duplicate.Groups[1].Value}\" appears twice in {parent}{where}";
        }

        return expected is null
            ? $"{path} is not valid here{where}: {ex.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0]}"
            : $"{path} must be {expected}{where}";
    }

    /// <summary>What the member at a JSON path must be, and (for an object) the members it may have.</summary>
    private static (string? Expected, IReadOnlyList<string> Members) Expected(string path)
    {
        var type = typeof(Scenario);
        foreach (var segment in System.Text.RegularExpressions.Regex.Matches(path, @"\.([A-Za-z_][A-Za-z0-9_]*)|\['([^']*)'\]|\[(\d+)\]"))
        {
            var match = (System.Text.RegularExpressions.Match)segment;
            if (match.Groups[3].Success)
            {
                type = ElementType(type);
            }
            else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
            {
                type = type.GetGenericArguments()[1];
            }
            else
            {
                var name = match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
                var property = type.GetProperties().FirstOrDefault(p => p.GetCustomAttributes(typeof(JsonPropertyNameAttribute), false).Cast<JsonPropertyNameAttribute>().Any(a => a.Name == name));
                if (property is null)
                {
                    return (null, MembersOf(type));
                }

                type = property.PropertyType;
            }
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        var members = MembersOf(type);
        if (type.IsEnum)
        {
            return ("one of " + string.Join(", ", Enum.GetNames(type).Select(n => JsonNamingPolicy.SnakeCaseLower.ConvertName(n))), members);
        }

        return (type switch
        {
            _ when type == typeof(int) || type == typeof(long) => "an integer",
            _ when type == typeof(double) => "a number",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(string) => "a string",
            _ when type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) => "an object",
            _ when type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) => "an array",
            _ => members.Count > 0 ? "an object with the members " + string.Join(", ", members) : null,
        }, members);
    }

    private static Type ElementType(Type list) =>
        list.IsGenericType && list.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? list.GetGenericArguments()[0] : typeof(object);

    private static IReadOnlyList<string> MembersOf(Type type) =>
        type.GetProperties()
            .SelectMany(p => p.GetCustomAttributes(typeof(JsonPropertyNameAttribute), false).Cast<JsonPropertyNameAttribute>())
            .Select(a => a.Name)
            .ToList();

    public Scenario Validate()
    {
        Require(!string.IsNullOrWhiteSpace(Name) && Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'), "name must be letters, digits, '-', '_' or '.'");
        FederationScrolls.ValidateFederationId(Federation);
        Require(Nodes is >= 1 and <= MaxNodes, $"nodes must be between 1 and {MaxNodes}");
        Require(Validators >= 4 && (Validators - 1) % 3 == 0, "validators must be 3f + 1 with f ≥ 1 (4, 7, 10, …)");
        Require(Epochs is >= 1 and <= MaxEpochs, $"epochs must be between 1 and {MaxEpochs}");
        Require(Dimension is >= 1 and <= 1024, "dimension must be between 1 and 1024");
        foreach (var fault in NodeFaultList)
        {
            Require(fault.Node >= 0 && fault.Node < Nodes, $"node fault names node {fault.Node}; nodes are 0 … {Nodes - 1}");
            Require(fault.Epochs.Count > 0 && fault.Epochs.All(e => e >= 1 && e <= Epochs), $"node fault {fault.Kind} of node {fault.Node}: epochs must be between 1 and {Epochs}");
        }

        foreach (var fault in ValidatorFaultList)
        {
            Require(fault.Validator >= 0 && fault.Validator < Validators, $"validator fault names validator {fault.Validator}; validators are 0 … {Validators - 1}");
        }

        Require((CoordinatorCrashes ?? []).All(e => e >= 1 && e <= Epochs), $"coordinator_crashes: epochs must be between 1 and {Epochs}");
        Require(ValidatorFaultList.Select(f => f.Validator).Distinct().Count() == ValidatorFaultList.Count, "a validator has more than one fault");
        var network = NetworkFaultsOrNone;
        Require(network.Duplicate is >= 0 and <= 1 && network.Drop is >= 0 and <= 1, "network probabilities must be between 0 and 1");
        foreach (var (node, epoch) in JoinEpochs ?? new Dictionary<string, long>())
        {
            Require(int.TryParse(node, out var n) && n >= 0 && n < Nodes && epoch >= 1 && epoch <= Epochs, $"join_epochs \"{node}\": {epoch} names no node or epoch of the scenario");
        }

        return this;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new FormatException($"scenario: {message}");
        }
    }
}
