using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Signing;

namespace Federation.Simulation;

/// <summary>
/// <c>artifacts/mec/M5/federated_plan.json</c> (SPEC A): the signed record of a simulated run, a
/// <see cref="SignedEnvelope"/> (docs/formats/signed-envelope.md) signed by the run's plan key.
/// </summary>
public static class FederatedPlan
{
    public const string Format = "fed-federated-plan/v1";
    public static readonly string RelativePath = Path.Combine("mec", "M5", "federated_plan.json");

    public static byte[] Sign(JsonObject plan, Ed25519PrivateKey key) => SignedEnvelope.Sign(plan, new Ed25519Signer(key)).ToCanonicalJson();
}
