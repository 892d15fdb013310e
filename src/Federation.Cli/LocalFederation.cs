using Federation.Core.Crypto;
using Federation.Storage.Keys;

namespace Federation.Cli;

/// <summary>
/// A fresh federation in a directory, for <c>fed demo live</c> and <c>fed bench http-ingest</c>: the governance key,
/// four validator keys, the scroll key under <c>data/keys</c>, and an <c>appsettings.json</c> that registers the given
/// nodes (ingest.v1 and vector deltas).
/// </summary>
internal static class LocalFederation
{
    /// <param name="settings">More top-level settings members (JSON text ending in a comma), e.g. epoch timing.</param>
    /// <param name="scrolls">The <c>Federation:Scrolls</c> members (default: the file store's defaults).</param>
    /// <returns>The settings file.</returns>
    public static string Write(string directory, string federation, int dimension, IEnumerable<KeyFingerprint> nodes, string settings, string scrolls = "")
    {
        foreach (var name in new[] { "governance", "v0", "v1", "v2", "v3" })
        {
            using var key = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(Path.Combine(directory, "keys", name + ".key"), key);
        }

        using (var scroll = Ed25519PrivateKey.Generate())
        {
            KeyFiles.WriteKeyPair(Path.Combine(directory, "data", "keys", "scroll.key"), scroll);
        }

        var registry = string.Join(",\n        ", nodes.Select(n => $$"""{ "Fingerprint": "{{n}}", "Capabilities": ["ingest.v1", "delta.vector.v1"] }"""));
        var path = Path.Combine(directory, "appsettings.json");
        File.WriteAllText(path, $$"""
            {
              "Federation": { "DataDirectory": "data", "Scrolls": { {{scrolls}} } },
              {{settings}}
              "Federations": [
                { "Id": "{{federation}}", "Aggregation": "vector", "VectorDimension": {{dimension}}, "RequiredCapabilities": ["ingest.v1"],
                  "GovernanceKeyFile": "keys/governance.key",
                  "Nodes": [
                    {{registry}}
                  ],
                  "Validators": [ { "Id": "v0", "KeyFile": "keys/v0.key" }, { "Id": "v1", "KeyFile": "keys/v1.key" },
                                  { "Id": "v2", "KeyFile": "keys/v2.key" }, { "Id": "v3", "KeyFile": "keys/v3.key" } ] }
              ]
            }
            """);
        return path;
    }
}
