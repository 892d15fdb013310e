using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Simulation.Checking;
using Federation.Storage.Ledger;

namespace Federation.Simulation.Composition;

/// <summary>A node's standing at the end of a run: its status, why, and the evidence receipt behind it.</summary>
public sealed record NodeStanding(NodeStatus Status, string? StatusReason, string? EvidenceReceipt);

/// <summary>
/// The coordinator side of a scenario run, as <see cref="SimulationDriver"/> talks to it: the protocol messages of
/// the nodes (handshake, signed updates, heartbeats), the epochs it is told to run, and what the checker reads back.
/// Two implementations: <see cref="SimulatedRun"/> (the Core state machines in process, on the virtual clock: the
/// deterministic simulator) and the live runner of the tests (the grains on an Orleans test cluster), so one driver
/// and one invariant checker serve both.
/// </summary>
public interface IRunCoordinator : IAsyncDisposable
{
    ValidatorSet ValidatorSet { get; }

    /// <summary>Governance registers nodes (trust, sync policy, capabilities).</summary>
    Task RegisterNodesAsync(IReadOnlyList<(KeyFingerprint Node, TrustLevel Trust, SyncPolicy Sync, IReadOnlyList<string> Capabilities)> registrations);

    /// <summary>The epoch accepting updates, the one closing, and each epoch's base state.</summary>
    Task<EpochView> EpochAsync();

    Task<HelloResult> HelloAsync(byte[] signedHello);

    Task<SessionResult> CompleteSessionAsync(byte[] signedSessionAck);

    /// <summary>Verifies, decides and seals one signed update; the answer comes once it is durable.</summary>
    Task<SubmissionResult> SubmitAsync(byte[] signedUpdate);

    Task<HeartbeatResult> HeartbeatAsync(KeyFingerprint node, byte[] signedHeartbeat);

    /// <summary>A scroll's size and root (what a node's heartbeat reports).</summary>
    Task<(long Size, Sha256Digest Root)> HeadAsync(string scroll);

    /// <summary>Closes the open epoch and drives it to committed, or to failed with a reason.</summary>
    Task<EpochRun> RunEpochAsync();

    /// <summary>The digest validator <paramref name="validator"/> committed for <paramref name="epoch"/> (null: none, or lost in a crash).</summary>
    Task<Sha256Digest?> CommittedByAsync(int validator, long epoch);

    /// <summary>A node's standing, or null when governance never registered it.</summary>
    Task<NodeStanding?> StandingAsync(KeyFingerprint node);

    /// <summary>
    /// The coordinator is killed between two waves of submissions (what it held only in memory is gone); returns the
    /// coordinator that carries on: a new one recovered from the stores, or the silos that are left.
    /// </summary>
    Task<IRunCoordinator> CrashAsync();

    /// <summary>
    /// The run is over: no more requests. Returns the run's scrolls as they stand, to anchor, seal and check (owned by
    /// the coordinator: valid until it is disposed).
    /// </summary>
    Task<LedgerDirectory> FinishAsync();
}
