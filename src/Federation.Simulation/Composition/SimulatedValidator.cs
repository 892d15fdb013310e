using Federation.Core.Canonical;
using Federation.Core.Consensus;
using Federation.Core.Hashing;
using Federation.Core.Signing;

namespace Federation.Simulation.Composition;

/// <summary>What a validator said after one step, as bytes on the consensus network (what a validator grain returns).</summary>
internal sealed record ValidatorStepResult(IReadOnlyList<byte[]> Outbound, Sha256Digest? Committed, long View, IReadOnlyList<byte[]> CommitCertificate, IReadOnlyList<byte[]> Evidence)
{
    public ReplicaReport Report => new(Outbound, Committed, View, Evidence);
}

/// <summary>
/// One validator of the simulated federation: a <see cref="PbftReplica"/> per epoch over its own recomputation of the
/// proposal, its messages passed through its behaviour (<see cref="ValidatorBehaviours"/>) on the way out. Held in
/// memory only, like a validator grain's replicas: a coordinator crash loses them.
/// </summary>
internal sealed class SimulatedValidator(SimulatedValidatorSettings settings, ValidatorSet set)
{
    private readonly Dictionary<long, PbftReplica> _replicas = [];

    public string Id => settings.Id;

    /// <summary>Starts an epoch on the digest this validator computed itself.</summary>
    public ValidatorStepResult Begin(long epoch, Sha256Digest localProposal)
    {
        var replica = new PbftReplica(set, settings.Id, new Ed25519Signer(settings.Key), epoch);
        _replicas[epoch] = replica;
        return Step(replica, replica.SetLocalProposal(localProposal));
    }

    public ValidatorStepResult Receive(long epoch, byte[] message) => Step(_replicas[epoch], _replicas[epoch].Receive(SignedEnvelope.Parse(message)));

    public ValidatorStepResult Timeout(long epoch) => Step(_replicas[epoch], _replicas[epoch].OnTimeout());

    /// <summary>The digest this validator committed for an epoch, if any.</summary>
    public Sha256Digest? Committed(long epoch) => _replicas.TryGetValue(epoch, out var replica) ? replica.CommittedDigest : null;

    private ValidatorStepResult Step(PbftReplica replica, PbftOutput output) => new(
        ValidatorBehaviours.Outbound(settings.Behaviour, settings.Id, new Ed25519Signer(settings.Key), set, output.Broadcast).Select(m => m.ToCanonicalJson()).ToList(),
        replica.CommittedDigest,
        replica.View,
        replica.CommitCertificate.Select(c => c.ToCanonicalJson()).ToList(),
        output.Evidence.Select(e => CanonicalJson.Write(e.ToJson())).ToList());
}
