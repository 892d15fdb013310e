using System.Text.Encodings.Web;
using Federation.Grains.Services;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Federation.Service.Dashboard;

/// <summary>
/// The dashboard's login and logout pages: plain HTML forms, no script and no asset from anywhere. Logging in with a
/// cluster operator token starts a session (an encrypted cookie, <see cref="DashboardAccess.CookieName"/>); any other
/// token gets the form again with the reason, 401 or 403. Both forms carry an antiforgery token, and login attempts
/// are rate-limited per client address (<see cref="RateLimits.LoginPolicy"/>).
/// </summary>
internal static partial class LoginPages
{
    /// <summary>A login form is a token and two short fields: more than this is not read.</summary>
    public const int MaxFormBytes = 4096;

    public const string TokenField = "token";
    public const string ReturnUrlField = "ReturnUrl";

    /// <summary>No script runs, nothing is loaded from elsewhere, the form posts only here, and no site may frame the page.</summary>
    private const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private static readonly HtmlEncoder Encode = HtmlEncoder.Default;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var pages = routes.MapGroup(DashboardAccess.Path).ExcludeFromDescription();
        pages.MapGet("/login", async (HttpContext http, IAntiforgery antiforgery) =>
        {
            var session = await http.AuthenticateAsync(DashboardAccess.CookieScheme);
            var notice = http.Request.Query.ContainsKey("signed_out") ? "You are logged out." : null;
            return session.Succeeded
                ? SignedIn(http, antiforgery, session.Principal!.Identity!.Name!)
                : Form(http, antiforgery, StatusCodes.Status200OK, ReturnUrl(http.Request.Query[ReturnUrlField]), error: null, notice);
        });

        pages.MapPost("/login", LogInAsync)
            .RequireRateLimiting(RateLimits.LoginPolicy)
            .WithMetadata(new RateLimits.RejectionPage(async (http, retryAfter) =>
            {
                var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
                await Form(http, antiforgery, StatusCodes.Status429TooManyRequests, DashboardAccess.Path + "/", $"Too many login attempts from this address: try again in {retryAfter} s.", null).ExecuteAsync(http);
            }));

        pages.MapGet("/logout", async (HttpContext http, IAntiforgery antiforgery) =>
        {
            var session = await http.AuthenticateAsync(DashboardAccess.CookieScheme);
            return session.Succeeded
                ? SignedIn(http, antiforgery, session.Principal!.Identity!.Name!)
                : Form(http, antiforgery, StatusCodes.Status200OK, DashboardAccess.Path + "/", error: null, notice: "You are not logged in.");
        });

        pages.MapPost("/logout", async (HttpContext http, IAntiforgery antiforgery, ILoggerFactory loggers) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Form(http, antiforgery, StatusCodes.Status400BadRequest, DashboardAccess.Path + "/", "The page had expired; you are still logged in if you were. Log out again from a fresh page.", null);
            }

            var session = await http.AuthenticateAsync(DashboardAccess.CookieScheme);
            await http.SignOutAsync(DashboardAccess.CookieScheme);
            if (session.Succeeded)
            {
                LoggedOut(loggers.CreateLogger(typeof(LoginPages)), session.Principal!.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value ?? "?");
            }

            return SeeOther(http, DashboardAccess.LoginPath + "?signed_out=1");
        });
    }

    private static async Task<IResult> LogInAsync(HttpContext http, IAntiforgery antiforgery, IGrainFactory grains, FederationDirectory federations, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger(typeof(LoginPages));
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "?";
        if (!http.Request.HasFormContentType || http.Request.ContentLength > MaxFormBytes)
        {
            return Form(http, antiforgery, StatusCodes.Status400BadRequest, DashboardAccess.Path + "/", "Send the login form (a token of at most 256 characters).", null);
        }

        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Form(http, antiforgery, StatusCodes.Status400BadRequest, DashboardAccess.Path + "/", "The form had expired: paste the token again.", null);
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var returnUrl = ReturnUrl(form[ReturnUrlField]);
        var check = await ClusterTokens.CheckAsync(form[TokenField].ToString(), grains, federations, DashboardAccess.CookieScheme);
        if (check.Principal is null)
        {
            LoginRefused(log, address, check.Code);
            return Form(http, antiforgery, check.Status, returnUrl, check.Detail, null);
        }

        // A session cookie (not kept when the browser closes) whose ticket ends SessionLifetime after this login.
        await http.SignInAsync(DashboardAccess.CookieScheme, check.Principal, new AuthenticationProperties { IsPersistent = false });
        LoggedIn(log, check.Token!.Id, check.Token.Label, address);
        return SeeOther(http, returnUrl);
    }

    /// <summary>Where to go after logging in: a path of the dashboard, never another site (an open redirect), else its overview.</summary>
    internal static string ReturnUrl(string? requested) =>
        requested is { Length: <= 2048 } url
        && (url == DashboardAccess.Path || url.StartsWith(DashboardAccess.Path + "/", StringComparison.Ordinal))
        && !url.Contains("//", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal) && !url.Any(char.IsControl)
            ? url
            : DashboardAccess.Path + "/";

    private static IResult SeeOther(HttpContext http, string location)
    {
        http.Response.Headers.Location = location;
        http.Response.Headers.CacheControl = "no-store";
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static IResult Form(HttpContext http, IAntiforgery antiforgery, int status, string returnUrl, string? error, string? notice)
    {
        var csrf = antiforgery.GetAndStoreTokens(http).RequestToken!;
        return Page(http, status, "Log in", $"""
            {Message("error", error)}{Message("notice", notice)}
            <form method="post" action="{DashboardAccess.LoginPath}">
              <label for="token">Cluster operator token</label>
              <input type="password" id="token" name="{TokenField}" autocomplete="off" spellcheck="false" required autofocus maxlength="{ClusterTokens.MaxTokenLength}">
              <input type="hidden" name="{ReturnUrlField}" value="{Encode.Encode(returnUrl)}">
              <input type="hidden" name="{DashboardAccess.AntiforgeryField}" value="{Encode.Encode(csrf)}">
              <button type="submit">Log in</button>
            </form>
            <p class="hint">The dashboard shows the grains of every federation, so it opens only to a cluster operator token:
            <code>fed token create --cluster --role operator</code>. A federation's tokens do not open it.</p>
            """);
    }

    private static IResult SignedIn(HttpContext http, IAntiforgery antiforgery, string name)
    {
        var csrf = antiforgery.GetAndStoreTokens(http).RequestToken!;
        return Page(http, StatusCodes.Status200OK, "Logged in", $"""
            <p class="notice">You are logged in as <strong>{Encode.Encode(name)}</strong>.</p>
            <p><a href="{DashboardAccess.Path}/">Open the dashboard</a></p>
            <form method="post" action="{DashboardAccess.LogoutPath}">
              <input type="hidden" name="{DashboardAccess.AntiforgeryField}" value="{Encode.Encode(csrf)}">
              <button type="submit">Log out</button>
            </form>
            """);
    }

    private static string Message(string kind, string? text) =>
        text is null ? string.Empty : $"""<p class="{kind}" role="{(kind == "error" ? "alert" : "status")}">{Encode.Encode(text)}</p>""";

    private static IResult Page(HttpContext http, int status, string title, string body)
    {
        http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        return Results.Content($$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}} · Federation.Orleans dashboard</title>
            <style>
              body { font-family: system-ui, sans-serif; max-width: 34rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
              label { display: block; margin-bottom: .4rem; font-weight: 600; }
              input[type=password] { box-sizing: border-box; width: 100%; padding: .5rem; font-family: monospace; }
              button { margin-top: 1rem; padding: .5rem 1.2rem; }
              .error { color: #8a1010; border: 1px solid #8a1010; background: #fdf0f0; padding: .6rem; }
              .notice { color: #0b4f1c; border: 1px solid #0b4f1c; background: #eef8f0; padding: .6rem; }
              .hint { color: #555; font-size: .9rem; margin-top: 2rem; }
            </style>
            </head>
            <body>
            <h1>Federation.Orleans dashboard</h1>
            {{body}}
            </body>
            </html>
            """, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
    }

    [LoggerMessage(EventId = 4150, Level = LogLevel.Information, Message = "dashboard: cluster token {TokenId} ({Label}) logged in from {Address}")]
    private static partial void LoggedIn(ILogger logger, string tokenId, string label, string address);

    [LoggerMessage(EventId = 4151, Level = LogLevel.Warning, Message = "dashboard: a login from {Address} was refused ({Code})")]
    private static partial void LoginRefused(ILogger logger, string address, string code);

    [LoggerMessage(EventId = 4152, Level = LogLevel.Information, Message = "dashboard: cluster token {TokenId} logged out")]
    private static partial void LoggedOut(ILogger logger, string tokenId);
}
