using Federation.Core.Consensus;
using Federation.Core.Hashing;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Grains.Services;
using Federation.Storage.Ledger;

namespace Federation.Grains.Epoch;

/// <summary>
/// One validator (key <c>&lt;federation&gt;/&lt;id&gt;</c>): recomputes each epoch's proposal from the update scroll
/// itself and runs its PBFT replica. Byzantine behaviours are injected for simulations only.
/// </summary>
[GrainType("validator")]
public sealed class ValidatorGrain(ValidatorDirectory validators, FederationDirectory federations) : Grain, IValidatorGrain
{
    private readonly Dictionary<long, PbftReplica> _replicas = [];
    private string _federationId = string.Empty;
    private ValidatorSettings _self = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/');
        _federationId = key[..slash];
        _self = validators.Member(_federationId, key[(slash + 1)..]);
        return Task.CompletedTask;
    }

    /// <summary>An epoch's accepted updates below the cutoff, read through the update scroll's grain.</summary>
    internal static async Task<IReadOnlyList<ScrollUpdate>> ReadUpdatesAsync(IScrollGrain updates, long epoch, long cutoff) =>
        (await updates.ReadUpdatesAsync(epoch, cutoff)).Select(u => new ScrollUpdate(u.Seq, u.SignedUpdate)).ToList();

    public async Task<ValidatorStep> BeginAsync(EpochInputs inputs)
    {
        var updates = await ReadUpdatesAsync(GrainFactory.GetGrain<IScrollGrain>(FederationScrolls.Updates(_federationId)), inputs.Epoch, inputs.Cutoff);
        var outcome = EpochComputation.Compute(inputs.Epoch, inputs.BaseState, updates, inputs.Active, federations.Get(_federationId).Policy, validators.PolicyOf(_federationId), inputs.Streaks, inputs.QuarantinedAtIngest);
        var digest = outcome.Proposal.Digest();
        var replica = new PbftReplica(validators.SetOf(_federationId), _self.Id, new Ed25519Signer(_self.Key), inputs.Epoch);
        _replicas[inputs.Epoch] = replica;
        return Step(replica, replica.SetLocalProposal(digest), digest);
    }

    public Task<ValidatorStep> ReceiveAsync(long epoch, byte[] message) =>
        Task.FromResult(_replicas.TryGetValue(epoch, out var replica)
            ? Step(replica, replica.Receive(SignedEnvelope.Parse(message)), null)
            : new ValidatorStep([], null, 0, [], [], [$"{_self.Id} has not begun epoch {epoch}"], null));

    public Task<ValidatorStep> TimeoutAsync(long epoch) =>
        Task.FromResult(_replicas.TryGetValue(epoch, out var replica) ? Step(replica, replica.OnTimeout(), null) : new ValidatorStep([], null, 0, [], [], [], null));

    public Task<Sha256Digest?> CommittedAsync(long epoch) =>
        Task.FromResult(_replicas.TryGetValue(epoch, out var replica) ? replica.CommittedDigest : null);

    private ValidatorStep Step(PbftReplica replica, PbftOutput output, Sha256Digest? local)
    {
        var outbound = ValidatorBehaviours.Outbound(_self.Behaviour, _self.Id, new Ed25519Signer(_self.Key), validators.SetOf(_federationId), output.Broadcast).Select(m => m.ToCanonicalJson()).ToList();
        return new ValidatorStep(
            outbound,
            replica.CommittedDigest,
            replica.View,
            replica.CommitCertificate.Select(c => c.ToCanonicalJson()).ToList(),
            output.Evidence.Select(e => Core.Canonical.CanonicalJson.Write(e.ToJson())).ToList(),
            output.Refused,
            local);
    }
}
