using System.Net;
using Chat.Client;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;
using Chat.Tests.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17, registration flood: <c>Chat:Auth:Registration=open|invite|closed</c>, invites made by the server admins
/// of <c>Chat:Auth:Admins</c>, over real HTTP. Unknown, expired and used-up codes get one and the same answer.
/// </summary>
public sealed class K8RegistrationModeTests
{
    private const string NotValid = "This invite is not valid.";

    private static (string, string)[] InviteMode(params (string, string)[] more) =>
        [("Chat:Auth:Registration", "invite"), ("Chat:Auth:Admins:0", "Root"), .. more];

    private static object Register(string username, string? invite = null) => new { username, password = "password123", invite };

    /// <summary>
    /// The admin's account, put straight into the store: a server that starts invite-only has no way to register one
    /// (docs/security.md: the operator registers it while open). Signs in for real.
    /// </summary>
    private static async Task<string> AdminTokenAsync(TestServer server, string username = "root")
    {
        var users = server.Services.GetRequiredService<IUserStore>();
        var user = new UserRecord(Ids.NewId(), username, username, "", 1_700_000_000_000);
        user = user with { PasswordHash = new PasswordHasher<UserRecord>().HashPassword(user, "password123") };
        Assert.True(await users.CreateUserAsync(user, CancellationToken.None));
        return (await server.LoginAsync(username)).Auth.Token;
    }

    private static async Task<string> NewInviteAsync(TestServer server, string adminToken, object? body = null)
    {
        var made = await server.PostAsync("/api/admin/invites", body ?? new { }, adminToken);
        made.AssertStatus(HttpStatusCode.Created);
        return made.Body.Str("code")!;
    }

    private static void AssertRefused(ProtocolKit.Reply reply, string sentence)
    {
        reply.AssertError(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(sentence, reply.Body.Str("error"));
    }

    [Theory]
    [InlineData(null, "open")]
    [InlineData("invite", "invite")]
    [InlineData("Closed", "closed")]
    public async Task The_mode_is_announced_to_anonymous_callers(string? setting, string mode)
    {
        await using var server = await TestServer.StartAsync(setting is null ? [] : [("Chat:Auth:Registration", setting)]);
        var reply = await server.GetAsync("/api/auth/registration", null);
        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(mode, reply.Body.Str("mode"));
    }

    [Fact]
    public async Task Open_registration_ignores_an_invite()
    {
        await using var server = await TestServer.StartAsync();
        (await server.PostAsync("/api/auth/register", Register("k8open", "no-such-invite"), null)).AssertStatus(HttpStatusCode.Created);
        (await server.PostAsync("/api/auth/register", Register("k8open2"), null)).AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Closed_registration_refuses_everyone_even_with_an_invite_while_accounts_keep_signing_in()
    {
        await using var server = await TestServer.StartAsync(("Chat:Auth:Registration", "closed"), ("Chat:Auth:Admins:0", "root"));
        string admin = await AdminTokenAsync(server);
        string code = await NewInviteAsync(server, admin);
        AssertRefused(await server.PostAsync("/api/auth/register", Register("k8closed"), null), "Registration is closed on this server.");
        AssertRefused(await server.PostAsync("/api/auth/register", Register("k8closed", code), null), "Registration is closed on this server.");
        (await server.GetAsync("/api/users/me", admin)).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Invite_mode_needs_a_valid_invite_and_counts_its_uses()
    {
        await using var server = await TestServer.StartAsync(InviteMode());
        string admin = await AdminTokenAsync(server);
        AssertRefused(await server.PostAsync("/api/auth/register", Register("k8none"), null), "Registration needs an invite.");
        AssertRefused(await server.PostAsync("/api/auth/register", Register("k8bogus", "AAAAAAAAAAAAAAAAAAAAAA"), null), NotValid);
        AssertRefused(await server.PostAsync("/api/auth/register", Register("k8long", new string('x', 5000)), null), NotValid);

        var made = await server.PostAsync("/api/admin/invites", new { max_uses = 2, expires_in_hours = 24 }, admin);
        made.AssertStatus(HttpStatusCode.Created);
        string code = made.Body.Str("code")!;
        Assert.Equal(22, code.Length); // 128 random bits, base64url
        Assert.Matches("^[A-Za-z0-9_-]+$", code);
        Assert.Equal(2, made.Body.GetProperty("max_uses").GetInt32());
        long expires = made.Body.GetProperty("expires_at").GetInt64();
        Assert.InRange(expires - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 23 * 3_600_000L, 24 * 3_600_000L);

        var first = await server.PostAsync("/api/auth/register", Register("k8first", code), null);
        first.AssertStatus(HttpStatusCode.Created);
        (await server.GetAsync("/api/users/me", first.Body.Str("token"))).AssertStatus(HttpStatusCode.OK);
        var listed = (await server.GetAsync("/api/admin/invites", admin)).Body.GetProperty("invites").EnumerateArray().Single();
        Assert.Equal(made.Body.Str("invite_id"), listed.Str("invite_id"));
        Assert.Equal(1, listed.GetProperty("uses").GetInt32());
        Assert.Equal(2, listed.GetProperty("max_uses").GetInt32());
        Assert.Equal(expires, listed.GetProperty("expires_at").GetInt64());
        Assert.False(listed.TryGetProperty("code", out _)); // only its hash is kept
        Assert.DoesNotContain(code, listed.GetRawText(), StringComparison.Ordinal);

        (await server.PostAsync("/api/auth/register", Register("k8second", code), null)).AssertStatus(HttpStatusCode.Created);
        AssertRefused(await server.PostAsync("/api/auth/register", Register("k8third", code), null), NotValid);
        Assert.Empty((await server.GetAsync("/api/admin/invites", admin)).Body.GetProperty("invites").EnumerateArray());
    }

    [Fact]
    public async Task A_taken_username_does_not_use_up_the_invite()
    {
        await using var server = await TestServer.StartAsync(InviteMode());
        string admin = await AdminTokenAsync(server);
        string code = await NewInviteAsync(server, admin);
        (await server.PostAsync("/api/auth/register", Register("root", code), null)).AssertError(HttpStatusCode.Conflict, "conflict");
        (await server.PostAsync("/api/auth/register", Register("k8taken", code), null)).AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task An_expired_invite_gets_the_same_answer_as_an_unknown_one()
    {
        var clock = FakeClock.New();
        await using var server = await TestServer.StartWithAsync(new TestServerSetup(Time: clock), InviteMode());
        string admin = await AdminTokenAsync(server);
        string code = await NewInviteAsync(server, admin, new { expires_in_hours = 1 });
        string other = await NewInviteAsync(server, admin); // default: 7 days
        clock.Advance(TimeSpan.FromMinutes(61));
        AssertRefused(await server.PostAsync("/api/auth/register", Register("k8late", code), null), NotValid);
        Assert.Single((await server.GetAsync("/api/admin/invites", admin)).Body.GetProperty("invites").EnumerateArray());
        clock.Advance(TimeSpan.FromHours(166));
        (await server.PostAsync("/api/auth/register", Register("k8intime", other), null)).AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_deleted_invite_no_longer_admits_anyone()
    {
        await using var server = await TestServer.StartAsync(InviteMode());
        string admin = await AdminTokenAsync(server);
        var made = await server.PostAsync("/api/admin/invites", new { max_uses = 5 }, admin);
        string id = made.Body.Str("invite_id")!;
        (await server.CallAsync(HttpMethod.Delete, $"/api/admin/invites/{id}", null, admin)).AssertStatus(HttpStatusCode.NoContent);
        AssertRefused(await server.PostAsync("/api/auth/register", Register("k8deleted", made.Body.Str("code")), null), NotValid);
        (await server.CallAsync(HttpMethod.Delete, $"/api/admin/invites/{id}", null, admin)).AssertError(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Only_configured_admins_manage_invites()
    {
        await using var server = await TestServer.StartAsync(("Chat:Auth:Admins:0", "Root"));
        string admin = await AdminTokenAsync(server); // "root": admin names match case-insensitively
        var (_, someone) = await server.NewUserAsync("k8user");
        string id = (await server.PostAsync("/api/admin/invites", new { }, admin)).Body.Str("invite_id")!;

        AssertRefused(await server.PostAsync("/api/admin/invites", new { }, someone.Token), "Only server admins can manage invites.");
        (await server.GetAsync("/api/admin/invites", someone.Token)).AssertError(HttpStatusCode.Forbidden, "forbidden");
        (await server.CallAsync(HttpMethod.Delete, $"/api/admin/invites/{id}", null, someone.Token)).AssertError(HttpStatusCode.Forbidden, "forbidden");
        (await server.PostAsync("/api/admin/invites", new { }, null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Single((await server.GetAsync("/api/admin/invites", admin)).Body.GetProperty("invites").EnumerateArray());
    }

    [Fact]
    public async Task Invite_limits_are_checked()
    {
        await using var server = await TestServer.StartAsync(InviteMode());
        string admin = await AdminTokenAsync(server);
        foreach (string body in (string[])["""{"max_uses":0}""", """{"max_uses":101}""", """{"expires_in_hours":0}""", """{"expires_in_hours":721}""",
            """{"max_uses":"5"}""", """{"max_uses":null,"expires_in_hours":1.5}""", "[]"])
            (await server.PostAsync("/api/admin/invites", body, admin)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        var most = await server.PostAsync("/api/admin/invites", new { max_uses = 100, expires_in_hours = 720 }, admin);
        most.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(100, most.Body.GetProperty("max_uses").GetInt32());
        Assert.Equal(1, (await server.PostAsync("/api/admin/invites", "{}", admin)).Body.GetProperty("max_uses").GetInt32());
    }

    /// <summary>Several registrations race for the last use: exactly as many succeed as there are uses.</summary>
    private static async Task RaceAsync(TestServer server)
    {
        string admin = await AdminTokenAsync(server);
        string code = await NewInviteAsync(server, admin, new { max_uses = 2 });
        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            server.PostAsync("/api/auth/register", Register($"k8race{i}", code), null)));
        Assert.Equal(2, replies.Count(r => r.Status == HttpStatusCode.Created));
        foreach (var refused in replies.Where(r => r.Status != HttpStatusCode.Created)) AssertRefused(refused, NotValid);
    }

    [Fact]
    public async Task Concurrent_registrations_cannot_share_an_invite_use()
    {
        await using var server = await TestServer.StartAsync(InviteMode(("Chat:Auth:MaxConcurrentHashes", "4")));
        await RaceAsync(server);
    }

    [PostgresFact]
    public async Task Concurrent_registrations_cannot_share_an_invite_use_on_postgres()
    {
        await using var schema = await PostgresTestDatabase.CreateSchemaAsync(maxPoolSize: 20);
        await using var server = await TestServer.StartAsync(InviteMode(("Chat:Storage", "postgres"),
            ("ConnectionStrings:Postgres", schema.ConnectionString), ("Chat:Auth:MaxConcurrentHashes", "4")));
        await RaceAsync(server);
    }
}
