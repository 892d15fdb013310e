using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Federation.Core.Crypto;

namespace Federation.Simulation;

/// <summary>
/// Every key of a run, derived from (scenario, seed) (ARCHITECTURE.md, Determinism): the Ed25519 seed of
/// role <c>r</c>, index <c>i</c> is SHA-256("fed-sim" ‖ 0 ‖ scenario ‖ 0 ‖ seed ‖ 0 ‖ r ‖ 0 ‖ i).
/// </summary>
public sealed class SimulationKeys(string scenario, long seed) : IDisposable
{
    public const string Governance = "governance";
    public const string Scroll = "scroll";
    public const string Plan = "plan";
    public const string Validator = "validator";
    public const string Node = "node";
    public const string Imposter = "imposter";

    private readonly Dictionary<(string, int), Ed25519PrivateKey> _keys = [];

    public static byte[] DeriveSeed(string scenario, long seed, string role, int index) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', "fed-sim", scenario, seed.ToString(CultureInfo.InvariantCulture), role, index.ToString(CultureInfo.InvariantCulture))));

    /// <summary>The key (owned by this object; do not dispose it).</summary>
    public Ed25519PrivateKey Get(string role, int index = 0)
    {
        if (!_keys.TryGetValue((role, index), out var key))
        {
            _keys[(role, index)] = key = Ed25519PrivateKey.FromSeed(DeriveSeed(scenario, seed, role, index));
        }

        return key;
    }

    /// <summary>A fresh copy the caller owns (directories that dispose their keys).</summary>
    public Ed25519PrivateKey Copy(string role, int index = 0) => Ed25519PrivateKey.FromSeed(DeriveSeed(scenario, seed, role, index));

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }

        _keys.Clear();
    }
}
