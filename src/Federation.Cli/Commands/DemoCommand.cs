using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Signing;
using Federation.Storage.Files;
using Federation.Storage.Keys;

namespace Federation.Cli.Commands;

/// <summary>
/// <c>fed demo</c>: the README's main job until the simulator exists. Generates (or reuses) a key,
/// signs a receipt, writes it, reads the key back from disk, verifies the receipt and shows that a
/// tampered copy is refused.
/// </summary>
public static class DemoCommand
{
    public static Command Build(CliConsole console)
    {
        var output = new Option<string>("--out") { Description = "Directory for the demo's key and receipt", DefaultValueFactory = _ => Path.Combine("data", "demo") };
        var command = new Command("demo", "Generate a key, sign a receipt and verify it (offline)") { output };
        command.SetAction(parse => console.Run(() => Run(console, parse.GetValue(output)!)));
        command.Subcommands.Add(DemoLiveCommand.Build(console));
        return command;
    }

    private static int Run(CliConsole console, string directory)
    {
        Directory.CreateDirectory(directory);
        var keyPath = Path.Combine(directory, "governance.key");
        if (!File.Exists(keyPath))
        {
            using var fresh = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(keyPath, fresh);
            console.Out.WriteLine($"generated key   {keyPath} (+ .pub), fingerprint {fresh.Fingerprint}");
        }

        using var key = KeyFiles.ReadPrivateKey(keyPath);
        console.Out.WriteLine($"signing key     {key.Fingerprint}");

        var body = new JsonObject { ["decision"] = "FEDERATED_APPLY", ["epoch"] = 1, ["note"] = "demo receipt" };
        var receipt = new JsonObject
        {
            ["type"] = "demo_receipt",
            ["scroll"] = "demo",
            ["seq"] = 0,
            ["time"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["body"] = body,
            ["tags"] = new JsonArray("demo"),
        };
        var signed = SignedEnvelope.Sign(receipt, new Ed25519Signer(key));
        var receiptPath = Path.Combine(directory, "receipt.json");
        DurableFile.WriteAtomic(receiptPath, signed.ToCanonicalJson());
        console.Out.WriteLine($"signed receipt  {receiptPath}");
        console.Out.WriteLine($"payload digest  {Sha256Digest.Of(signed.SignedBytes)}");

        // Verify from what is on disk only: the receipt file and the public key file.
        var publicKey = KeyFiles.ReadPublicKey(keyPath + KeyFiles.PublicSuffix);
        var verifier = Ed25519Verifier.Trusting(publicKey);
        var check = SignedEnvelope.Parse(File.ReadAllBytes(receiptPath)).Verify(verifier);
        console.Out.WriteLine($"verify          {(check.IsValid ? "OK" : "FAILED")}: {check.Detail}");

        var tampered = Encoding.UTF8.GetString(File.ReadAllBytes(receiptPath)).Replace("demo receipt", "demo receipT", StringComparison.Ordinal);
        var tamperedCheck = SignedEnvelope.Parse(tampered).Verify(verifier);
        console.Out.WriteLine($"tampered copy   {(tamperedCheck.IsValid ? "ACCEPTED (bug!)" : "refused")}: {tamperedCheck.Detail}");

        return check.IsValid && !tamperedCheck.IsValid ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
