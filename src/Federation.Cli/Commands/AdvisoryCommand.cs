using System.CommandLine;
using System.Text.Json.Nodes;
using Federation.Core.Governance;
using Federation.Grains;

using Federation.Grains.Services;

namespace Federation.Cli.Commands;

/// <summary><c>fed advisory …</c>: drift advisories (SPEC B) — list, accept, decline.</summary>
public static class AdvisoryCommand
{
    public static Command Build(CliConsole console)
    {
        var advisory = new Command("advisory", "Drift advisories published by committed epochs: list, accept, decline");
        advisory.Subcommands.Add(List(console));
        advisory.Subcommands.Add(Transition(console, AdvisoryStatus.Accepted, "accept"));
        advisory.Subcommands.Add(Transition(console, AdvisoryStatus.Declined, "decline"));
        return advisory;
    }

    private static Command List(CliConsole console)
    {
        var common = new CoordinatorCliOptions();
        var command = new Command("list", "advisory_id, epoch, drift_type, source_env, status, recommendation");
        common.AddTo(command, withJson: true);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            var (host, federation) = await CoordinatorSession.OpenAsync(parse, common, ct, CoordinatorRole.Reader);
            await using var _ = host;
            var views = new List<AdvisoryView>();
            foreach (var id in await host.Grains.GetGrain<IAdvisoryIndexGrain>(federation).ListAsync())
            {
                if (await host.Grains.GetGrain<IAdvisoryGrain>(AdvisoryKey.For(federation, id)).GetAsync() is { } view)
                {
                    views.Add(view);
                }
            }

            if (parse.GetValue(common.Json))
            {
                console.Out.WriteLine(new JsonArray(views.Select(v => (JsonNode?)Json(v)).ToArray()).ToJsonString());
                return ExitCodes.Ok;
            }

            if (views.Count == 0)
            {
                console.Out.WriteLine($"no advisories in federation {federation}");
            }

            foreach (var view in views)
            {
                var a = view.Advisory;
                console.Out.WriteLine($"{a.AdvisoryId}\tepoch {a.Epoch}\t{a.DriftType}\t{a.SourceEnv}\t{Advisories.StatusName(a.Status)}\t{a.Recommendation}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Transition(CliConsole console, AdvisoryStatus to, string name)
    {
        var common = new CoordinatorCliOptions();
        var id = new Argument<string>("id") { Description = "Advisory id (adv-<epoch>-<hash>)" };
        var note = new Option<string>("--note") { Description = "Why (sealed with the transition)" };
        var command = new Command(name, $"Mark a published advisory {Advisories.StatusName(to)} (final; sealed as a receipt)") { id, note };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            var (host, federation) = await CoordinatorSession.OpenAsync(parse, common, ct);
            await using var _ = host;
            var advisoryId = parse.GetValue(id)!;
            var result = await host.Grains.GetGrain<IAdvisoryGrain>(AdvisoryKey.For(federation, advisoryId)).TransitionAsync(to, parse.GetValue(note));
            if (result.Advisory is null)
            {
                return console.Unusable(result.Message);
            }

            if (!result.Done)
            {
                return console.Fail(result.Message);
            }

            console.Out.WriteLine(result.Message);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static JsonObject Json(AdvisoryView view)
    {
        var json = view.Advisory.ToJson();
        json["receipts"] = new JsonArray(view.Receipts.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray());
        return json;
    }
}
