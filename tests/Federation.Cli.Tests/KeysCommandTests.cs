using System.Text.RegularExpressions;

namespace Federation.Cli.Tests;

public class KeysCommandTests
{
    [Fact]
    public void Generate_writes_a_0600_private_key_and_a_public_key_and_prints_the_fingerprint()
    {
        using var dir = new TempDirectory();
        var key = dir.File("node.key");
        var result = FedRunner.InProcess("keys", "generate", "--out", key);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches("^ed25519:[0-9a-f]{64}$", result.Out.Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(key));
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", File.ReadAllText(key + ".pub"));
    }

    [Fact]
    public void Generate_never_overwrites_an_existing_key()
    {
        using var dir = new TempDirectory();
        var key = dir.File("node.key");
        Assert.Equal(0, FedRunner.InProcess("keys", "generate", "--out", key).ExitCode);
        var before = File.ReadAllText(key);

        var again = FedRunner.InProcess("keys", "generate", "--out", key);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already exists", again.Err);
        Assert.Equal(before, File.ReadAllText(key));
    }

    [Fact]
    public void Show_prints_the_same_fingerprint_for_the_private_and_the_public_file()
    {
        using var dir = new TempDirectory();
        var key = dir.File("k");
        var fingerprint = FedRunner.InProcess("keys", "generate", "--out", key).Out.Trim();

        var fromPrivate = FedRunner.InProcess("keys", "show", key);
        var fromPublic = FedRunner.InProcess("keys", "show", key + ".pub");
        Assert.Contains($"fingerprint: {fingerprint}", fromPrivate.Out);
        Assert.Equal(fromPrivate.Out, fromPublic.Out);
        Assert.DoesNotContain("PRIVATE", fromPrivate.Out);
    }

    [Fact]
    public void Sign_then_verify_succeeds_and_a_changed_file_fails_with_exit_1()
    {
        using var dir = new TempDirectory();
        var key = dir.File("k");
        FedRunner.InProcess("keys", "generate", "--out", key);
        var message = dir.File("m.bin");
        File.WriteAllBytes(message, [1, 2, 3, 4]);

        var signature = FedRunner.InProcess("keys", "sign", "--key", key, "--in", message).Out.Trim();
        Assert.Equal(64, Convert.FromBase64String(signature).Length);
        Assert.Equal(0, FedRunner.InProcess("keys", "verify", "--pub", key + ".pub", "--in", message, "--sig", signature).ExitCode);

        File.WriteAllBytes(message, [1, 2, 3, 5]);
        var bad = FedRunner.InProcess("keys", "verify", "--pub", key + ".pub", "--in", message, "--sig", signature);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("does NOT verify", bad.Err);
    }

    [Fact]
    public void Verify_with_another_key_fails_with_exit_1()
    {
        using var dir = new TempDirectory();
        FedRunner.InProcess("keys", "generate", "--out", dir.File("a"));
        FedRunner.InProcess("keys", "generate", "--out", dir.File("b"));
        File.WriteAllText(dir.File("m"), "hello");
        var signature = FedRunner.InProcess("keys", "sign", "--key", dir.File("a"), "--in", dir.File("m")).Out.Trim();
        Assert.Equal(1, FedRunner.InProcess("keys", "verify", "--pub", dir.File("b.pub"), "--in", dir.File("m"), "--sig", signature).ExitCode);
    }

    [Theory]
    [InlineData("AAAA", "64-byte Ed25519 signature, got 3 bytes")]
    [InlineData("not base64!", "not valid base64")]
    public void Verify_with_an_unusable_signature_exits_2_saying_what(string signature, string expected)
    {
        using var dir = new TempDirectory();
        FedRunner.InProcess("keys", "generate", "--out", dir.File("k"));
        File.WriteAllText(dir.File("m"), "hello");
        var result = FedRunner.InProcess("keys", "verify", "--pub", dir.File("k.pub"), "--in", dir.File("m"), "--sig", signature);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Err);
    }

    [Fact]
    public void A_truncated_signature_is_refused_not_checked()
    {
        using var dir = new TempDirectory();
        FedRunner.InProcess("keys", "generate", "--out", dir.File("k"));
        File.WriteAllText(dir.File("m"), "hello");
        var signature = Convert.FromBase64String(FedRunner.InProcess("keys", "sign", "--key", dir.File("k"), "--in", dir.File("m")).Out.Trim());
        var truncated = Convert.ToBase64String(signature[..63]);
        var result = FedRunner.InProcess("keys", "verify", "--pub", dir.File("k.pub"), "--in", dir.File("m"), "--sig", truncated);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("got 63 bytes", result.Err);
    }

    [Fact]
    public void Malformed_and_missing_key_files_exit_2_with_one_line_naming_the_file()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("garbage.key"), "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n");
        foreach (var (file, expected) in new[] { (dir.File("garbage.key"), "malformed PKCS#8"), (dir.File("missing.key"), "does not exist") })
        {
            var result = FedRunner.InProcess("keys", "show", file);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains(expected, result.Err);
            Assert.Single(result.Err.Trim().Split('\n'));
        }
    }

    [Fact]
    public void Errors_from_the_real_process_are_one_line_without_a_stack_trace()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("bad.key"), "nonsense");
        var result = FedRunner.Process(null, "keys", "sign", "--key", dir.File("bad.key"), "--in", dir.File("bad.key"));
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.DoesNotMatch(new Regex(@"\s+at\s+\w"), result.Err);
        Assert.StartsWith("fed: ", result.Err);
    }

    [Fact]
    public void Missing_required_options_exit_2()
    {
        var result = FedRunner.InProcess("keys", "sign", "--key", "x");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--in", result.Err);
    }
}
