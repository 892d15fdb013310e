using NSec.Cryptography;

namespace Federation.Core.Crypto;

/// <summary>
/// NSec's Ed25519, loaded once. NSec carries its own libsodium (<c>runtimes/&lt;rid&gt;/native/</c> beside the
/// assemblies); when it cannot load or initialise it, the failure becomes a <see cref="CryptoUnavailableException"/>
/// that says so, instead of an error from deep inside the first signature check.
/// </summary>
internal static class Ed25519Algorithm
{
    private static readonly Lazy<SignatureAlgorithm> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public static SignatureAlgorithm Instance => Loaded.Value;

    private static SignatureAlgorithm Load()
    {
        try
        {
            return SignatureAlgorithm.Ed25519;
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or InvalidOperationException or TypeInitializationException)
        {
            throw new CryptoUnavailableException(
                $"NSec could not load its libsodium (expected in runtimes/<rid>/native/ beside the assemblies; a publish must keep it): {ex.Message}", ex);
        }
    }
}

/// <summary>The native crypto library cannot be used; the message says how to fix it.</summary>
public sealed class CryptoUnavailableException(string message, Exception? inner = null)
    : InvalidOperationException(message, inner);
