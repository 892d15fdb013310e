using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Federation.Core.Hashing;

/// <summary>
/// SHA-256 for the hot path (signed bytes, payloads, Merkle leaves and nodes). The runtime's
/// <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/> goes through OpenSSL's EVP layer, which costs
/// about 330 ns per call before the first byte is hashed (a context allocated and freed, the error queue
/// cleared); a Merkle node hashes 65 bytes. Where the system's OpenSSL (<c>libcrypto.so.3</c>, which .NET
/// itself needs on Linux) offers its plain SHA-256 functions, they hash straight into a context on the stack
/// (same code, SHA extensions included: 71 ns for 100 bytes against 409). Anywhere else, or if that library
/// disagrees with the runtime on a known input at start, the runtime's function is used.
/// </summary>
public static unsafe partial class Sha256
{
    public const int Size = Sha256Digest.Size;

    private const string Library = "libcrypto.so.3";

    // OpenSSL's SHA256_CTX is 112 bytes on LP64 (8 + 2 + 16 words, 2 ints); room to spare.
    private const int ContextBytes = 128;

    // Calls below this many bytes are short enough (a few µs at most) to skip the runtime's GC transition.
    private const int ShortInput = 4096;

    /// <summary>True when hashing uses OpenSSL's plain SHA-256 functions, false when the runtime's.</summary>
    public static bool IsNative { get; } = ProbeNative();

    /// <summary>SHA-256 of <paramref name="data"/> into <paramref name="destination"/> (at least 32 bytes).</summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination) =>
        Hash(ReadOnlySpan<byte>.Empty, data, ReadOnlySpan<byte>.Empty, destination);

    /// <summary>SHA-256 of <paramref name="prefix"/> ‖ <paramref name="first"/> ‖ <paramref name="second"/>, without
    /// copying them together (the domain-separated hashes of RFC 9162).</summary>
    public static void Hash(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"a SHA-256 digest needs {Size} bytes, the destination has {destination.Length}", nameof(destination));
        }

        if (!IsNative)
        {
            HashManaged(prefix, first, second, destination);
            return;
        }

        HashNative(prefix, first, second, destination);
    }

    private static void HashNative(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination)
    {
        var context = stackalloc byte[ContextBytes];
        if (SHA256_Init(context) != 1)
        {
            throw new CryptographicException("OpenSSL SHA256_Init failed");
        }

        Update(context, prefix);
        Update(context, first);
        Update(context, second);
        fixed (byte* output = destination)
        {
            if (SHA256_Final(output, context) != 1)
            {
                throw new CryptographicException("OpenSSL SHA256_Final failed");
            }
        }
    }

    private static void Update(byte* context, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        fixed (byte* input = data)
        {
            var ok = data.Length <= ShortInput ? SHA256_Update_Short(context, input, (nuint)data.Length) : SHA256_Update(context, input, (nuint)data.Length);
            if (ok != 1)
            {
                throw new CryptographicException("OpenSSL SHA256_Update failed");
            }
        }
    }

    private static void HashManaged(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination)
    {
        if (prefix.IsEmpty && second.IsEmpty)
        {
            SHA256.HashData(first, destination);
            return;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(prefix);
        hash.AppendData(first);
        hash.AppendData(second);
        hash.GetHashAndReset(destination);
    }

    /// <summary>The native functions are used only if present and in agreement with the runtime on inputs of
    /// several block boundaries.</summary>
    private static bool ProbeNative()
    {
        if (!NativeLibrary.TryLoad(Library, typeof(Sha256).Assembly, null, out var library)
            || !NativeLibrary.TryGetExport(library, "SHA256_Init", out _)
            || !NativeLibrary.TryGetExport(library, "SHA256_Update", out _)
            || !NativeLibrary.TryGetExport(library, "SHA256_Final", out _))
        {
            return false;
        }

        try
        {
            Span<byte> expected = stackalloc byte[Size];
            Span<byte> actual = stackalloc byte[Size];
            var input = new byte[300];
            for (var i = 0; i < input.Length; i++)
            {
                input[i] = (byte)(i * 7 + 3);
            }

            foreach (var length in (ReadOnlySpan<int>)[0, 3, 55, 56, 64, 65, 300])
            {
                HashNative([0x01], input.AsSpan(0, length / 2), input.AsSpan(length / 2, length - length / 2), actual);
                Span<byte> prefixed = new byte[length + 1];
                prefixed[0] = 0x01;
                input.AsSpan(0, length).CopyTo(prefixed[1..]);
                SHA256.HashData(prefixed, expected);
                if (!actual.SequenceEqual(expected))
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or CryptographicException)
        {
            return false;
        }
    }

    /// <summary>For tests: the runtime's path, whichever is in use.</summary>
    internal static void HashWithRuntime(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> destination) =>
        HashManaged(prefix, first, second, destination);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial int SHA256_Init(byte* context);

    [LibraryImport(Library, EntryPoint = "SHA256_Update")]
    [SuppressGCTransition]
    private static partial int SHA256_Update_Short(byte* context, byte* data, nuint length);

    [LibraryImport(Library)]
    private static partial int SHA256_Update(byte* context, byte* data, nuint length);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial int SHA256_Final(byte* digest, byte* context);
}
