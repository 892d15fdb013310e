using System.Globalization;
using System.Text.Json.Nodes;
using Federation.Core.Aggregation;
using Federation.Core.Canonical;
using Federation.Core.Consensus;
using Federation.Core.Hashing;

namespace Federation.Core.Governance;

/// <summary>An advisory's lifecycle (SPEC B): published, then accepted or declined — both final.</summary>
public enum AdvisoryStatus
{
    Published,
    Accepted,
    Declined,
}

/// <summary>
/// A drift advisory (SPEC B): <c>advisory_id, drift_type, source_env, target_envs, recommendation, status</c>.
/// <c>source_env</c> is the drifting node's fingerprint; <c>target_envs</c> is the federation whose majority it drifts from.
/// </summary>
public sealed record Advisory(
    string AdvisoryId,
    string FederationId,
    long Epoch,
    string DriftType,
    string SourceEnv,
    IReadOnlyList<string> TargetEnvs,
    string Recommendation,
    string Detail,
    AdvisoryStatus Status)
{
    public JsonObject ToJson() => new()
    {
        ["advisory_id"] = AdvisoryId,
        ["federation_id"] = FederationId,
        ["epoch"] = Epoch,
        ["drift_type"] = DriftType,
        ["source_env"] = SourceEnv,
        ["target_envs"] = new JsonArray(TargetEnvs.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
        ["recommendation"] = Recommendation,
        ["detail"] = Detail,
        ["status"] = Advisories.StatusName(Status),
    };
}

/// <summary>Advisories from an epoch's drift, their ids, and the one rule of their lifecycle.</summary>
public static class Advisories
{
    public const string PublishedType = "advisory_published";
    public const string AcceptedType = "advisory_accepted";
    public const string DeclinedType = "advisory_declined";

    /// <summary>SPEC B's three canon drift types, plus SPEC D's baseline drift of numeric (vector) updates.</summary>
    public const string VersionSkew = "VERSION_SKEW";
    public const string PostureDivergence = "POSTURE_DIVERGENCE";
    public const string RefinementConflict = "REFINEMENT_CONFLICT";
    public const string BaselineDrift = "BASELINE_DRIFT";

    /// <summary>Advisories per epoch are bounded: a federation drifting everywhere gets the first ones, in a stable order.</summary>
    public const int MaxPerEpoch = 1000;

    public static string StatusName(AdvisoryStatus status) => status.ToString().ToLowerInvariant();

    public static string DriftTypeName(DriftType type) => type switch
    {
        DriftType.VersionSkew => VersionSkew,
        DriftType.PostureDivergence => PostureDivergence,
        _ => RefinementConflict,
    };

    public static string Recommendation(string driftType) => driftType switch
    {
        VersionSkew => "upgrade or roll back the source environment to the federation's majority revision of the listed signatures",
        PostureDivergence => "recalibrate the confidence of the listed signatures in the source environment, or explain the difference to the federation",
        RefinementConflict => "reconcile the source environment's patch with the majority patch before the next epoch",
        BaselineDrift => "inspect the source environment's local cycle: its update drifts from the federation's robust aggregate",
        _ => throw new ArgumentException($"unknown drift type \"{driftType}\"", nameof(driftType)),
    };

    /// <summary>Deterministic id: <c>adv-&lt;epoch&gt;-&lt;12 hex of SHA-256 of {drift_type, epoch, federation_id, source_env}&gt;</c>.</summary>
    public static string Id(string federationId, long epoch, string driftType, string sourceEnv)
    {
        var key = new JsonObject { ["drift_type"] = driftType, ["epoch"] = epoch, ["federation_id"] = federationId, ["source_env"] = sourceEnv };
        return $"adv-{epoch.ToString(CultureInfo.InvariantCulture)}-{Sha256Digest.Of(CanonicalJson.Write(key)).ToHex()[..12]}";
    }

    /// <summary>
    /// One advisory per drifting node and drift type of a committed epoch: canon drift detections grouped by
    /// (node, type), and vector nodes flagged or watched (above the flag threshold, not quarantined).
    /// </summary>
    public static IReadOnlyList<Advisory> FromOutcome(string federationId, EpochOutcome outcome)
    {
        var epoch = outcome.Proposal.Epoch;
        IReadOnlyList<string> targets = [federationId];
        var advisories = outcome.Drift
            .GroupBy(d => (d.Node, Type: DriftTypeName(d.Type)))
            .Select(g => Make(g.Key.Node, g.Key.Type, string.Join("; ", g.OrderBy(d => d.SignatureId, StringComparer.Ordinal).Select(d => $"{d.SignatureId}: {d.Detail}"))))
            .ToList();
        var canon = outcome.Aggregate["kind"] is JsonValue kind && kind.TryGetValue<string>(out var name) && name == "canon";
        if (!canon)
        {
            advisories.AddRange(outcome.Assessments
                .Where(a => a.Verdict is DivergenceVerdict.Flagged or DivergenceVerdict.Watch)
                .Select(a => Make(a.Node.ToString(), BaselineDrift,
                    $"divergence {a.Value.ToString("0.####", CultureInfo.InvariantCulture)} ({a.Verdict.ToString().ToLowerInvariant()}, {a.ConsecutiveAbove} consecutive epoch(s) above the quarantine threshold)")));
        }

        return advisories.OrderBy(a => a.AdvisoryId, StringComparer.Ordinal).Take(MaxPerEpoch).ToList();

        Advisory Make(string node, string type, string detail) =>
            new(Id(federationId, epoch, type, node), federationId, epoch, type, node, targets, Recommendation(type), detail, AdvisoryStatus.Published);
    }

    /// <summary>published → accepted | declined; nothing else. A final advisory cannot change again.</summary>
    public static void CheckTransition(string advisoryId, AdvisoryStatus from, AdvisoryStatus to)
    {
        if (to == AdvisoryStatus.Published)
        {
            throw new InvalidOperationException($"advisory {advisoryId} can only be accepted or declined");
        }

        if (from != AdvisoryStatus.Published)
        {
            throw new InvalidOperationException($"advisory {advisoryId} is already {StatusName(from)}: an accepted or declined advisory cannot change again");
        }
    }
}
