using Federation.Cli;

namespace Federation.Simulation.Tests;

/// <summary>Runs <c>fed</c> in process and finds the repository's scenarios and committed artifacts.</summary>
internal static class SimulationRun
{
    public static string RepositoryRoot { get; } = SharedVectors.RepositoryRoot();

    public static string ScenarioPath(string name) => Path.Combine(RepositoryRoot, "simulations", name + ".json");

    public static (int Exit, string Out, string Err) Fed(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = FedCli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Every file under <paramref name="directory"/>, relative, in ordinal order.</summary>
    public static List<string> Files(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f)).Order(StringComparer.Ordinal).ToList();
}
