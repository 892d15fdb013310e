using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Membership;
using Federation.Simulation.Checking;
using Federation.Storage.Ledger;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Simulation.Composition;

/// <summary>
/// The deterministic simulator's coordinator for a run: a <see cref="SimulatedCoordinator"/> over the run's
/// <see cref="CoordinatorStore"/>; a crash disposes it and starts a new one over the same store, as a restarted
/// process recovers from its files.
/// </summary>
public sealed class SimulatedRun(CoordinatorSettings settings, CoordinatorStore store, SimulationKeys keys, FakeTimeProvider clock) : IRunCoordinator
{
    private SimulatedCoordinator _coordinator = Start(settings, store, keys, clock);

    public ValidatorSet ValidatorSet => _coordinator.ValidatorSet;

    private static SimulatedCoordinator Start(CoordinatorSettings settings, CoordinatorStore store, SimulationKeys keys, FakeTimeProvider clock) =>
        new(settings, store, keys.Copy(SimulationKeys.Scroll), clock);

    public Task RegisterNodesAsync(IReadOnlyList<(KeyFingerprint Node, TrustLevel Trust, SyncPolicy Sync, IReadOnlyList<string> Capabilities)> registrations)
    {
        _coordinator.RegisterNodes(registrations);
        return Task.CompletedTask;
    }

    public Task<EpochView> EpochAsync() => Task.FromResult(_coordinator.Epoch);

    public Task<HelloResult> HelloAsync(byte[] signedHello) => _coordinator.HelloAsync(signedHello);

    public Task<SessionResult> CompleteSessionAsync(byte[] signedSessionAck) => _coordinator.CompleteSessionAsync(signedSessionAck);

    public Task<SubmissionResult> SubmitAsync(byte[] signedUpdate) => _coordinator.SubmitAsync(signedUpdate);

    public Task<HeartbeatResult> HeartbeatAsync(KeyFingerprint node, byte[] signedHeartbeat) => _coordinator.HeartbeatAsync(node, signedHeartbeat);

    public Task<(long Size, Sha256Digest Root)> HeadAsync(string scroll) => _coordinator.HeadAsync(scroll);

    public Task<EpochRun> RunEpochAsync() => _coordinator.RunEpochAsync();

    public Task<Sha256Digest?> CommittedByAsync(int validator, long epoch) => Task.FromResult(_coordinator.CommittedBy(validator, epoch));

    public async Task<NodeStanding?> StandingAsync(KeyFingerprint node) =>
        await _coordinator.NodeRecordAsync(node) is { } record ? new NodeStanding(record.Status, record.StatusReason, _coordinator.QuarantineEvidence(node)) : null;

    public async Task<IRunCoordinator> CrashAsync()
    {
        await _coordinator.CrashAsync();
        _coordinator = Start(settings, store, keys, clock);
        return this;
    }

    public Task<LedgerDirectory> FinishAsync() => Task.FromResult(_coordinator.Ledgers);

    public ValueTask DisposeAsync() => _coordinator.DisposeAsync();
}
