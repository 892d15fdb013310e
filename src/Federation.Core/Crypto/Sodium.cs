using System.Runtime.InteropServices;

namespace Federation.Core.Crypto;

/// <summary>
/// P/Invoke layer over libsodium (Debian package <c>libsodium23</c>), the C library NSec wraps.
/// Only the Ed25519 functions the product needs are bound.
/// </summary>
internal static unsafe partial class Sodium
{
    private const string Library = "libsodium.so.23";

    public const int PublicKeyBytes = 32;
    public const int SecretKeyBytes = 64;
    public const int SeedBytes = 32;
    public const int SignatureBytes = 64;

    private static readonly Lazy<bool> Initialised = new(Initialise, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads libsodium and runs <c>sodium_init</c> once; explains how to install it when missing.</summary>
    public static void EnsureInitialised() => _ = Initialised.Value;

    private static bool Initialise()
    {
        int result;
        try
        {
            result = sodium_init();
        }
        catch (DllNotFoundException ex)
        {
            throw new CryptoUnavailableException(
                "libsodium is not installed (libsodium.so.23 not found): install the Debian package libsodium23, e.g. `apt-get install -y libsodium23`", ex);
        }
        catch (EntryPointNotFoundException ex)
        {
            throw new CryptoUnavailableException("the installed libsodium lacks sodium_init: install the Debian package libsodium23 (1.0.18 or later)", ex);
        }

        // 0 = initialised now, 1 = already initialised, -1 = failure.
        if (result < 0)
        {
            throw new CryptoUnavailableException("libsodium failed to initialise (sodium_init returned -1)");
        }

        return true;
    }

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    public static partial int crypto_sign_seed_keypair(byte* publicKey, byte* secretKey, byte* seed);

    [LibraryImport(Library)]
    public static partial int crypto_sign_detached(byte* signature, ulong* signatureLength, byte* message, ulong messageLength, byte* secretKey);

    [LibraryImport(Library)]
    public static partial int crypto_sign_verify_detached(byte* signature, byte* message, ulong messageLength, byte* publicKey);

    [LibraryImport(Library)]
    public static partial int crypto_core_ed25519_is_valid_point(byte* point);

    [LibraryImport(Library)]
    public static partial void randombytes_buf(byte* buffer, nuint size);
}

/// <summary>The native crypto library cannot be used; the message says how to fix it.</summary>
public sealed class CryptoUnavailableException(string message, Exception? inner = null)
    : InvalidOperationException(message, inner);
