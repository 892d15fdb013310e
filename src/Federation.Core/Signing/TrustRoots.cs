using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Crypto;

namespace Federation.Core.Signing;

/// <summary>
/// The keys a verifier trusts, from outside the folder it checks (docs/formats/trust-file.md): the governance key
/// (it signs FederationAccepts), the plan key, the scroll key (checkpoints) and each validator's key (commit votes).
/// <c>fed verify --phase M5 --trust FILE</c> refuses artifacts signed by any other key; <c>fed node run --trust FILE</c>
/// checks the coordinator's accept, checkpoints and commit certificates with them. A node needs no plan key: a trust file
/// written for nodes (<c>fed trust export</c>) has none, and M5 verification with it is refused.
/// </summary>
public sealed record TrustRoots(Ed25519PublicKey Governance, Ed25519PublicKey? Plan, Ed25519PublicKey Scroll, IReadOnlyDictionary<string, Ed25519PublicKey> Validators)
{
    public const string FormatName = "fed-trust/v1";

    /// <summary>A trust file is a few keys: anything larger is not one.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    private static readonly string[] Members = ["format", "governance_key", "plan_key", "scroll_key", "validators"];

    /// <summary>Reads and checks a trust file: strict JSON (no duplicate members), known members only, hex Ed25519 keys.</summary>
    /// <exception cref="FormatException">The file is not a trust file; the message names the file and the member.</exception>
    public static TrustRoots Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"trust file {path} does not exist", path);
        }

        if (info.Length > MaxFileBytes)
        {
            throw new FormatException($"trust file {path} is {info.Length} bytes, more than the {MaxFileBytes} a trust file may have");
        }

        try
        {
            return FromJson(CanonicalJson.Parse(File.ReadAllBytes(path)) as JsonObject ?? throw new FormatException("it must be a JSON object"));
        }
        catch (Exception ex) when (ex is FormatException or CanonicalJsonException or System.Text.Json.JsonException)
        {
            throw new FormatException($"trust file {path}: {ex.Message}", ex);
        }
    }

    public static TrustRoots FromJson(JsonObject json)
    {
        foreach (var (name, _) in json)
        {
            if (!Members.Contains(name))
            {
                throw new FormatException($"unknown member \"{name}\" (members: {string.Join(", ", Members)})");
            }
        }

        if (Text(json, "format") != FormatName)
        {
            throw new FormatException($"\"format\" must be \"{FormatName}\"");
        }

        var validators = json["validators"] as JsonObject ?? throw new FormatException("\"validators\" must be an object of validator id → hex public key");
        if (validators.Count == 0)
        {
            throw new FormatException("\"validators\" lists no validator");
        }

        return new TrustRoots(
            Key(json, "governance_key"),
            json.ContainsKey("plan_key") ? Key(json, "plan_key") : null,
            Key(json, "scroll_key"),
            validators.ToDictionary(v => v.Key, v => Key(validators, v.Key, $"validators.{v.Key}"), StringComparer.Ordinal));
    }

    public JsonObject ToJson()
    {
        var json = new JsonObject { ["format"] = FormatName, ["governance_key"] = Governance.ToHex() };
        if (Plan is not null)
        {
            json["plan_key"] = Plan.ToHex();
        }

        json["scroll_key"] = Scroll.ToHex();
        json["validators"] = new JsonObject(Validators.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => KeyValuePair.Create(v.Key, (JsonNode?)JsonValue.Create(v.Value.ToHex()))));
        return json;
    }

    private static string Text(JsonObject json, string name, string? label = null) =>
        json[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"\"{label ?? name}\" must be a string");

    private static Ed25519PublicKey Key(JsonObject json, string name, string? label = null)
    {
        var text = Text(json, name, label);
        try
        {
            return Ed25519PublicKey.FromHex(text);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"\"{label ?? name}\" is not a hex Ed25519 public key: {ex.Message}", ex);
        }
    }
}
