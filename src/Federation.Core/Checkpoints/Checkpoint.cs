using System.Globalization;
using System.Text;
using Federation.Core.Hashing;

namespace Federation.Core.Checkpoints;

/// <summary>
/// A C2SP tlog-checkpoint body (c2sp.org/tlog-checkpoint): the log's origin line, the tree size in
/// decimal, the base64 root hash, optional extension lines, each ending in a newline. It is the text
/// of a signed note.
/// </summary>
public sealed record Checkpoint(string Origin, long Size, Sha256Digest Root, IReadOnlyList<string> Extensions)
{
    public Checkpoint(string origin, long size, Sha256Digest root)
        : this(origin, size, root, [])
    {
    }

    public string ToText()
    {
        if (string.IsNullOrEmpty(Origin) || Origin.Contains('\n'))
        {
            throw new FormatException("a checkpoint origin must be one non-empty line");
        }

        var text = new StringBuilder()
            .Append(Origin).Append('\n')
            .Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Convert.ToBase64String(Root.ToArray())).Append('\n');
        foreach (var extension in Extensions)
        {
            text.Append(extension).Append('\n');
        }

        return text.ToString();
    }

    public static Checkpoint Parse(string text)
    {
        if (!text.EndsWith('\n'))
        {
            throw new FormatException("a checkpoint must end with a newline");
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            throw new FormatException($"a checkpoint needs at least 3 lines (origin, size, root), got {lines.Length}");
        }

        var origin = lines[0];
        if (origin.Length == 0)
        {
            throw new FormatException("the checkpoint origin line is empty");
        }

        var sizeText = lines[1];
        if (sizeText.Length == 0 || !sizeText.All(char.IsAsciiDigit) || (sizeText.Length > 1 && sizeText[0] == '0')
            || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new FormatException($"the checkpoint size \"{sizeText}\" must be a decimal number without leading zeros");
        }

        byte[] root;
        try
        {
            root = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            throw new FormatException("the checkpoint root is not valid base64");
        }

        if (root.Length != Sha256Digest.Size)
        {
            throw new FormatException($"the checkpoint root must be 32 bytes, got {root.Length}");
        }

        if (lines.Skip(3).Any(l => l.Length == 0))
        {
            throw new FormatException("checkpoint extension lines must not be empty");
        }

        return new Checkpoint(origin, size, new Sha256Digest(root), lines[3..]);
    }

    /// <summary>Signs this checkpoint as a note.</summary>
    public string Sign(params NoteSigner[] signers) => SignedNote.Sign(ToText(), signers);

    /// <summary>Opens a signed checkpoint note with known keys and parses its body.</summary>
    public static (Checkpoint Checkpoint, OpenedNote Note) Open(string note, IReadOnlyCollection<NoteVerifierKey> known)
    {
        var opened = SignedNote.Open(note, known);
        return (Parse(opened.Text), opened);
    }
}
