using System.Buffers.Binary;
using System.Text;

namespace Federation.Core.Checkpoints;

/// <summary>The text of a note whose signatures were checked, and the keys that verified it.</summary>
public sealed record OpenedNote(string Text, IReadOnlyList<NoteVerifierKey> VerifiedBy);

/// <summary>A note that must be refused; the message says why.</summary>
public sealed class NoteVerificationException(string message) : Exception(message);

/// <summary>
/// C2SP signed notes (c2sp.org/signed-note): a text ending in a newline, a blank line, then one or
/// more lines <c>— &lt;key name&gt; &lt;base64(key id ‖ signature)&gt;</c>. The signature covers the
/// text including its final newline.
/// </summary>
public static class SignedNote
{
    public const string SignaturePrefix = "\u2014 ";

    /// <summary>Bounds the work a hostile note can cause (the spec requires accepting at least 16).</summary>
    public const int MaxSignatures = 100;

    public const int MaxNoteBytes = 1024 * 1024;

    public static string Sign(string text, params NoteSigner[] signers)
    {
        ValidateText(text);
        if (signers.Length == 0)
        {
            throw new ArgumentException("a note needs at least one signer", nameof(signers));
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        var note = new StringBuilder(text).Append('\n');
        foreach (var signer in signers)
        {
            note.Append(SignaturePrefix).Append(signer.Name).Append(' ').Append(signer.Sign(bytes)).Append('\n');
        }

        return note.ToString();
    }

    /// <summary>Appends further signatures (e.g. a witness cosignature) to a signed note.</summary>
    public static string AddSignatures(string note, params NoteSigner[] signers)
    {
        var (text, _) = Split(note);
        var bytes = Encoding.UTF8.GetBytes(text);
        var result = new StringBuilder(note);
        foreach (var signer in signers)
        {
            result.Append(SignaturePrefix).Append(signer.Name).Append(' ').Append(signer.Sign(bytes)).Append('\n');
        }

        return result.ToString();
    }

    /// <summary>
    /// Checks a note against known keys. Signatures from unknown keys (name and id not both known) are
    /// ignored; a known key's signature that fails makes the whole note fail; at least one known key must verify.
    /// </summary>
    public static OpenedNote Open(string note, IReadOnlyCollection<NoteVerifierKey> known)
    {
        var (text, signatures) = Split(note);
        var bytes = Encoding.UTF8.GetBytes(text);
        var verified = new List<NoteVerifierKey>();
        foreach (var (name, blob) in signatures)
        {
            var id = BinaryPrimitives.ReadUInt32BigEndian(blob);
            var key = known.FirstOrDefault(k => k.Name == name && k.KeyId == id);
            if (key is null)
            {
                continue;
            }

            if (blob.Length != 4 + Crypto.Ed25519PublicKey.SignatureSize || !key.PublicKey.Verify(bytes, blob.AsSpan(4)))
            {
                throw new NoteVerificationException($"the signature of known key {name}+{id:x8} does not verify");
            }

            if (!verified.Contains(key))
            {
                verified.Add(key);
            }
        }

        if (verified.Count == 0)
        {
            var names = string.Join(", ", signatures.Select(s => $"{s.Name}+{BinaryPrimitives.ReadUInt32BigEndian(s.Blob):x8}").Distinct());
            throw new NoteVerificationException($"no signature from a known key (signed by: {names})");
        }

        return new OpenedNote(text, verified);
    }

    /// <summary>Splits a note into its text and signature lines, enforcing the format.</summary>
    public static (string Text, IReadOnlyList<(string Name, byte[] Blob)> Signatures) Split(string note)
    {
        if (Encoding.UTF8.GetByteCount(note) > MaxNoteBytes)
        {
            throw new FormatException($"the note is larger than {MaxNoteBytes} bytes");
        }

        for (var i = 0; i < note.Length; i++)
        {
            var c = note[i];
            if (c < 0x20 && c != '\n')
            {
                throw new FormatException($"the note contains the control character U+{(int)c:X4} (only newline is allowed)");
            }

            if (char.IsHighSurrogate(c) && i + 1 < note.Length && char.IsLowSurrogate(note[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw new FormatException("the note is not valid Unicode (lone surrogate)");
            }
        }

        var separator = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (separator < 0 || !note.EndsWith('\n'))
        {
            throw new FormatException("malformed note: expected the text, a blank line and signature lines, each ending in a newline");
        }

        var text = note[..(separator + 1)];
        var lines = note[(separator + 2)..^1].Split('\n');
        if (lines.Length > MaxSignatures)
        {
            throw new FormatException($"the note has {lines.Length} signatures, more than the limit of {MaxSignatures}");
        }

        var signatures = new List<(string, byte[])>(lines.Length);
        foreach (var line in lines)
        {
            if (!line.StartsWith(SignaturePrefix, StringComparison.Ordinal))
            {
                throw new FormatException($"malformed signature line \"{Shorten(line)}\": expected \"— <key name> <base64>\"");
            }

            var rest = line[SignaturePrefix.Length..];
            var space = rest.LastIndexOf(' ');
            if (space <= 0)
            {
                throw new FormatException($"malformed signature line \"{Shorten(line)}\": missing key name or signature");
            }

            var name = rest[..space];
            NoteKeyId.ValidateName(name);
            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(rest[(space + 1)..]);
            }
            catch (FormatException)
            {
                throw new FormatException($"the signature of {name} is not valid base64");
            }

            if (blob.Length < 5)
            {
                throw new FormatException($"the signature of {name} is too short to hold a key id and a signature");
            }

            signatures.Add((name, blob));
        }

        ValidateText(text);
        return (text, signatures);
    }

    private static void ValidateText(string text)
    {
        if (text.Length == 0 || !text.EndsWith('\n'))
        {
            throw new FormatException("a note text must be non-empty and end with a newline");
        }
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
