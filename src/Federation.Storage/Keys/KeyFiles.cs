using System.Text;
using Federation.Core.Crypto;
using Federation.Storage.Files;

namespace Federation.Storage.Keys;

/// <summary>
/// Key files on disk: <c>FILE</c> holds the PKCS#8 private key (mode 0600), <c>FILE.pub</c> the SPKI
/// public key. Both are the PEM forms <c>openssl pkey</c> reads and writes.
/// </summary>
public static class KeyFiles
{
    public const string PublicSuffix = ".pub";

    /// <summary>Writes a key pair; existing files are never overwritten.</summary>
    public static void WriteKeyPair(string privatePath, Ed25519PrivateKey key)
    {
        var publicPath = privatePath + PublicSuffix;
        if (File.Exists(privatePath) || File.Exists(publicPath))
        {
            throw new IOException($"{(File.Exists(privatePath) ? privatePath : publicPath)} already exists; refusing to overwrite a key");
        }

        DurableFile.WriteAtomic(privatePath, Encoding.ASCII.GetBytes(KeyPem.ExportPrivateKey(key)), DurableFile.OwnerOnly, overwrite: false);
        WritePublicKey(publicPath, key.PublicKey);
    }

    public static void WritePublicKey(string path, Ed25519PublicKey key) =>
        DurableFile.WriteAtomic(path, Encoding.ASCII.GetBytes(KeyPem.ExportPublicKey(key)), DurableFile.OwnerWriteWorldRead, overwrite: false);

    public static Ed25519PrivateKey ReadPrivateKey(string path) => Wrap(path, () => KeyPem.ImportPrivateKey(ReadText(path)));

    /// <summary>Reads a public key file, or the public half of a private key file.</summary>
    public static Ed25519PublicKey ReadPublicKey(string path) => Wrap(path, () => KeyPem.ImportPublicKey(ReadText(path)));

    private static string ReadText(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"key file {path} does not exist", path);
        }

        var info = new FileInfo(path);
        if (info.Length > MaxKeyFileBytes)
        {
            throw new FormatException($"{info.Length} bytes is too large for a key file (limit {MaxKeyFileBytes})");
        }

        return File.ReadAllText(path);
    }

    /// <summary>A PEM Ed25519 key is under 200 bytes; anything far larger is not a key file.</summary>
    private const int MaxKeyFileBytes = 64 * 1024;

    private static T Wrap<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (FormatException ex)
        {
            throw new FormatException($"{path}: {ex.Message}", ex);
        }
    }
}
