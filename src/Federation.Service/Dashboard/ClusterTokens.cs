using System.Security.Claims;
using System.Text.Json;
using Federation.Core.Hashing;
using Federation.Grains;
using Federation.Grains.Services;
using Microsoft.AspNetCore.Http;

namespace Federation.Service.Dashboard;

/// <summary>
/// What a token presented to the dashboard is: a cluster operator token (<see cref="AccessScopes.Cluster"/>) opens it;
/// a federation's token of any role does not (the dashboard shows every federation's grains) and is told so; anything
/// else is not valid. The same check serves the login form, the bearer header and every request of a session.
/// </summary>
internal static class ClusterTokens
{
    /// <summary>Longer than any token <c>fed token create</c> makes (4 + 43 characters): not looked up.</summary>
    public const int MaxTokenLength = 256;

    public const string ScopeClaim = "fed:scope";
    public const string TokenHashClaim = "fed:token_hash";

    /// <summary>The outcome: <see cref="Principal"/> when the token opens the dashboard, else the status, code and words of the refusal.</summary>
    public sealed record Check(ClaimsPrincipal? Principal, AccessToken? Token, int Status, string Code, string Detail)
    {
        public static Check Invalid { get; } = new(null, null, StatusCodes.Status401Unauthorized, "unauthorized", "That token is not valid.");
    }

    public static async Task<Check> CheckAsync(string token, IGrainFactory grains, FederationDirectory federations, string authenticationType)
    {
        token = token.Trim();
        if (token.Length is 0 or > MaxTokenLength)
        {
            return Check.Invalid;
        }

        var hash = OperatorApi.HashOf(token);
        if (await FindAsync(hash, grains) is { } found)
        {
            return new Check(PrincipalOf(found, hash, authenticationType), found, StatusCodes.Status200OK, "ok", string.Empty);
        }

        foreach (var federation in federations.Ids.Order(StringComparer.Ordinal))
        {
            if (await grains.GetGrain<IAccessGrain>(federation).FindAsync(hash) is { } theirs)
            {
                var role = JsonNamingPolicy.SnakeCaseLower.ConvertName(theirs.Role.ToString());
                var article = "aeiou".Contains(role[0], StringComparison.Ordinal) ? "an" : "a";
                return new Check(null, null, StatusCodes.Status403Forbidden, "forbidden_scope",
                    $"That is {article} {role} token of federation \"{federation}\". The dashboard shows the grains of every federation, so it takes a cluster operator token: fed token create --cluster --role operator.");
            }
        }

        return Check.Invalid;
    }

    /// <summary>The cluster token with this hash while it exists and is an operator's (a session is checked on every request).</summary>
    public static async Task<AccessToken?> FindAsync(Sha256Digest hash, IGrainFactory grains) =>
        await grains.GetGrain<IAccessGrain>(AccessScopes.Cluster).FindAsync(hash) is { Role: AccessScopes.ClusterRole } token ? token : null;

    private static ClaimsPrincipal PrincipalOf(AccessToken token, Sha256Digest hash, string authenticationType) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, token.Id),
            new Claim(ClaimTypes.Name, token.Label.Length > 0 ? token.Label : $"token {token.Id}"),
            new Claim(ClaimTypes.Role, AccessScopes.ClusterRole.ToString().ToLowerInvariant()),
            new Claim(ScopeClaim, AccessScopes.Cluster),
            // The hash, not the token: the session cookie is encrypted, and a hash opens nothing.
            new Claim(TokenHashClaim, hash.ToString()),
        ],
        authenticationType));
}
