using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Hardening;

/// <summary>Login throttling, the registration limit and the bound on password hashing, over real HTTP.</summary>
public sealed class K3AuthLimitTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, object body)
    {
        using var response = await http.PostAsJsonAsync(path, body);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static void AssertRateLimited((HttpStatusCode Status, JsonElement Body) answer)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, answer.Status);
        Assert.Equal("rate_limited", answer.Body.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(answer.Body.GetProperty("error").GetString()));
        int retry = answer.Body.GetProperty("retry_after_ms").GetInt32();
        Assert.InRange(retry, 1, 60_000);
    }

    private static HttpClient Client(TestServer server) => new() { BaseAddress = server.BaseAddress };

    [Fact]
    public async Task Failed_logins_beyond_the_limit_lock_the_account_for_the_window_only()
    {
        var clock = FakeClock.New();
        await using var server = await TestServer.StartWithAsync(new TestServerSetup(Time: clock), ("Chat:RateLimit:LoginsPerMinute", "3"));
        using var http = Client(server);
        var (_, auth) = await server.NewUserAsync("k3lock");

        for (int i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(http, "/api/auth/login", new { username = auth.Username, password = "wrong-" + i })).Status);
        AssertRateLimited(await PostAsync(http, "/api/auth/login", new { username = auth.Username, password = "wrong-x" }));
        // Within the window even the right password is refused: the attacker must not learn it by guessing on.
        AssertRateLimited(await PostAsync(http, "/api/auth/login", new { username = auth.Username, password = "password123" }));

        clock.Advance(TimeSpan.FromSeconds(61));
        var ok = await PostAsync(http, "/api/auth/login", new { username = auth.Username, password = "password123" });
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.Equal(auth.UserId, ok.Body.GetProperty("user_id").GetString());
    }

    [Fact]
    public async Task Failed_logins_are_counted_per_client_address_across_accounts()
    {
        await using var server = await TestServer.StartAsync(("Chat:RateLimit:LoginsPerMinute", "3"));
        using var http = Client(server);
        for (int i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(http, "/api/auth/login", new { username = $"k3nobody{i}", password = "whatever123" })).Status);
        AssertRateLimited(await PostAsync(http, "/api/auth/login", new { username = "k3nobody-other", password = "whatever123" }));
    }

    [Fact]
    public async Task Successful_logins_are_not_counted_and_zero_disables_the_login_limit()
    {
        await using (var server = await TestServer.StartAsync(("Chat:RateLimit:LoginsPerMinute", "2")))
        {
            var (_, auth) = await server.NewUserAsync("k3ok");
            for (int i = 0; i < 5; i++) await server.LoginAsync(auth.Username);
        }
        await using (var server = await TestServer.StartAsync(("Chat:RateLimit:LoginsPerMinute", "0")))
        {
            using var http = Client(server);
            var (_, auth) = await server.NewUserAsync("k3off");
            for (int i = 0; i < 12; i++)
                Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(http, "/api/auth/login", new { username = auth.Username, password = "wrong-" + i })).Status);
        }
    }

    [Fact]
    public async Task A_failed_login_is_logged_at_warning_with_user_and_address_but_never_the_password()
    {
        var capture = new K3LogCapture();
        await using var server = await TestServer.StartWithAsync(
            new TestServerSetup(Services: s => s.AddSingleton<ILoggerProvider>(capture)), ("Chat:RateLimit:LoginsPerMinute", "1"));
        using var http = Client(server);
        var (_, auth) = await server.NewUserAsync("k3log");
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(http, "/api/auth/login", new { username = auth.Username, password = "Secret-Guess-4711" })).Status);
        AssertRateLimited(await PostAsync(http, "/api/auth/login", new { username = auth.Username, password = "Secret-Guess-4712" }));

        var warnings = capture.Lines.Where(l => l.Level == LogLevel.Warning && l.Category.EndsWith("AuthService", StringComparison.Ordinal)).ToList();
        Assert.Contains(warnings, l => l.Text.Contains("Failed login", StringComparison.Ordinal) && l.Text.Contains(auth.Username, StringComparison.Ordinal) && l.Text.Contains("127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(warnings, l => l.Text.Contains("too many failed logins", StringComparison.Ordinal));
        Assert.DoesNotContain(capture.Lines, l => l.Text.Contains("Secret-Guess", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Registrations_beyond_the_limit_per_address_are_refused_until_the_window_ends()
    {
        var clock = FakeClock.New();
        await using var server = await TestServer.StartWithAsync(new TestServerSetup(Time: clock), ("Chat:RateLimit:RegistrationsPerMinute", "2"));
        using var http = Client(server);
        string tag = Guid.NewGuid().ToString("N")[..6];
        for (int i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Created, (await PostAsync(http, "/api/auth/register", new { username = $"k3reg{i}-{tag}", password = "password123" })).Status);
        AssertRateLimited(await PostAsync(http, "/api/auth/register", new { username = $"k3reg2-{tag}", password = "password123" }));

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(http, "/api/auth/register", new { username = $"k3reg3-{tag}", password = "password123" })).Status);
    }

    [Fact]
    public async Task Hashing_beyond_its_slots_and_queue_is_refused_with_retry_after_instead_of_queued()
    {
        await using var server = await TestServer.StartAsync(("Chat:Auth:MaxConcurrentHashes", "1"), ("Chat:Auth:MaxQueuedHashes", "0"));
        string tag = Guid.NewGuid().ToString("N")[..6];
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            using var http = Client(server);
            return await PostAsync(http, "/api/auth/register", new { username = $"k3hash{i}-{tag}", password = "password123" });
        })));
        Assert.All(answers, a => Assert.Contains(a.Status, new[] { HttpStatusCode.Created, HttpStatusCode.TooManyRequests }));
        Assert.Contains(answers, a => a.Status == HttpStatusCode.Created);
        var refused = answers.Where(a => a.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        foreach (var r in refused) AssertRateLimited(r);
    }
}
