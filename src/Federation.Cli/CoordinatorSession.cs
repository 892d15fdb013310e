using System.CommandLine;
using Federation.Core.Scrolls;
using Federation.Grains.Services;
using Microsoft.Extensions.Configuration;

namespace Federation.Cli;

/// <summary>Options of the commands that act on a coordinator's state (review, advisory, token).</summary>
/// <param name="federationRequired">False for a command that may act on the cluster instead (<c>fed token --cluster</c>).</param>
public sealed class CoordinatorCliOptions(bool federationRequired = true)
{
    public Option<string> Federation { get; } = new("--federation") { Description = "Federation id", Required = federationRequired };

    public Option<string> DataDir { get; } = new("--data-dir") { Description = "The coordinator's data directory (default: appsettings Federation:DataDirectory or ./data)" };

    public Option<string> Settings { get; } = new("--settings") { Description = "appsettings.json to read (default: $FED_SETTINGS or ./appsettings.json)" };

    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON instead of text" };

    public void AddTo(Command command, bool withJson = false)
    {
        command.Options.Add(Federation);
        command.Options.Add(DataDir);
        command.Options.Add(Settings);
        if (withJson)
        {
            command.Options.Add(Json);
        }
    }
}

/// <summary>
/// One CLI invocation's coordinator: starts the grain host over the data directory (the same bootstrap as the
/// coordinator, <see cref="CoordinatorHost"/>), runs the command, stops it. The file store lets one process own
/// a scroll at a time: run these commands while the coordinator is stopped, or use PostgreSQL.
/// </summary>
internal static class CoordinatorSession
{
    /// <summary>
    /// The settings a coordinator runs on: <paramref name="explicitPath"/>, else <c>$FED_SETTINGS</c>, else
    /// <c>./appsettings.json</c> (checked by <see cref="SettingsFile"/>; absent and not named: no settings). Returns them
    /// with the directory relative paths in them are relative to.
    /// </summary>
    public static (IConfiguration Configuration, string BaseDirectory) LoadSettings(string? explicitPath)
    {
        var path = Path.GetFullPath(explicitPath ?? Environment.GetEnvironmentVariable("FED_SETTINGS") ?? "appsettings.json");
        var builder = new ConfigurationBuilder();
        if (File.Exists(path))
        {
            SettingsFile.Read(path).Dispose();
            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }
        else if (explicitPath is not null)
        {
            throw new FileNotFoundException($"settings file {path} does not exist", path);
        }

        return (builder.Build(), Path.GetDirectoryName(path)!);
    }

    /// <param name="role"><see cref="CoordinatorRole.Reader"/> for the commands that only read: no private key, nothing written.</param>
    public static async Task<(CoordinatorHost Host, string FederationId)> OpenAsync(ParseResult parse, CoordinatorCliOptions options, CancellationToken ct, CoordinatorRole role = CoordinatorRole.Command)
    {
        var federationId = FederationScrolls.ValidateFederationId(parse.GetValue(options.Federation)!);
        var host = await OpenClusterAsync(parse, options, ct, role);
        if (!host.FederationIds.Contains(federationId))
        {
            await host.DisposeAsync();
            throw new ArgumentException(host.FederationIds.Count == 0
                ? $"federation \"{federationId}\" is not configured in the settings (Federations:N:Id): no federation is"
                : $"federation \"{federationId}\" is not configured in the settings (Federations:N:Id); its federations are {string.Join(", ", host.FederationIds.Order(StringComparer.Ordinal))}");
        }

        return (host, federationId);
    }

    /// <summary>The coordinator over the data directory, for a command about the cluster rather than one federation.</summary>
    public static Task<CoordinatorHost> OpenClusterAsync(ParseResult parse, CoordinatorCliOptions options, CancellationToken ct, CoordinatorRole role = CoordinatorRole.Command)
    {
        var (configuration, baseDirectory) = LoadSettings(parse.GetValue(options.Settings));
        return CoordinatorHost.StartAsync(configuration, baseDirectory, parse.GetValue(options.DataDir), role, ct);
    }
}
