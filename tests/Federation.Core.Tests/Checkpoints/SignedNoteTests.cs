using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Merkle;

namespace Federation.Core.Tests.Checkpoints;

public class SignedNoteTests
{
    // The reference vector of golang.org/x/mod/sumdb/note (note_test.go): the PeterNeumann key and note.
    private const string GoVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    private const string GoSignerKeyMaterial = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"; // base64(0x01 ‖ seed)
    private const string GoText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    private const string GoNote = GoText + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    private static Ed25519PrivateKey GoKey() => Ed25519PrivateKey.FromSeed(Convert.FromBase64String(GoSignerKeyMaterial).AsSpan(1));

    private static Ed25519PrivateKey Key(byte fill) => Ed25519PrivateKey.FromSeed(Enumerable.Repeat(fill, 32).ToArray());

    [Fact]
    public void The_go_reference_note_is_reproduced_byte_for_byte_and_verifies()
    {
        using var key = GoKey();
        var signer = new NoteSigner("PeterNeumann", key);
        Assert.Equal(GoVerifierKey, signer.VerifierKey.ToString());
        Assert.Equal(0xc74f20a3u, signer.KeyId);
        Assert.Equal(GoNote, SignedNote.Sign(GoText, signer));

        var opened = SignedNote.Open(GoNote, [NoteVerifierKey.Parse(GoVerifierKey)]);
        Assert.Equal(GoText, opened.Text);
        Assert.Equal("PeterNeumann", Assert.Single(opened.VerifiedBy).Name);
    }

    [Fact]
    public void A_changed_text_fails_verification()
    {
        var ex = Assert.Throws<NoteVerificationException>(() =>
            SignedNote.Open(GoNote.Replace("cryptography", "cryptographY"), [NoteVerifierKey.Parse(GoVerifierKey)]));
        Assert.Contains("does not verify", ex.Message);
    }

    [Fact]
    public void Unknown_keys_are_ignored_and_one_known_signature_suffices()
    {
        using var a = Key(1);
        using var b = Key(2);
        var note = SignedNote.Sign("log.example/a\n1\n" + Convert.ToBase64String(new byte[32]) + "\n", new NoteSigner("witness.example", b), new NoteSigner("log.example", a));
        var opened = SignedNote.Open(note, [NoteVerifierKey.For("log.example", a.PublicKey)]);
        Assert.Equal("log.example", Assert.Single(opened.VerifiedBy).Name);

        var both = SignedNote.Open(note, [NoteVerifierKey.For("log.example", a.PublicKey), NoteVerifierKey.For("witness.example", b.PublicKey)]);
        Assert.Equal(2, both.VerifiedBy.Count);
    }

    [Fact]
    public void A_note_with_no_known_signature_is_refused_naming_its_signers()
    {
        using var a = Key(3);
        using var other = Key(4);
        var note = SignedNote.Sign("text\n", new NoteSigner("log.example", a));
        var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(note, [NoteVerifierKey.For("log.example", other.PublicKey)]));
        Assert.Contains("no signature from a known key", ex.Message);
        Assert.Contains("log.example+", ex.Message);
    }

    [Fact]
    public void A_known_key_whose_signature_fails_rejects_the_note_even_if_another_verifies()
    {
        using var a = Key(5);
        using var b = Key(6);
        var note = SignedNote.Sign("text\n", new NoteSigner("a.example", a));
        // A line claiming b's name and id but carrying a's signature bytes.
        var bSigner = new NoteSigner("b.example", b);
        var aBlob = Convert.FromBase64String(note.Split('\n')[^2].Split(' ')[^1]);
        var forged = new byte[aBlob.Length];
        aBlob.CopyTo(forged, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(forged, bSigner.KeyId);
        var withForgery = note + $"— b.example {Convert.ToBase64String(forged)}\n";
        Assert.Throws<NoteVerificationException>(() => SignedNote.Open(withForgery, [NoteVerifierKey.For("a.example", a.PublicKey), bSigner.VerifierKey]));
    }

    [Theory]
    [InlineData("no blank line\n— a AAAA\n", "malformed note")]
    [InlineData("text\n\nnot a signature line\n", "malformed signature line")]
    [InlineData("text\n\n— a !!!\n", "not valid base64")]
    [InlineData("text\n\n— a AAAA\n", "too short")]
    [InlineData("text\n\n— a+b AAAAAAAA\n", "must not contain")]
    [InlineData("te\u0001xt\n\n— a AAAAAAAA\n", "control character")]
    [InlineData("text\n\n— a AAAAAAAA", "malformed note")]
    public void Malformed_notes_are_refused_with_a_reason(string note, string expected)
    {
        var ex = Assert.ThrowsAny<FormatException>(() => SignedNote.Open(note, [NoteVerifierKey.Parse(GoVerifierKey)]));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Too_many_signatures_are_refused()
    {
        var lines = string.Concat(Enumerable.Repeat("— a AAAAAAAA\n", SignedNote.MaxSignatures + 1));
        Assert.Contains("limit", Assert.Throws<FormatException>(() => SignedNote.Open("t\n\n" + lines, [NoteVerifierKey.Parse(GoVerifierKey)])).Message);
    }

    [Theory]
    [InlineData("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match")]
    [InlineData("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase hex")]
    [InlineData("PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "0x01 (Ed25519)")]
    [InlineData("PeterNeumann+c74f20a3", "must be name+")]
    [InlineData("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "must not be empty")]
    [InlineData("PeterNeumann+c74f20a3+not-base64", "not valid base64")]
    public void Malformed_verifier_keys_are_refused(string key, string expected)
    {
        Assert.Contains(expected, Assert.Throws<FormatException>(() => NoteVerifierKey.Parse(key)).Message);
    }

    [Fact]
    public void Every_single_byte_mangling_of_a_verifier_key_is_refused()
    {
        var chars = GoVerifierKey.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var original = chars[i];
            chars[i] = (char)(original + 1);
            Assert.ThrowsAny<FormatException>(() => NoteVerifierKey.Parse(new string(chars)));
            chars[i] = original;
        }
    }

    [Fact]
    public void A_checkpoint_round_trips_through_a_signed_note()
    {
        using var key = Key(7);
        var tree = new MerkleTree();
        for (var i = 0; i < 10; i++)
        {
            tree.AppendData([(byte)i]);
        }

        var checkpoint = new Checkpoint("federation.example/updates", tree.Size, tree.Root());
        var signer = new NoteSigner("federation.example/updates", key);
        var note = checkpoint.Sign(signer);
        Assert.StartsWith("federation.example/updates\n10\n" + Convert.ToBase64String(tree.Root().ToArray()) + "\n\n— federation.example/updates ", note);

        var (opened, _) = Checkpoint.Open(note, [signer.VerifierKey]);
        Assert.Equal(checkpoint.Origin, opened.Origin);
        Assert.Equal(10, opened.Size);
        Assert.Equal(tree.Root(), opened.Root);
    }

    [Theory]
    [InlineData("o\n1\n", "at least 3 lines")]
    [InlineData("o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "without leading zeros")]
    [InlineData("o\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "decimal number")]
    [InlineData("o\n1\nAAAA\n", "32 bytes")]
    [InlineData("\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "origin line is empty")]
    [InlineData("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "end with a newline")]
    public void Malformed_checkpoint_bodies_are_refused(string text, string expected)
    {
        Assert.Contains(expected, Assert.Throws<FormatException>(() => Checkpoint.Parse(text)).Message);
    }

    [Fact]
    public void Extension_lines_are_kept()
    {
        var checkpoint = new Checkpoint("o", 5, Sha256Digest.Of([1]), ["ext one", "ext two"]);
        Assert.Equal(checkpoint.Extensions, Checkpoint.Parse(checkpoint.ToText()).Extensions);
    }
}
