using System.Security.Cryptography;

namespace Federation.Core.Signing;

/// <summary>
/// SPEC B packet signing: HMAC-SHA256 over canonical JSON, verified in constant time.
/// The signer and verifier are one object because HMAC uses one shared secret for both.
/// </summary>
public sealed class HmacSha256Signer : ISigner, ISignatureVerifier, IDisposable
{
    /// <summary>Shorter secrets weaken HMAC-SHA256 (RFC 2104 §3 recommends at least the output size).</summary>
    public const int MinimumKeyBytes = 32;

    private readonly byte[] _key;

    public HmacSha256Signer(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinimumKeyBytes)
        {
            throw new ArgumentException($"an HMAC-SHA256 key must be at least {MinimumKeyBytes} bytes, got {key.Length}", nameof(key));
        }

        _key = GC.AllocateArray<byte>(key.Length, pinned: true);
        key.CopyTo(_key);
    }

    public string Algorithm => SignatureBlock.HmacSha256;

    public SignatureBlock Sign(ReadOnlySpan<byte> canonicalPayload) =>
        new(SignatureBlock.HmacSha256, null, HMACSHA256.HashData(_key, canonicalPayload));

    public SignatureCheck Verify(ReadOnlySpan<byte> canonicalPayload, SignatureBlock signature)
    {
        if (signature.Algorithm != SignatureBlock.HmacSha256)
        {
            return new(SignatureFailure.WrongAlgorithm, $"expected an {SignatureBlock.HmacSha256} signature, got {signature.Algorithm}");
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, canonicalPayload, expected);
        return CryptographicOperations.FixedTimeEquals(expected, signature.Value)
            ? SignatureCheck.Valid("hmac-sha256 verified")
            : new(SignatureFailure.BadSignature, "hmac-sha256 value does not match");
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
