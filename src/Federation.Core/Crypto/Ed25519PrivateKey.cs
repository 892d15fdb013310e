using System.Security.Cryptography;
using NSec.Cryptography;

namespace Federation.Core.Crypto;

/// <summary>
/// An Ed25519 private key held by NSec in libsodium's guarded memory (<c>sodium_malloc</c>: outside the GC heap,
/// locked, wiped on <see cref="Dispose"/>). Its bytes never appear in <see cref="ToString"/>; they leave the object
/// only through the explicit <see cref="ExportSeed"/> used to write a key file.
/// </summary>
public sealed class Ed25519PrivateKey : IDisposable
{
    internal const int SeedSize = 32;

    private readonly Key _key;
    private bool _disposed;

    private Ed25519PrivateKey(Key key)
    {
        _key = key;
        PublicKey = Ed25519PublicKey.FromDerived(key.PublicKey);
    }

    public Ed25519PublicKey PublicKey { get; }

    public KeyFingerprint Fingerprint => PublicKey.Fingerprint;

    /// <summary>A fresh key from libsodium's CSPRNG (through NSec).</summary>
    public static Ed25519PrivateKey Generate() => new(Key.Create(Ed25519Algorithm.Instance, Exportable()));

    /// <summary>The key determined by a 32-byte seed (RFC 8032 §5.1.5); simulations derive seeds from their run seed.</summary>
    public static Ed25519PrivateKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedSize)
        {
            throw new ArgumentException($"an Ed25519 seed is {SeedSize} bytes, got {seed.Length}", nameof(seed));
        }

        return new(Key.Import(Ed25519Algorithm.Instance, seed, KeyBlobFormat.RawPrivateKey, Exportable()));
    }

    /// <summary>The detached 64-byte signature of <paramref name="message"/> (RFC 8032 §5.1.6).</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signature = new byte[Ed25519PublicKey.SignatureSize];
        Sign(message, signature);
        return signature;
    }

    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (signature.Length < Ed25519PublicKey.SignatureSize)
        {
            throw new ArgumentException($"signature buffer must hold {Ed25519PublicKey.SignatureSize} bytes", nameof(signature));
        }

        Ed25519Algorithm.Instance.Sign(_key, message, signature[..Ed25519PublicKey.SignatureSize]);
    }

    /// <summary>The 32-byte seed, for writing a PKCS#8 key file. The caller must wipe the copy.</summary>
    public byte[] ExportSeed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var seed = _key.Export(KeyBlobFormat.RawPrivateKey);
        if (seed.Length != SeedSize)
        {
            CryptographicOperations.ZeroMemory(seed);
            throw new CryptographicException($"NSec exported a {seed.Length}-byte Ed25519 private key, expected the {SeedSize}-byte seed");
        }

        return seed;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _key.Dispose();
            _disposed = true;
        }
    }

    // Key files hold the seed (RFC 8410), so NSec must let it be exported in plaintext.
    private static KeyCreationParameters Exportable() => new() { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };

    public override string ToString() => $"Ed25519PrivateKey({Fingerprint})";
}
