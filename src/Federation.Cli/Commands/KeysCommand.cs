using System.CommandLine;
using Federation.Core.Crypto;
using Federation.Storage.Keys;

namespace Federation.Cli.Commands;

/// <summary><c>fed keys generate|show|sign|verify</c>: Ed25519 key files (PKCS#8 / SPKI PEM).</summary>
public static class KeysCommand
{
    /// <summary>Files signed from the command line are read whole; larger ones are refused.</summary>
    public const long MaxMessageBytes = 256L * 1024 * 1024;

    public static Command Build(CliConsole console)
    {
        var keys = new Command("keys", "Generate, inspect and use Ed25519 keys");
        keys.Subcommands.Add(Generate(console));
        keys.Subcommands.Add(Show(console));
        keys.Subcommands.Add(Sign(console));
        keys.Subcommands.Add(Verify(console));
        return keys;
    }

    private static Command Generate(CliConsole console)
    {
        var output = new Option<string>("--out") { Description = "Private key file to write (FILE.pub gets the public key)", Required = true };
        var command = new Command("generate", "Generate a key pair: FILE (private, mode 0600) and FILE.pub; prints the fingerprint") { output };
        command.SetAction(parse => console.Run(() =>
        {
            var path = parse.GetValue(output)!;
            using var key = Ed25519PrivateKey.Generate();
            KeyFiles.WriteKeyPair(path, key);
            console.Out.WriteLine(key.Fingerprint);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(CliConsole console)
    {
        var file = new Argument<string>("file") { Description = "Private or public key file" };
        var command = new Command("show", "Print the fingerprint and public key of a key file") { file };
        command.SetAction(parse => console.Run(() =>
        {
            var key = KeyFiles.ReadPublicKey(parse.GetValue(file)!);
            console.Out.WriteLine($"fingerprint: {key.Fingerprint}");
            console.Out.WriteLine($"public key:  {key.ToHex()}");
            console.Out.Write(KeyPem.ExportPublicKey(key));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Sign(CliConsole console)
    {
        var keyFile = new Option<string>("--key") { Description = "Private key file", Required = true };
        var input = new Option<string>("--in") { Description = "File to sign, or - for standard input", Required = true };
        var command = new Command("sign", "Print the base64 Ed25519 signature of a file's bytes") { keyFile, input };
        command.SetAction(parse => console.Run(() =>
        {
            using var key = KeyFiles.ReadPrivateKey(parse.GetValue(keyFile)!);
            var message = CliConsole.ReadInput(parse.GetValue(input)!, MaxMessageBytes);
            console.Out.WriteLine(Convert.ToBase64String(key.Sign(message)));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Verify(CliConsole console)
    {
        var publicFile = new Option<string>("--pub") { Description = "Public (or private) key file", Required = true };
        var input = new Option<string>("--in") { Description = "Signed file, or - for standard input", Required = true };
        var signature = new Option<string>("--sig") { Description = "Base64 Ed25519 signature", Required = true };
        var command = new Command("verify", "Verify a signature: exit 0 valid, 1 invalid, 2 unusable input") { publicFile, input, signature };
        command.SetAction(parse => console.Run(() =>
        {
            var key = KeyFiles.ReadPublicKey(parse.GetValue(publicFile)!);
            byte[] signatureBytes;
            try
            {
                signatureBytes = Convert.FromBase64String(parse.GetValue(signature)!.Trim());
            }
            catch (FormatException)
            {
                return console.Unusable("--sig is not valid base64");
            }

            if (signatureBytes.Length != Ed25519PublicKey.SignatureSize)
            {
                return console.Unusable($"--sig must decode to a {Ed25519PublicKey.SignatureSize}-byte Ed25519 signature, got {signatureBytes.Length} bytes");
            }

            var message = CliConsole.ReadInput(parse.GetValue(input)!, MaxMessageBytes);
            if (!key.Verify(message, signatureBytes))
            {
                return console.Fail($"signature does NOT verify for {key.Fingerprint}");
            }

            console.Out.WriteLine($"signature verified: {key.Fingerprint}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
