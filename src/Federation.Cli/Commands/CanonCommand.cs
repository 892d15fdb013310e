using System.CommandLine;
using System.Text;
using Federation.Core.Canonical;

namespace Federation.Cli.Commands;

/// <summary><c>fed canon [FILE|-]</c>: prints the RFC 8785 form of a JSON document.</summary>
public static class CanonCommand
{
    /// <summary>Documents larger than this are refused rather than read into memory.</summary>
    public const long MaxInputBytes = 64L * 1024 * 1024;

    public static Command Build(CliConsole console)
    {
        var file = new Argument<string>("file")
        {
            Description = "JSON file to canonicalise, or - for standard input",
            DefaultValueFactory = _ => "-",
        };
        var command = new Command("canon", "Print the RFC 8785 (JCS) canonical form of a JSON document") { file };
        command.SetAction(parse => console.Run(() =>
        {
            var canonical = CanonicalJson.Canonicalize(CliConsole.ReadInput(parse.GetValue(file)!, MaxInputBytes));
            console.Out.Write(Encoding.UTF8.GetString(canonical));
            console.Out.WriteLine();
            return ExitCodes.Ok;
        }));
        return command;
    }
}
