using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Playwright;

namespace Federation.Cli.Tests;

/// <summary>
/// The Orleans Dashboard of <c>fed serve</c>, as an operator meets it: a real process, a real browser (the system's
/// chromium driven by Playwright) and plain HTTP. Only a cluster operator token opens it; a federation's tokens of
/// any role are refused with the reason; nothing under <c>/dashboard</c> is served without a session or a token.
/// </summary>
public sealed partial class ServeTests
{
    /// <summary>Debian's chromium (scripts/install-prerequisites.sh installs it with FED_INSTALL_TEST_DEPS=1).</summary>
    private const string Chromium = "/usr/bin/chromium";

    private static readonly TimeSpan BrowserWait = TimeSpan.FromSeconds(30);

    private string ClusterToken(string label = "dashboard test")
    {
        var created = FedRunner.InProcess("token", "create", "--cluster", "--role", "operator", "--label", label, "--settings", Settings);
        Assert.True(created.ExitCode == 0, created.Err);
        Assert.Contains("(operator of the cluster) created; it is not shown again", created.Err);
        return created.Out.Trim();
    }

    private static async Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright)
    {
        Assert.True(File.Exists(Chromium), $"the dashboard's browser test needs chromium at {Chromium}: apt-get install -y chromium (FED_INSTALL_TEST_DEPS=1 bash scripts/install-prerequisites.sh does it)");
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
    }

    [Fact]
    public void A_cluster_token_is_an_operator_token_and_a_token_names_a_federation_or_the_cluster_not_both()
    {
        Prepare();
        var reviewer = FedRunner.InProcess("token", "create", "--cluster", "--role", "reviewer", "--settings", Settings);
        Assert.Equal(ExitCodes.UnusableInput, reviewer.ExitCode);
        Assert.Contains("its role is operator, not \"reviewer\"", reviewer.Err);
        Assert.Equal(string.Empty, reviewer.Out);

        var neither = FedRunner.InProcess("token", "create", "--role", "operator", "--settings", Settings);
        Assert.Equal(ExitCodes.UnusableInput, neither.ExitCode);
        Assert.Contains("give --federation F (a federation's token) or --cluster", neither.Err);
        var both = FedRunner.InProcess("token", "create", "--cluster", "--federation", Fed, "--role", "operator", "--settings", Settings);
        Assert.Equal(ExitCodes.UnusableInput, both.ExitCode);
        Assert.Contains("not both", both.Err);

        var token = ClusterToken(label: "ops desk");
        Assert.StartsWith("fed_", token);
        var list = FedRunner.InProcess("token", "list", "--cluster", "--settings", Settings);
        Assert.Equal(0, list.ExitCode);
        Assert.Matches("^[0-9a-f]{12}  operator  .*  ops desk$", list.Out.Trim());
        Assert.DoesNotContain(token, list.Out);

        // The cluster's tokens are not a federation's.
        Assert.Equal(string.Empty, FedRunner.InProcess("token", "list", "--federation", Fed, "--settings", Settings).Out);
    }

    [Fact]
    public async Task Without_a_session_or_a_cluster_operator_token_nothing_under_dashboard_is_served()
    {
        Prepare(""" "Service": { "RateLimits": { "LoginAttemptsPerMinute": 1, "LoginBurst": 2 } }, """);
        var cluster = ClusterToken();
        var federationOperator = Token(Fed, "operator");
        var reviewer = Token(Fed, "reviewer");
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
        await using var server = await ServeProcess.StartAsync(Settings, _http);

        async Task<(HttpStatusCode Status, HttpResponseMessage Response, string Body)> GetAsync(string path, string? bearer = null, string? accept = null, string? cookie = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Root, path));
            if (bearer is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
            }

            if (accept is not null)
            {
                request.Headers.Accept.ParseAdd(accept);
            }

            if (cookie is not null)
            {
                request.Headers.Add("Cookie", cookie);
            }

            var response = await noRedirects.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            // The log stream never ends: read what an answer has at once, at most 4 KiB.
            var body = new byte[4096];
            var read = 0;
            using (var cut = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            {
                try
                {
                    await using var stream = await response.Content.ReadAsStreamAsync(cut.Token);
                    int n;
                    while (read < body.Length && (n = await stream.ReadAsync(body.AsMemory(read), cut.Token)) > 0)
                    {
                        read += n;
                    }
                }
                catch (OperationCanceledException)
                {
                    // a stream that was still open
                }
            }

            return (response.StatusCode, response, System.Text.Encoding.UTF8.GetString(body, 0, read));
        }

        // Pages, assets, the JSON the pages read (grain state among it) and the log stream.
        string[] paths = ["dashboard", "dashboard/", "dashboard/index.html", "dashboard/index.min.js", "dashboard/index.css", "dashboard/favicon.ico",
            "dashboard/img/OrleansLogo.png", "dashboard/version", "dashboard/DashboardCounters", "dashboard/ClusterStats", "dashboard/GrainTypes",
            "dashboard/GrainState?grainId=fed1&grainType=Federation.Grains.Federation.AccessGrain", "dashboard/GrainStats/Federation.Grains.Federation.FederationGrain",
            "dashboard/TopGrainMethods", "dashboard/Reminders", "dashboard/Reminders/1", "dashboard/SiloStats/127.0.0.1", "dashboard/SiloProperties/127.0.0.1",
            "dashboard/SiloCounters/127.0.0.1", "dashboard/HistoricalStats/127.0.0.1", "dashboard/Trace"];
        foreach (var path in paths)
        {
            var anonymous = await GetAsync(path);
            Assert.True(anonymous.Status == HttpStatusCode.Unauthorized, $"{path}: {anonymous.Status} {anonymous.Body}");
            Assert.Equal("Bearer", anonymous.Response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal("unauthorized", JsonNode.Parse(anonymous.Body)!["code"]!.GetValue<string>());

            // A federation's tokens, whatever their role, do not open what shows every federation.
            foreach (var token in new[] { federationOperator, reviewer })
            {
                var refused = await GetAsync(path, bearer: token);
                Assert.True(refused.Status == HttpStatusCode.Forbidden, $"{path}: {refused.Status} {refused.Body}");
                Assert.Equal("forbidden_scope", JsonNode.Parse(refused.Body)!["code"]!.GetValue<string>());
                Assert.Contains($"token of federation \"{Fed}\"", JsonNode.Parse(refused.Body)!["detail"]!.GetValue<string>());
            }

            Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(path, bearer: "fed_not-a-token")).Status);
            // A cookie the coordinator did not make is no session.
            Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(path, cookie: "fed_dashboard=CfDJ8forged")).Status);
        }

        // A browser asking for a page is sent to the login page, and comes back where it was going.
        var page = await GetAsync("dashboard/", accept: "text/html");
        Assert.Equal(HttpStatusCode.Found, page.Status);
        Assert.Equal(new Uri(server.Root, "dashboard/login?ReturnUrl=%2Fdashboard%2F"), page.Response.Headers.Location);

        // A script with a cluster operator token reads the dashboard's JSON: this silo, and the federations' grains.
        var counters = await GetAsync("dashboard/DashboardCounters", bearer: cluster);
        Assert.Equal(HttpStatusCode.OK, counters.Status);
        var grainTypes = await GetAsync("dashboard/GrainTypes", bearer: cluster);
        Assert.Equal(HttpStatusCode.OK, grainTypes.Status);
        Assert.Contains("Federation.Grains.Federation.FederationGrain", grainTypes.Body);
        Assert.Contains("Federation.Grains.Node.NodeGrain", grainTypes.Body);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("dashboard/index.html", bearer: cluster)).Status);

        // ... but a cluster token is not a federation's token.
        var federationRoute = await SendAsync(server, HttpMethod.Get, $"v1/federations/{Fed}/nodes", cluster);
        Assert.Equal(HttpStatusCode.Forbidden, federationRoute.Status);
        Assert.Equal("forbidden_scope", federationRoute.Json!["code"]!.GetValue<string>());

        // The dashboard is not part of the API's OpenAPI document.
        var openApi = await GetJsonAsync(server, "openapi/v1.json");
        Assert.DoesNotContain(openApi["paths"]!.AsObject(), p => p.Key.StartsWith("/dashboard", StringComparison.Ordinal));

        // The login form, as a client with cookies posts it: a session cookie, and back to the dashboard only, never
        // to another site named in ReturnUrl.
        var jar = new CookieContainer();
        using var browserLike = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = jar }) { Timeout = TimeSpan.FromSeconds(30) };
        var form = await browserLike.GetStringAsync(new Uri(server.Root, "dashboard/login"));
        Assert.Contains("Cluster operator token", form);
        var csrf = System.Text.RegularExpressions.Regex.Match(form, "name=\"csrf\" value=\"([^\"]+)\"").Groups[1].Value;
        using (var login = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = cluster, ["csrf"] = csrf, ["ReturnUrl"] = "//evil.example/dashboard/" }))
        using (var loggedIn = await browserLike.PostAsync(new Uri(server.Root, "dashboard/login"), login))
        {
            Assert.Equal(HttpStatusCode.SeeOther, loggedIn.StatusCode);
            Assert.Equal("/dashboard/", loggedIn.Headers.Location!.OriginalString);
            var cookie = loggedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("fed_dashboard=", StringComparison.Ordinal));
            Assert.Contains("path=/dashboard", cookie);
            Assert.Contains("samesite=strict", cookie);
            Assert.Contains("httponly", cookie);
            Assert.DoesNotContain("expires=", cookie); // a session cookie
        }

        using (var withSession = await browserLike.GetAsync(new Uri(server.Root, "dashboard/GrainTypes")))
        {
            Assert.Equal(HttpStatusCode.OK, withSession.StatusCode);
            Assert.Contains("Federation.Grains.Federation.FederationGrain", await withSession.Content.ReadAsStringAsync());
        }

        // Login attempts are limited per client address (here 2, then 1 a minute): the one above, one without the
        // form's antiforgery token (refused, even with the right token), then 429.
        var attempts = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            using var bare = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = cluster });
            using var posted = await noRedirects.PostAsync(new Uri(server.Root, "dashboard/login"), bare);
            attempts.Add(posted.StatusCode);
            if (posted.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(posted.Headers.RetryAfter?.Delta > TimeSpan.Zero);
                Assert.Contains("Too many login attempts", await posted.Content.ReadAsStringAsync());
            }
            else
            {
                Assert.Null(posted.Headers.Location);
                Assert.False(posted.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("fed_dashboard=", StringComparison.Ordinal)));
            }
        }

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests], attempts);
    }

    [Theory]
    [InlineData("00:00:30")]
    [InlineData("8.00:00:00")]
    [InlineData("eight hours")]
    public void A_dashboard_session_lifetime_outside_one_minute_to_seven_days_stops_start_up_naming_the_setting(string lifetime)
    {
        var settings = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Service:Dashboard:SessionLifetime"] = lifetime })
            .Build();
        var refused = Assert.Throws<ArgumentException>(() => Federation.Service.Dashboard.DashboardAccessOptions.Load(settings));
        Assert.Contains("Service:Dashboard:SessionLifetime", refused.Message);
        Assert.Contains(lifetime, refused.Message);
    }

    [Fact]
    public async Task In_a_browser_an_operator_logs_in_with_a_cluster_token_sees_the_federations_grains_and_logs_out()
    {
        Prepare();
        var cluster = ClusterToken();
        var reviewer = Token(Fed, "reviewer");
        var federationOperator = Token(Fed, "operator");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromiumAsync(playwright);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout((float)BrowserWait.TotalMilliseconds);

        async Task<IResponse> LogInAsync(string token)
        {
            await page.FillAsync("#token", token);
            return await page.RunAndWaitForResponseAsync(() => page.ClickAsync("button[type=submit]"), r => r.Request.Method == "POST" && r.Url.EndsWith("/dashboard/login", StringComparison.Ordinal));
        }

        ServeProcess? server = await ServeProcess.StartAsync(Settings, _http);
        try
        {
            // No session: the dashboard sends the browser to the login page.
            await page.GotoAsync(new Uri(server.Root, "dashboard").ToString());
            Assert.Equal(new Uri(server.Root, "dashboard/login?ReturnUrl=%2Fdashboard").ToString(), page.Url);
            Assert.Equal("Cluster operator token", await page.InnerTextAsync("label[for=token]"));

            // A federation's reviewer and operator tokens are refused, saying why; a wrong token is not valid.
            Assert.Equal(403, (await LogInAsync(reviewer)).Status);
            Assert.Contains($"That is a reviewer token of federation \"{Fed}\"", await page.InnerTextAsync(".error"));
            Assert.Contains("fed token create --cluster --role operator", await page.InnerTextAsync(".error"));
            Assert.Equal(403, (await LogInAsync(federationOperator)).Status);
            Assert.Contains($"That is an operator token of federation \"{Fed}\"", await page.InnerTextAsync(".error"));
            Assert.Equal(401, (await LogInAsync("fed_" + new string('x', 43))).Status);
            Assert.Equal("That token is not valid.", await page.InnerTextAsync(".error"));
            Assert.DoesNotContain(await context.CookiesAsync([new Uri(server.Root, "dashboard/").ToString()]), c => c.Name == "fed_dashboard");

            // The cluster operator's token opens a session and the dashboard's overview renders the live cluster.
            Assert.Equal(303, (await LogInAsync(cluster)).Status);
            await page.WaitForURLAsync(new Uri(server.Root, "dashboard/").ToString());
            await AssertDashboardShowsTheClusterAsync(page);
            var session = (await context.CookiesAsync([new Uri(server.Root, "dashboard/").ToString()])).Single(c => c.Name == "fed_dashboard");
            Assert.True(session.HttpOnly);
            Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
            Assert.Equal("/dashboard", session.Path);
            Assert.Equal(-1, session.Expires); // a session cookie: gone when the browser closes
            Assert.DoesNotContain(cluster, session.Value);

            // A restart (same address) keeps the session: the keys that encrypt it are under the data directory.
            var port = server.Root.Port;
            await server.DisposeAsync();
            server = null;
            server = await ServeProcess.StartAsync(Settings, _http, port);
            await page.GotoAsync(new Uri(server.Root, "dashboard/").ToString());
            Assert.Equal(new Uri(server.Root, "dashboard/").ToString(), page.Url);
            await AssertDashboardShowsTheClusterAsync(page);

            // Logging out ends the session: the dashboard sends the browser to the login page again.
            await page.GotoAsync(new Uri(server.Root, "dashboard/logout").ToString());
            Assert.Contains("You are logged in as dashboard test", await page.InnerTextAsync(".notice"));
            await page.ClickAsync("button[type=submit]");
            await page.WaitForURLAsync(new Uri(server.Root, "dashboard/login?signed_out=1").ToString());
            Assert.Equal("You are logged out.", await page.InnerTextAsync(".notice"));
            Assert.DoesNotContain(await context.CookiesAsync([new Uri(server.Root, "dashboard/").ToString()]), c => c.Name == "fed_dashboard");
            await page.GotoAsync(new Uri(server.Root, "dashboard/").ToString());
            Assert.StartsWith(new Uri(server.Root, "dashboard/login?ReturnUrl=").ToString(), page.Url);
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The dashboard's pages read the live silo: the overview counts one active silo, and its Grains page lists the
    /// federation grains, one activation per federation served (fed1 and fed2: each one's epoch started).
    /// </summary>
    private static async Task AssertDashboardShowsTheClusterAsync(IPage page)
    {
        try
        {
            var silos = page.Locator(".info-box-content", new() { Has = page.GetByText("Active Silos", new() { Exact = true }) }).Locator(".info-box-number");
            await Assertions.Expect(silos).ToHaveTextAsync("1", new() { Timeout = (float)BrowserWait.TotalMilliseconds });
            await page.Locator("a[href='#/grains']").First.ClickAsync();
            var federations = page.Locator("tr", new() { Has = page.Locator("a[href='#/grain/Federation.Grains.Federation.FederationGrain']") }).Locator("td").Nth(2);
            await Assertions.Expect(federations).ToHaveTextAsync("2", new() { Timeout = (float)BrowserWait.TotalMilliseconds });
        }
        catch (PlaywrightException ex)
        {
            throw new Xunit.Sdk.XunitException($"the dashboard did not show the cluster ({ex.Message}); at {page.Url} the page said: {await page.InnerTextAsync("body")}");
        }
    }
}
