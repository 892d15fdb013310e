using System.Security.Cryptography;

namespace Federation.Core.Crypto;

/// <summary>
/// An Ed25519 private key held in pinned memory that is wiped on <see cref="Dispose"/>.
/// Its bytes never appear in <see cref="ToString"/>; they leave the object only through the
/// explicit <see cref="ExportSeed"/> used to write a key file.
/// </summary>
public sealed class Ed25519PrivateKey : IDisposable
{
    // libsodium's secret key: the 32-byte seed followed by the 32-byte public key.
    private readonly byte[] _secretKey;
    private bool _disposed;

    private Ed25519PrivateKey(byte[] pinnedSecretKey, Ed25519PublicKey publicKey)
    {
        _secretKey = pinnedSecretKey;
        PublicKey = publicKey;
    }

    public Ed25519PublicKey PublicKey { get; }

    public KeyFingerprint Fingerprint => PublicKey.Fingerprint;

    /// <summary>A fresh key from libsodium's CSPRNG.</summary>
    public static Ed25519PrivateKey Generate()
    {
        Span<byte> seed = stackalloc byte[Sodium.SeedBytes];
        Sodium.EnsureInitialised();
        unsafe
        {
            fixed (byte* s = seed)
            {
                Sodium.randombytes_buf(s, (nuint)seed.Length);
            }
        }

        try
        {
            return FromSeed(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The key determined by a 32-byte seed (RFC 8032 §5.1.5); simulations derive seeds from their run seed.</summary>
    public static Ed25519PrivateKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != Sodium.SeedBytes)
        {
            throw new ArgumentException($"an Ed25519 seed is {Sodium.SeedBytes} bytes, got {seed.Length}", nameof(seed));
        }

        Sodium.EnsureInitialised();
        var secretKey = GC.AllocateArray<byte>(Sodium.SecretKeyBytes, pinned: true);
        Span<byte> publicKey = stackalloc byte[Sodium.PublicKeyBytes];
        unsafe
        {
            fixed (byte* pk = publicKey)
            fixed (byte* sk = secretKey)
            fixed (byte* s = seed)
            {
                if (Sodium.crypto_sign_seed_keypair(pk, sk, s) != 0)
                {
                    throw new CryptographicException("libsodium crypto_sign_seed_keypair failed");
                }
            }
        }

        return new Ed25519PrivateKey(secretKey, Ed25519PublicKey.FromTrustedBytes(publicKey));
    }

    /// <summary>The detached 64-byte signature of <paramref name="message"/> (RFC 8032 §5.1.6).</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signature = new byte[Sodium.SignatureBytes];
        Sign(message, signature);
        return signature;
    }

    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (signature.Length < Sodium.SignatureBytes)
        {
            throw new ArgumentException($"signature buffer must hold {Sodium.SignatureBytes} bytes", nameof(signature));
        }

        unsafe
        {
            fixed (byte* sig = signature)
            fixed (byte* m = message)
            fixed (byte* sk = _secretKey)
            {
                if (Sodium.crypto_sign_detached(sig, null, m, (ulong)message.Length, sk) != 0)
                {
                    throw new CryptographicException("libsodium crypto_sign_detached failed");
                }
            }
        }
    }

    /// <summary>The 32-byte seed, for writing a PKCS#8 key file. The caller must wipe the copy.</summary>
    public byte[] ExportSeed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _secretKey[..Sodium.SeedBytes];
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_secretKey);
            _disposed = true;
        }
    }

    public override string ToString() => $"Ed25519PrivateKey({Fingerprint})";
}
