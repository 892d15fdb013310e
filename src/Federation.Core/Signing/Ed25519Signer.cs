using Federation.Core.Crypto;

namespace Federation.Core.Signing;

/// <summary>Signs with an Ed25519 private key it does not own (the caller disposes the key).</summary>
public sealed class Ed25519Signer(Ed25519PrivateKey key) : ISigner
{
    public string Algorithm => SignatureBlock.Ed25519;

    public Ed25519PublicKey PublicKey => key.PublicKey;

    public SignatureBlock Sign(ReadOnlySpan<byte> canonicalPayload) =>
        new(SignatureBlock.Ed25519, key.PublicKey.ToHex(), key.Sign(canonicalPayload));
}

/// <summary>
/// Verifies Ed25519 signature blocks whose key is one of a trusted set. A block naming any other
/// key fails with <see cref="SignatureFailure.UnknownKey"/>, however valid its signature.
/// </summary>
public sealed class Ed25519Verifier : ISignatureVerifier
{
    private readonly Func<string, Ed25519PublicKey?> _resolve;

    /// <param name="resolve">Maps a block's hex key to a trusted key, or null when it is not trusted.</param>
    public Ed25519Verifier(Func<string, Ed25519PublicKey?> resolve) => _resolve = resolve;

    public static Ed25519Verifier Trusting(params Ed25519PublicKey[] keys)
    {
        var byHex = keys.ToDictionary(k => k.ToHex(), StringComparer.Ordinal);
        return new Ed25519Verifier(hex => byHex.GetValueOrDefault(hex));
    }

    public SignatureCheck Verify(ReadOnlySpan<byte> canonicalPayload, SignatureBlock signature)
    {
        if (signature.Algorithm != SignatureBlock.Ed25519)
        {
            return new(SignatureFailure.WrongAlgorithm, $"expected an {SignatureBlock.Ed25519} signature, got {signature.Algorithm}");
        }

        var key = signature.KeyId is null ? null : _resolve(signature.KeyId);
        if (key is null)
        {
            return new(SignatureFailure.UnknownKey, $"key ed25519:{signature.KeyId} is not a trusted key");
        }

        return key.Verify(canonicalPayload, signature.Value)
            ? SignatureCheck.Valid($"ed25519 signature by {key.Fingerprint} verified")
            : new(SignatureFailure.BadSignature, $"ed25519 signature by {key.Fingerprint} does not verify");
    }
}
