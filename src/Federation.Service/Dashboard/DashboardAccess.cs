using Federation.Core.Hashing;
using Federation.Grains.Services;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Dashboard;

namespace Federation.Service.Dashboard;

/// <summary>
/// The Orleans Dashboard under <see cref="Path"/>, for cluster operators only. It shows every federation's grains
/// (their serialized state too), so it is opened by a cluster token (<c>fed token create --cluster --role operator</c>),
/// never by a federation's: in a browser through the login page (<see cref="LoginPages"/>: a session cookie, HttpOnly,
/// SameSite=Strict, path <c>/dashboard</c>), or by a script with <c>Authorization: Bearer</c>. Everything under
/// <see cref="Path"/> but the login and logout pages — the pages, their JSON, the log stream — needs one or the other.
/// </summary>
public static class DashboardAccess
{
    public const string Path = "/dashboard";
    public const string LoginPath = Path + "/login";
    public const string LogoutPath = Path + "/logout";

    /// <summary>Chooses the bearer scheme when the request has an Authorization header, else the session cookie.</summary>
    public const string Scheme = "dashboard";
    public const string CookieScheme = "dashboard-session";
    public const string BearerScheme = "dashboard-bearer";
    public const string Policy = "cluster-operator";

    public const string CookieName = "fed_dashboard";
    public const string AntiforgeryCookieName = "fed_dashboard_csrf";
    public const string AntiforgeryField = "csrf";

    /// <summary>Under the data directory: the keys session cookies are encrypted with, kept so a restart keeps the sessions.</summary>
    public const string KeysFolder = "keys/data-protection";

    /// <summary>Data protection's purpose string: sessions of another application on the same keys do not open this one.</summary>
    public const string ApplicationName = "Federation.Orleans.coordinator";

    /// <summary>The silo's part: the dashboard's grain service, statistics and log stream (only <c>fed serve</c>'s silo has it).</summary>
    public static void AddTo(ISiloBuilder silo) => silo.AddDashboard();

    /// <summary>Authentication (session cookie, bearer), the cluster-operator policy, antiforgery for the forms, and data-protection keys under <paramref name="dataDirectory"/>.</summary>
    public static void AddTo(IServiceCollection services, DashboardAccessOptions options, string dataDirectory)
    {
        var keys = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetFullPath(dataDirectory), KeysFolder));
        // Only the coordinator's user reads the keys, as with the signing keys beside them.
        File.SetUnixFileMode(keys.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        services.AddDataProtection().PersistKeysToFileSystem(keys).SetApplicationName(ApplicationName);
        services.AddAntiforgery(o =>
        {
            o.FormFieldName = AntiforgeryField;
            o.Cookie.Name = AntiforgeryCookieName;
            o.Cookie.Path = Path;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddAuthentication()
            .AddPolicyScheme(Scheme, "cluster operator", o => o.ForwardDefaultSelector = http => http.Request.Headers.Authorization.Count > 0 ? BearerScheme : CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, ClusterBearerHandler>(BearerScheme, "cluster operator token", null)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.Path = Path;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = options.SessionLifetime;
                o.SlidingExpiration = false;
                o.LoginPath = LoginPath;
                o.LogoutPath = LogoutPath;
                o.AccessDeniedPath = LoginPath;
                o.Events.OnRedirectToLogin = RedirectBrowsersOnlyAsync;
                o.Events.OnRedirectToAccessDenied = context => NodeApi.Problem(StatusCodes.Status403Forbidden, "forbidden_role", "The dashboard takes a cluster operator token.").ExecuteAsync(context.HttpContext);
                o.Events.OnValidatePrincipal = EndSessionOfRemovedTokenAsync;
            });
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(ClusterTokens.ScopeClaim, Federation.Grains.AccessScopes.Cluster)
            .RequireRole(Federation.Grains.AccessScopes.ClusterRole.ToString().ToLowerInvariant()));
    }

    /// <summary>The dashboard, behind <see cref="Policy"/>, and its login and logout pages; none of it is in the OpenAPI document.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder routes)
    {
        routes.MapOrleansDashboard(Path).RequireAuthorization(Policy).ExcludeFromDescription();
        LoginPages.Map(routes);
        return routes;
    }

    /// <summary>A browser opening a page is sent to the login page; a script or the dashboard's own JSON calls get 401 problem+json.</summary>
    private static Task RedirectBrowsersOnlyAsync(RedirectContext<CookieAuthenticationOptions> context)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Redirect(context.RedirectUri);
            return Task.CompletedTask;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        return NodeApi.Problem(StatusCodes.Status401Unauthorized, "unauthorized", $"Log in at {LoginPath}, or send Authorization: Bearer <cluster operator token>.").ExecuteAsync(context.HttpContext);
    }

    /// <summary>A session lasts while its token does: it is looked up again on every request.</summary>
    private static async Task EndSessionOfRemovedTokenAsync(CookieValidatePrincipalContext context)
    {
        var grains = context.HttpContext.RequestServices.GetRequiredService<IGrainFactory>();
        if (context.Principal?.FindFirst(ClusterTokens.TokenHashClaim)?.Value is not { } text
            || !Sha256Digest.TryParse(text, out var hash, out _)
            || await ClusterTokens.FindAsync(hash, grains) is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
        }
    }
}
