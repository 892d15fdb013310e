using System.CommandLine;
using Federation.Cli.Commands;

namespace Federation.Cli;

/// <summary>The <c>fed</c> command: one root, a subcommand per area.</summary>
public static class FedCli
{
    public static RootCommand Build(TextWriter output, TextWriter error)
    {
        var console = new CliConsole(output, error);
        var root = new RootCommand("fed — Federation.Orleans: signed federated meta cycles sealed into verifiable scrolls.");
        root.Subcommands.Add(CanonCommand.Build(console));
        root.Subcommands.Add(KeysCommand.Build(console));
        root.Subcommands.Add(DemoCommand.Build(console));
        root.Subcommands.Add(ScrollCommand.Build(console));
        root.Subcommands.Add(ScrollCommand.VerifyBundle(console));
        root.Subcommands.Add(BenchCommand.Build(console));
        root.Subcommands.Add(ReviewCommand.Build(console));
        root.Subcommands.Add(AdvisoryCommand.Build(console));
        root.Subcommands.Add(SimulateCommand.Build(console));
        root.Subcommands.Add(VerifyCommand.Build(console));
        root.Subcommands.Add(ServeCommand.Build(console));
        root.Subcommands.Add(TokenCommand.Build(console));
        root.Subcommands.Add(NodeCommand.Build(console));
        return root;
    }

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Build(output, error);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                error.WriteLine($"fed: {parseError.Message}");
            }

            error.WriteLine("fed: run with --help for usage");
            return ExitCodes.UnusableInput;
        }

        return parsed.Invoke(new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            // fed serve stops on SIGTERM and SIGINT itself (the host's console lifetime: gracefully, however long that
            // takes); every other command keeps System.CommandLine's handling (cancel, then exit after 2 s).
            ProcessTerminationTimeout = args is ["serve", ..] ? null : TimeSpan.FromSeconds(2),
            Output = output,
            Error = error,
        });
    }
}
