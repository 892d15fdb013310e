using Federation.Core.Signing;
using Federation.Storage.Keys;

namespace Federation.Cli.Tests;

public class DemoCommandTests
{
    [Fact]
    public void Demo_signs_a_receipt_that_verifies_offline_with_the_written_public_key()
    {
        using var dir = new TempDirectory();
        var result = FedRunner.InProcess("demo", "--out", dir.Path);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("verify          OK", result.Out);
        Assert.Contains("tampered copy   refused", result.Out);

        var envelope = SignedEnvelope.Parse(File.ReadAllBytes(dir.File("receipt.json")));
        var publicKey = KeyFiles.ReadPublicKey(dir.File("governance.key.pub"));
        Assert.True(envelope.Verify(Ed25519Verifier.Trusting(publicKey)).IsValid);
        Assert.Equal("demo_receipt", envelope.Payload["type"]!.GetValue<string>());

        // A second run reuses the key instead of failing on the existing file.
        Assert.Equal(0, FedRunner.InProcess("demo", "--out", dir.Path).ExitCode);
    }
}
