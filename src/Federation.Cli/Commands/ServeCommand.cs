using System.CommandLine;
using Federation.Grains.Services;
using Federation.Service;
using Microsoft.Extensions.Hosting;

namespace Federation.Cli.Commands;

/// <summary>
/// <c>fed serve [--settings FILE] [--data-dir DIR] [--urls URL,…]</c>: the coordinator as a service — its Orleans silo
/// (every federation's epochs close on quorum + grace or at their deadline, are voted on and applied) and the HTTP API
/// nodes call (docs/formats/http-api.md), until SIGTERM or
/// SIGINT stops it gracefully (every activation deactivates, every scroll is sealed).
/// </summary>
public static class ServeCommand
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public static Command Build(CliConsole console)
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The coordinator's data directory (default: appsettings Federation:DataDirectory or ./data)" };
        var settings = new Option<string>("--settings") { Description = "appsettings.json to read (default: $FED_SETTINGS or ./appsettings.json)" };
        var urls = new Option<string>("--urls") { Description = $"Where to listen, comma-separated (default {DefaultUrls})", DefaultValueFactory = _ => DefaultUrls };
        var command = new Command("serve", "Run the coordinator: the Orleans silo and the HTTP API, until SIGTERM or Ctrl-C") { dataDir, settings, urls };
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            var listen = parse.GetValue(urls)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var url in listen)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    return console.Unusable($"--urls: \"{url}\" is not an http:// or https:// URL");
                }
            }

            var (configuration, baseDirectory) = CoordinatorSession.LoadSettings(parse.GetValue(settings));
            await using var host = await CoordinatorHost.StartAsync(configuration, baseDirectory, CoordinatorWeb.Shape(listen, baseDirectory), parse.GetValue(dataDir), CoordinatorRole.Coordinator, ct);
            // Epochs run on their own: each federation's epoch grain closes on quorum + grace (its timer) or at the deadline
            // (a durable reminder, registered idempotently — several fed serve processes may all do this).
            foreach (var federation in host.FederationIds)
            {
                await host.Grains.GetGrain<Federation.Grains.IEpochGrain>(federation).StartAsync();
            }

            console.Out.WriteLine($"serving {string.Join(", ", listen)}: federations {string.Join(", ", host.FederationIds.Order(StringComparer.Ordinal))}, data {Path.GetFullPath(host.DataDirectory)} (SIGTERM or Ctrl-C stops)");
            console.Out.Flush();
            await host.Host.WaitForShutdownAsync(CancellationToken.None);
            console.Out.WriteLine("stopped");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
