using System.CommandLine;
using Federation.Grains;
using Federation.Service;

namespace Federation.Cli.Commands;

/// <summary>
/// <c>fed token create --federation F --role operator|reviewer|auditor [--label L]</c>: a bearer token for the HTTP API,
/// printed once on stdout (nothing keeps it but its SHA-256); <c>fed token create --cluster --role operator</c>: a
/// cluster token, for what spans every federation (the dashboard); <c>fed token list --federation F | --cluster</c>:
/// ids, roles, labels, creation times.
/// </summary>
public static class TokenCommand
{
    public static Command Build(CliConsole console)
    {
        var token = new Command("token", "Bearer tokens of the HTTP API: a federation's (operator, reviewer, auditor) or the cluster's (operator: the dashboard)");
        token.Subcommands.Add(Create(console));
        token.Subcommands.Add(List(console));
        return token;
    }

    private static Option<bool> ClusterOption() =>
        new("--cluster") { Description = "The cluster's tokens instead of a federation's: operator tokens that open the dashboard (every federation's grains)" };

    private static Command Create(CliConsole console)
    {
        var options = new CoordinatorCliOptions(federationRequired: false);
        var cluster = ClusterOption();
        var role = new Option<string>("--role") { Description = "operator, reviewer or auditor (a cluster token: operator)", Required = true };
        var label = new Option<string>("--label") { Description = "What the token is for (shown by fed token list)", DefaultValueFactory = _ => string.Empty };
        var command = new Command("create", "Create a token; it is printed once, on stdout, and kept only as its SHA-256") { cluster, role, label };
        options.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            if (ScopeProblem(parse, options, cluster) is { } problem)
            {
                return console.Unusable(problem);
            }

            var roleText = parse.GetValue(role)!;
            AccessRole accessRole;
            try
            {
                accessRole = Federation.Grains.Services.FederationsConfiguration.ParseName<AccessRole>(roleText, "--role");
            }
            catch (ArgumentException)
            {
                return console.Unusable($"--role must be operator, reviewer or auditor, not \"{roleText}\"");
            }

            var clusterScope = parse.GetValue(cluster);
            if (clusterScope && accessRole != AccessScopes.ClusterRole)
            {
                return console.Unusable($"a cluster token opens every federation's grains (the dashboard): its role is operator, not \"{roleText}\"");
            }

            var (host, scope) = await OpenAsync(parse, options, clusterScope, ct);
            await using (host)
            {
                var secret = OperatorApi.NewToken();
                var created = await host.Grains.GetGrain<IAccessGrain>(scope).AddAsync(OperatorApi.HashOf(secret), accessRole, parse.GetValue(label)!);
                console.Out.WriteLine(secret);
                var of = clusterScope ? "of the cluster" : $"of {scope}";
                console.Error.WriteLine($"fed: token {created.Id} ({accessRole.ToString().ToLowerInvariant()} {of}) created; it is not shown again");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command List(CliConsole console)
    {
        var options = new CoordinatorCliOptions(federationRequired: false);
        var cluster = ClusterOption();
        var command = new Command("list", "List a federation's or the cluster's tokens (ids, roles, labels; never the tokens)") { cluster };
        options.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            if (ScopeProblem(parse, options, cluster) is { } problem)
            {
                return console.Unusable(problem);
            }

            var (host, scope) = await OpenAsync(parse, options, parse.GetValue(cluster), ct);
            await using (host)
            {
                foreach (var t in await host.Grains.GetGrain<IAccessGrain>(scope).ListAsync())
                {
                    console.Out.WriteLine($"{t.Id}  {t.Role.ToString().ToLowerInvariant(),-8}  {t.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}  {t.Label}");
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A token belongs to one federation or to the cluster: exactly one of <c>--federation</c> and <c>--cluster</c>.</summary>
    private static string? ScopeProblem(ParseResult parse, CoordinatorCliOptions options, Option<bool> cluster) =>
        (parse.GetValue(options.Federation) is not null, parse.GetValue(cluster)) switch
        {
            (true, true) => "give --federation F or --cluster, not both",
            (false, false) => "give --federation F (a federation's token) or --cluster (a cluster token, for the dashboard)",
            _ => null,
        };

    /// <summary>The coordinator and the key of the access grain: the federation id, or <see cref="AccessScopes.Cluster"/>.</summary>
    private static async Task<(Federation.Grains.Services.CoordinatorHost Host, string Scope)> OpenAsync(ParseResult parse, CoordinatorCliOptions options, bool cluster, CancellationToken ct) =>
        cluster
            ? (await CoordinatorSession.OpenClusterAsync(parse, options, ct), AccessScopes.Cluster)
            : await CoordinatorSession.OpenAsync(parse, options, ct);
}
