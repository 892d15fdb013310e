namespace Federation.Cli.Tests;

/// <summary>Interop with the machine's <c>openssl</c>, both ways (issue: keys readable by `openssl pkey`).</summary>
public class OpenSslInteropTests
{
    [Fact]
    public void OpenSsl_reads_fed_key_files_and_verifies_fed_signatures()
    {
        using var dir = new TempDirectory();
        var key = dir.File("fed.key");
        Assert.Equal(0, FedRunner.InProcess("keys", "generate", "--out", key).ExitCode);
        File.WriteAllText(dir.File("msg"), "epoch 12 committed");
        var signature = FedRunner.InProcess("keys", "sign", "--key", key, "--in", dir.File("msg")).Out.Trim();
        File.WriteAllBytes(dir.File("msg.sig"), Convert.FromBase64String(signature));

        var derived = FedRunner.Tool("openssl", "pkey", "-in", key, "-pubout");
        Assert.Equal(0, derived.ExitCode);
        Assert.Equal(File.ReadAllText(key + ".pub"), derived.Out);

        var verify = FedRunner.Tool("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", key + ".pub", "-rawin", "-in", dir.File("msg"), "-sigfile", dir.File("msg.sig"));
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("Signature Verified Successfully", verify.Out);

        File.WriteAllText(dir.File("msg"), "epoch 13 committed");
        var tampered = FedRunner.Tool("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", key + ".pub", "-rawin", "-in", dir.File("msg"), "-sigfile", dir.File("msg.sig"));
        Assert.NotEqual(0, tampered.ExitCode);
    }

    [Fact]
    public void Fed_reads_openssl_keys_and_verifies_openssl_signatures()
    {
        using var dir = new TempDirectory();
        var key = dir.File("ossl.key");
        Assert.Equal(0, FedRunner.Tool("openssl", "genpkey", "-algorithm", "ed25519", "-out", key).ExitCode);
        Assert.Equal(0, FedRunner.Tool("openssl", "pkey", "-in", key, "-pubout", "-out", key + ".pub").ExitCode);
        File.WriteAllText(dir.File("msg"), "hello from openssl");
        Assert.Equal(0, FedRunner.Tool("openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", dir.File("msg"), "-out", dir.File("msg.sig")).ExitCode);
        var signature = Convert.ToBase64String(File.ReadAllBytes(dir.File("msg.sig")));

        var verified = FedRunner.InProcess("keys", "verify", "--pub", key + ".pub", "--in", dir.File("msg"), "--sig", signature);
        Assert.Equal(0, verified.ExitCode);

        // fed signs with the openssl private key exactly as openssl does (Ed25519 is deterministic).
        var fedSignature = FedRunner.InProcess("keys", "sign", "--key", key, "--in", dir.File("msg")).Out.Trim();
        Assert.Equal(signature, fedSignature);

        File.AppendAllText(dir.File("msg"), "!");
        Assert.Equal(1, FedRunner.InProcess("keys", "verify", "--pub", key + ".pub", "--in", dir.File("msg"), "--sig", signature).ExitCode);
    }

    [Fact]
    public void Keys_of_other_openssl_algorithms_are_refused_with_their_name()
    {
        using var dir = new TempDirectory();
        var key = dir.File("ec.key");
        Assert.Equal(0, FedRunner.Tool("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key).ExitCode);
        var result = FedRunner.InProcess("keys", "show", key);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("EC (ECDSA)", result.Err);
    }
}
