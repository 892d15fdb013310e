using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Protocol;
using Federation.Core.Signing;

namespace Federation.Core.Ingest;

/// <summary>
/// Two different updates one node signed for one epoch (CometBFT-style evidence, docs/formats/evidence.md).
/// Self-contained: anyone can check it offline with nothing but the two messages, since the node's
/// fingerprint is its public key.
/// </summary>
public sealed record EquivocationEvidence(SignedEnvelope First, SignedEnvelope Second)
{
    public const string Type = "equivocation_evidence";

    /// <summary>Orders the two messages by their signed bytes so the same pair always gives the same evidence.</summary>
    public static EquivocationEvidence Create(SignedEnvelope a, SignedEnvelope b) =>
        a.SignedBytes.AsSpan().SequenceCompareTo(b.SignedBytes) <= 0 ? new(a, b) : new(b, a);

    public JsonObject ToJson() => new()
    {
        ["type"] = Type,
        ["kind"] = MessageTypes.MetaUpdate,
        ["first"] = CanonicalJson.Parse(First.ToCanonicalJson()),
        ["second"] = CanonicalJson.Parse(Second.ToCanonicalJson()),
    };

    public Sha256Digest Hash() => Sha256Digest.Of(CanonicalJson.Write(ToJson()));

    public static EquivocationEvidence FromJson(JsonObject obj)
    {
        if (obj["type"]?.GetValue<string>() != Type)
        {
            throw new FormatException($"not {Type}");
        }

        var first = SignedEnvelope.Parse(CanonicalJson.Write(obj["first"] ?? throw new FormatException("evidence needs \"first\"")));
        var second = SignedEnvelope.Parse(CanonicalJson.Write(obj["second"] ?? throw new FormatException("evidence needs \"second\"")));
        return new EquivocationEvidence(first, second);
    }

    /// <summary>Checks the evidence: both signatures by the same node key, same federation and epoch, different contents.</summary>
    public IReadOnlyList<string> Verify()
    {
        var failures = new List<string>();
        MetaUpdate a, b;
        try
        {
            a = First.PayloadAs<MetaUpdate>();
            b = Second.PayloadAs<MetaUpdate>();
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
        {
            return [$"a message is not a MetaUpdate: {ex.Message}"];
        }

        if (a.NodeFingerprint != b.NodeFingerprint)
        {
            failures.Add("the two updates name different nodes");
        }

        if (a.FederatedEpoch != b.FederatedEpoch || a.FederationId != b.FederationId)
        {
            failures.Add("the two updates are for different epochs or federations");
        }

        if (First.SignedBytes.AsSpan().SequenceEqual(Second.SignedBytes))
        {
            failures.Add("the two updates are identical (a duplicate is not equivocation)");
        }

        foreach (var (name, envelope, update) in new[] { ("first", First, a), ("second", Second, b) })
        {
            try
            {
                var key = Ed25519PublicKey.FromFingerprint(update.NodeFingerprint);
                if (!envelope.Verify(Ed25519Verifier.Trusting(key)).IsValid)
                {
                    failures.Add($"the {name} update's signature is not the node's");
                }
            }
            catch (FormatException ex)
            {
                failures.Add($"the {name} update's node key is unusable: {ex.Message}");
            }
        }

        return failures;
    }
}
