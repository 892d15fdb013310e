using System.CommandLine;
using Federation.Grains;
using Federation.Service;

namespace Federation.Cli.Commands;

/// <summary>
/// <c>fed token create --federation F --role operator|reviewer|auditor [--label L]</c>: a bearer token for the HTTP API,
/// printed once on stdout (nothing keeps it but its SHA-256); <c>fed token list</c>: ids, roles, labels, creation times.
/// </summary>
public static class TokenCommand
{
    public static Command Build(CliConsole console)
    {
        var token = new Command("token", "Bearer tokens of a federation's HTTP API (operator, reviewer, auditor)");
        token.Subcommands.Add(Create(console));
        token.Subcommands.Add(List(console));
        return token;
    }

    private static Command Create(CliConsole console)
    {
        var options = new CoordinatorCliOptions();
        var role = new Option<string>("--role") { Description = "operator, reviewer or auditor", Required = true };
        var label = new Option<string>("--label") { Description = "What the token is for (shown by fed token list)", DefaultValueFactory = _ => string.Empty };
        var command = new Command("create", "Create a token; it is printed once, on stdout, and kept only as its SHA-256") { role, label };
        options.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
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

            var (host, federationId) = await CoordinatorSession.OpenAsync(parse, options, ct);
            await using (host)
            {
                var secret = OperatorApi.NewToken();
                var created = await host.Grains.GetGrain<IAccessGrain>(federationId).AddAsync(OperatorApi.HashOf(secret), accessRole, parse.GetValue(label)!);
                console.Out.WriteLine(secret);
                console.Error.WriteLine($"fed: token {created.Id} ({accessRole.ToString().ToLowerInvariant()} of {federationId}) created; it is not shown again");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command List(CliConsole console)
    {
        var options = new CoordinatorCliOptions();
        var command = new Command("list", "List a federation's tokens (ids, roles, labels; never the tokens)");
        options.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            var (host, federationId) = await CoordinatorSession.OpenAsync(parse, options, ct);
            await using (host)
            {
                foreach (var t in await host.Grains.GetGrain<IAccessGrain>(federationId).ListAsync())
                {
                    console.Out.WriteLine($"{t.Id}  {t.Role.ToString().ToLowerInvariant(),-8}  {t.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}  {t.Label}");
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
