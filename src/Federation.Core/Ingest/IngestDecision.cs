namespace Federation.Core.Ingest;

/// <summary>Why an update was refused. Each has its own wire name (snake_case) and test.</summary>
public enum RefusalCode
{
    MalformedMessage,
    OversizedMessage,
    MissingSignature,
    BadSignature,
    WrongFederation,
    UnknownNode,
    PendingNode,
    RevokedNode,
    ExcludedNode,
    QuarantinedNode,
    DepartedNode,
    WrongLedgerBlock,
    FutureEpoch,
    StaleEpoch,
    EpochClosed,
    HashMismatch,
    MalformedPayload,
    OversizedPayload,
    CapabilityIncompatible,
    BaseStateMismatch,
    Equivocation,
}

public enum Disposition
{
    /// <summary>Valid for the open epoch: sealed, then eligible for aggregation.</summary>
    Accepted,

    /// <summary>Valid for an epoch that has closed (a node back from a partition): sealed as late, never aggregated, never punished.</summary>
    Late,

    /// <summary>The same signed update again: acknowledged, stored once.</summary>
    Duplicate,

    Refused,
}

/// <summary>The validator's verdict on one update.</summary>
public sealed record IngestDecision(Disposition Disposition, RefusalCode? Code, string Message)
{
    public static IngestDecision Accept(string message) => new(Disposition.Accepted, null, message);

    /// <summary>The acceptance of an update for <paramref name="epoch"/>: one decision per epoch, shared (it is immutable).</summary>
    public static IngestDecision AcceptedFor(long epoch) => s_accepted.For(epoch);

    private static readonly LatestEpoch<IngestDecision> s_accepted = new(epoch => Accept($"accepted for epoch {epoch}"));

    public static IngestDecision Late(string message) => new(Disposition.Late, null, message);

    public static IngestDecision Duplicate(string message) => new(Disposition.Duplicate, null, message);

    public static IngestDecision Refuse(RefusalCode code, string message) => new(Disposition.Refused, code, message);

    public bool IsAcknowledged => Disposition != Disposition.Refused;

    /// <summary>The snake_case wire name of the code (e.g. <c>bad_signature</c>).</summary>
    public string? CodeName => Code is { } code ? WireName(code) : null;

    public static string WireName(RefusalCode code) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(code.ToString());
}
