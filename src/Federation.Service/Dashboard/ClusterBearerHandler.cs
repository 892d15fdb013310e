using System.Text.Encodings.Web;
using Federation.Grains.Services;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Federation.Service.Dashboard;

/// <summary>
/// Scripted access to the dashboard: <c>Authorization: Bearer &lt;cluster operator token&gt;</c> on every request, no
/// session. A refusal is problem+json: 401 <c>unauthorized</c>, or 403 <c>forbidden_scope</c> for a federation's token.
/// </summary>
internal sealed class ClusterBearerHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IGrainFactory grains,
    FederationDirectory federations) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string Prefix = "Bearer ";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return AuthenticateResult.NoResult();
        }

        var check = await ClusterTokens.CheckAsync(header[Prefix.Length..], grains, federations, Scheme.Name);
        return check.Principal is { } principal
            ? AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name))
            : AuthenticateResult.Fail(new Refused(check));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var check = (await HandleAuthenticateOnceSafeAsync()).Failure is Refused refused
            ? refused.Check
            : ClusterTokens.Check.Invalid with { Detail = $"Send Authorization: Bearer <cluster operator token>, or log in at {DashboardAccess.LoginPath}." };
        Response.Headers.WWWAuthenticate = "Bearer";
        await NodeApi.Problem(check.Status, check.Code, check.Detail).ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        NodeApi.Problem(StatusCodes.Status403Forbidden, "forbidden_role", "The dashboard takes a cluster operator token.").ExecuteAsync(Context);

    /// <summary>Carries the refusal from authentication to the challenge that answers it.</summary>
    private sealed class Refused(ClusterTokens.Check check) : Exception(check.Detail)
    {
        public ClusterTokens.Check Check { get; } = check;
    }
}
