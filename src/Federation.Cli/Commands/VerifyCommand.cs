using System.CommandLine;
using Federation.Core.Signing;
using Federation.Simulation;

namespace Federation.Cli.Commands;

/// <summary><c>fed verify --phase M5 [--artifacts DIR]</c>: the compliance validator (SPEC A). Exit 0 compliant, 1 listing every failure, 2 unusable input.</summary>
public static class VerifyCommand
{
    public static Command Build(CliConsole console)
    {
        var phase = new Option<string>("--phase") { Description = "Compliance phase (M5)", Required = true };
        var artifacts = new Option<string>("--artifacts") { Description = "Artifacts directory", DefaultValueFactory = _ => SimulateCommand.DefaultOut };
        var trust = new Option<string>("--trust") { Description = "Trust file (fed-trust/v1) with the governance, plan, scroll and validator keys to trust, kept outside the folder checked; without it the folder's own keys are used (internal consistency only)" };
        var writeTrust = new Option<string>("--write-trust") { Description = "After a compliant check, write the keys the artifacts were checked with to this trust file (pin a run you know to be good); never inside --artifacts" };
        var maxPlanBytes = new Option<long>("--max-plan-bytes") { Description = "Refuse a plan larger than this (default 1 GiB)", DefaultValueFactory = _ => M5Compliance.DefaultMaxPlanBytes };
        var command = new Command("verify", "Compliance validator: check a phase's artifacts offline (exit 0 compliant, 1 not, 2 unusable input)") { phase, artifacts, trust, writeTrust, maxPlanBytes };
        command.SetAction(parse => console.Run(() =>
        {
            if (!string.Equals(parse.GetValue(phase), "M5", StringComparison.OrdinalIgnoreCase))
            {
                return console.Unusable($"--phase must be M5, got \"{parse.GetValue(phase)}\"");
            }

            var directory = parse.GetValue(artifacts)!;
            if (parse.GetValue(writeTrust) is { } pin && Path.GetFullPath(pin).StartsWith(Path.GetFullPath(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return console.Unusable($"--write-trust {pin} is inside the folder checked: a trust file must live outside it");
            }

            var trusted = parse.GetValue(trust) is { } file ? TrustRoots.Read(file) : null;
            var report = M5Compliance.VerifyAsync(directory, trusted, parse.GetValue(maxPlanBytes)).GetAwaiter().GetResult();
            foreach (var item in report.Checked)
            {
                console.Out.WriteLine($"checked  {item}");
            }

            foreach (var note in report.Notes)
            {
                console.Out.WriteLine($"note     {note}");
            }

            if (report.Passed)
            {
                console.Out.WriteLine(trusted is null ? $"M5 compliant (internally consistent; keys from the folder): {directory}" : $"M5 compliant (trusted keys): {directory}");
                if (parse.GetValue(writeTrust) is { } output)
                {
                    var roots = trusted ?? M5Compliance.TrustOf(directory);
                    Federation.Storage.Files.DurableFile.WriteAtomic(output, System.Text.Encoding.UTF8.GetBytes(roots.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n"), overwrite: false);
                    console.Out.WriteLine($"wrote the keys checked with to {output}");
                }

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
