using Federation.Core.Hashing;
using Federation.Core.Signing;

namespace Federation.Core.Consensus;

/// <summary>How a validator behaves: honest, or one of the Byzantine kinds simulations inject.</summary>
public enum ValidatorBehaviour
{
    Honest,

    /// <summary>Sends nothing.</summary>
    Silent,

    /// <summary>As primary, pre-prepares two different digests to two halves of the validators.</summary>
    EquivocatingPrimary,

    /// <summary>Signs a second, conflicting vote for each of its prepares and commits.</summary>
    ConflictingVotes,
}

/// <summary>
/// Simulation faults of a validator (docs/formats/scenario.md): what a Byzantine replica sends instead of, or beside,
/// the honest messages its <see cref="PbftReplica"/> produced. The one definition the validator grain and the simulator share.
/// </summary>
public static class ValidatorBehaviours
{
    /// <summary>The messages a validator with <paramref name="behaviour"/> sends for one step whose honest broadcast is <paramref name="honest"/>.</summary>
    public static IEnumerable<SignedEnvelope> Outbound(ValidatorBehaviour behaviour, string self, ISigner signer, ValidatorSet validators, IReadOnlyList<SignedEnvelope> honest)
    {
        switch (behaviour)
        {
            case ValidatorBehaviour.Silent:
                yield break;
            case ValidatorBehaviour.EquivocatingPrimary:
            case ValidatorBehaviour.ConflictingVotes:
                foreach (var message in honest)
                {
                    yield return message;
                    var phase = message.Payload["phase"]?.GetValue<string>();
                    var lie = behaviour == ValidatorBehaviour.EquivocatingPrimary ? phase == "pre-prepare" : phase is "prepare" or "commit";
                    if (lie)
                    {
                        var vote = Vote.Open(message, validators);
                        var other = Sha256Digest.Of(System.Text.Encoding.UTF8.GetBytes($"lie {vote.Epoch} {vote.View} {self}"));
                        yield return Vote.Create(vote.Phase, vote.Epoch, vote.View, other, self, signer).Signed;
                    }
                }

                break;
            default:
                foreach (var message in honest)
                {
                    yield return message;
                }

                break;
        }
    }
}
