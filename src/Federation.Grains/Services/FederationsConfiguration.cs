using Federation.Core.Crypto;
using Federation.Core.Membership;
using Microsoft.Extensions.Configuration;

namespace Federation.Grains.Services;

/// <summary>
/// Reads the <c>Federations</c> section of appsettings.json: per federation its policy, governance key file,
/// reviewer public key files, inactivity timeout and seed registry of nodes (fingerprint, trust level, sync policy, capabilities).
/// Bad settings stop start-up with a message naming the setting.
/// </summary>
public static class FederationsConfiguration
{
    public const string SectionName = "Federations";

    /// <param name="loadGovernanceKeys">False for a reader: the governance keys (private) are not read, and nothing can be signed with them.</param>
    public static FederationDirectory Load(IConfiguration configuration, string baseDirectory, bool loadGovernanceKeys = true)
    {
        var federations = new List<FederationSettings>();
        foreach (var section in configuration.GetSection(SectionName).GetChildren())
        {
            var id = Require(section, "Id");
            string Setting(string name) => $"{SectionName}:{section.Key}:{name}";
            var aggregation = (section["Aggregation"] ?? "vector").ToLowerInvariant() switch
            {
                "vector" => AggregationKind.Vector,
                "canon" => AggregationKind.Canon,
                var other => throw new ArgumentException($"{Setting("Aggregation")} must be \"vector\" or \"canon\", got \"{other}\""),
            };
            var policy = new FederationPolicy(
                id,
                aggregation,
                section.GetSection("RequiredCapabilities").Get<string[]>() ?? [],
                section.GetValue("VectorDimension", FederationPolicy.DefaultVectorDimension),
                section.GetValue("MaxPayloadBytes", FederationPolicy.DefaultMaxPayloadBytes),
                section.GetValue("MaxDeltaBytes", FederationPolicy.DefaultMaxDeltaBytes));
            try
            {
                policy.Validate();
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"{SectionName}:{section.Key}: {ex.Message}", ex);
            }

            var keyFile = Path.Combine(baseDirectory, Require(section, "GovernanceKeyFile"));
            Ed25519PrivateKey? key;
            try
            {
                key = loadGovernanceKeys ? Storage.Keys.KeyFiles.ReadPrivateKey(keyFile) : null;
            }
            catch (Exception ex) when (ex is IOException or FormatException)
            {
                throw new ArgumentException($"{Setting("GovernanceKeyFile")}: {ex.Message}", ex);
            }

            var nodes = new List<NodeRegistration>();
            foreach (var node in section.GetSection("Nodes").GetChildren())
            {
                string NodeSetting(string name) => $"{Setting("Nodes")}:{node.Key}:{name}";
                KeyFingerprint fingerprint;
                try
                {
                    fingerprint = KeyFingerprint.Parse(Require(node, "Fingerprint"));
                }
                catch (FormatException ex)
                {
                    throw new ArgumentException($"{NodeSetting("Fingerprint")}: {ex.Message}", ex);
                }

                nodes.Add(new NodeRegistration(
                    fingerprint,
                    ParseName<TrustLevel>(node["TrustLevel"] ?? "federated", NodeSetting("TrustLevel")),
                    ParseName<SyncPolicy>(node["SyncPolicy"] ?? "pull_approved_only", NodeSetting("SyncPolicy")),
                    node.GetSection("Capabilities").Get<string[]>() ?? []));
            }

            var reviewers = new List<Ed25519PublicKey>();
            foreach (var reviewer in section.GetSection("ReviewerKeys").GetChildren())
            {
                try
                {
                    reviewers.Add(Storage.Keys.KeyFiles.ReadPublicKey(Path.Combine(baseDirectory, reviewer.Value ?? string.Empty)));
                }
                catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
                {
                    throw new ArgumentException($"{Setting("ReviewerKeys")}:{reviewer.Key}: {ex.Message}", ex);
                }
            }

            federations.Add(new FederationSettings
            {
                ReviewerKeys = reviewers,
                Policy = policy,
                GovernanceKey = key,
                Nodes = nodes,
                InactivityTimeout = section.GetValue("InactivityTimeout", FederationSettings.DefaultInactivityTimeout),
            });
        }

        return new FederationDirectory(federations);
    }

    private static string Require(IConfigurationSection section, string name) =>
        section[name] is { Length: > 0 } value ? value : throw new ArgumentException($"{section.Path}:{name} is required");

    /// <summary>
    /// An enum member by name: the wire name (<c>pull_approved_only</c>) or the enum name, in any case — never a number.
    /// Settings, the HTTP API and the CLI read trust levels, sync policies and roles this one way.
    /// </summary>
    /// <exception cref="ArgumentException">Not a member's name: names <paramref name="setting"/> and every valid name.</exception>
    public static T ParseName<T>(string text, string setting)
        where T : struct, Enum
    {
        var normalised = text.Replace("_", string.Empty, StringComparison.Ordinal);
        return Enum.GetNames<T>().FirstOrDefault(n => string.Equals(n, normalised, StringComparison.OrdinalIgnoreCase)) is { } name
            ? Enum.Parse<T>(name)
            : throw new ArgumentException($"{setting} must be one of {string.Join(", ", Enum.GetNames<T>().Select(n => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(n)))}, got \"{text}\"");
    }
}
