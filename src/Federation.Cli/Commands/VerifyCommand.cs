using System.CommandLine;
using Federation.Simulation;

namespace Federation.Cli.Commands;

/// <summary><c>fed verify --phase M5 [--artifacts DIR]</c>: the compliance validator (SPEC A). Exit 0 compliant, 1 listing every failure, 2 unusable input.</summary>
public static class VerifyCommand
{
    public static Command Build(CliConsole console)
    {
        var phase = new Option<string>("--phase") { Description = "Compliance phase (M5)", Required = true };
        var artifacts = new Option<string>("--artifacts") { Description = "Artifacts directory", DefaultValueFactory = _ => SimulateCommand.DefaultOut };
        var command = new Command("verify", "Compliance validator: check a phase's artifacts offline (exit 0 compliant, 1 not, 2 unusable input)") { phase, artifacts };
        command.SetAction(parse => console.Run(() =>
        {
            if (!string.Equals(parse.GetValue(phase), "M5", StringComparison.OrdinalIgnoreCase))
            {
                return console.Unusable($"--phase must be M5, got \"{parse.GetValue(phase)}\"");
            }

            var directory = parse.GetValue(artifacts)!;
            var report = M5Compliance.VerifyAsync(directory).GetAwaiter().GetResult();
            foreach (var item in report.Checked)
            {
                console.Out.WriteLine($"checked  {item}");
            }

            if (report.Passed)
            {
                console.Out.WriteLine($"M5 compliant: {directory}");
                return ExitCodes.Ok;
            }

            foreach (var failure in report.Failures)
            {
                console.Error.WriteLine($"FAIL  {failure}");
            }

            return console.Fail($"M5 not compliant: {report.Failures.Count} failure(s)");
        }));
        return command;
    }
}
