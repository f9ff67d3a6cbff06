using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Search;

/// <summary>PROTOCOL.md v1.1 "Search" over the real server: shapes, query rules, bad input, members only.</summary>
public sealed class SearchApiTests
{
    private static string Q(string q) => Uri.EscapeDataString(q);

    private static string[] Contents(JsonElement body) =>
        body.GetProperty("results").EnumerateArray().Select(m => m.Str("content")!).ToArray();

    [Fact]
    public async Task Results_are_message_objects_of_the_callers_chats_newest_first_with_paging()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync("alice");
        var (_, b) = await server.NewUserAsync("bob");
        var (_, stranger) = await server.NewUserAsync("stranger");
        string direct = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        for (int i = 1; i <= 5; i++) await sa.SendMessageAsync(direct, $"Café meeting {i}", $"m{i}");

        var page = await server.GetAsync($"/api/search?q={Q("cafe MEET")}&limit=2", b.Token);
        page.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(["Café meeting 5", "Café meeting 4"], Contents(page.Body));
        Assert.True(page.Body.GetProperty("has_more").GetBoolean());
        var first = page.Body.GetProperty("results")[0];
        Assert.Equal(direct, first.Str("chat_id"));
        Assert.Equal(5, first.Long("seq"));
        Assert.Equal(a.UserId, first.Str("from"));
        Assert.Equal("m5", first.Str("client_msg_id"));

        long cursor = page.Body.GetProperty("results")[1].Long("timestamp");
        var rest = await server.GetAsync($"/api/search?q=caf&before={cursor}&limit=50", b.Token);
        Assert.Equal(["Café meeting 3", "Café meeting 2", "Café meeting 1"], Contents(rest.Body));
        Assert.False(rest.Body.GetProperty("has_more").GetBoolean());

        // Another chat's member and a stranger see nothing; naming the chat is not_found for them.
        Assert.Empty(Contents((await server.GetAsync("/api/search?q=cafe", stranger.Token)).Body));
        (await server.GetAsync($"/api/search?q=cafe&chat_id={direct}", stranger.Token)).AssertError(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Equal(5, Contents((await server.GetAsync($"/api/search?q=cafe&chat_id={direct}", a.Token)).Body).Length);
        (await server.GetAsync("/api/search?q=cafe", null)).AssertStatus(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_ex_member_finds_nothing_from_the_group_they_left()
    {
        await using var server = await TestServer.StartAsync();
        var (apiA, a) = await server.NewUserAsync("alice");
        var (_, b) = await server.NewUserAsync("bob");
        var group = await apiA.CreateGroupAsync("team", [b.UserId]);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await sa.SendMessageAsync(group.GroupId, "quarterly numbers", "g1");
        Assert.Equal(["quarterly numbers"], Contents((await server.GetAsync("/api/search?q=quart", b.Token)).Body));

        await apiA.RemoveMemberAsync(group.GroupId, b.UserId);
        Assert.Empty(Contents((await server.GetAsync("/api/search?q=quart", b.Token)).Body));
        (await server.GetAsync($"/api/search?q=quart&chat_id={group.GroupId}", b.Token)).AssertError(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [Fact]
    public async Task Bad_queries_are_invalid_request_and_engine_syntax_is_never_an_error()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync("alice");
        var (_, b) = await server.NewUserAsync("bob");
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await sa.SendMessageAsync(ProtocolKit.DirectId(a.UserId, b.UserId), "near the gate: AND \"more\"", "m1");

        foreach (string bad in new[] { "", " ", "\"", "*", ":", "-", "()", "\"*\" : - ( )", new string('a', 201) })
            (await server.GetAsync($"/api/search?q={Q(bad)}", a.Token)).AssertError(HttpStatusCode.BadRequest, ErrorCodes.InvalidRequest);
        (await server.GetAsync("/api/search", a.Token)).AssertError(HttpStatusCode.BadRequest, ErrorCodes.InvalidRequest);
        (await server.GetAsync($"/api/search?q={Q(new string('a', 200))}", a.Token)).AssertStatus(HttpStatusCode.OK);

        foreach (string q in new[] { "\"more\"", "more*", "AND", "NEAR(", "near(gate", "gate:", "-near", "(the)", "\"near", "AND near", "^gate", "near AND" })
        {
            var reply = await server.GetAsync($"/api/search?q={Q(q)}", a.Token);
            reply.AssertStatus(HttpStatusCode.OK);
            Assert.Equal(["near the gate: AND \"more\""], Contents(reply.Body));
        }
        foreach (string q in new[] { "NEAR(x y)", "a:b", "\"x\" AND \"y\"", "zzz*" })
        {
            var reply = await server.GetAsync($"/api/search?q={Q(q)}", a.Token);
            reply.AssertStatus(HttpStatusCode.OK);
            Assert.Empty(Contents(reply.Body));
        }
    }

    [Fact]
    public async Task People_search_by_username_or_display_name_word()
    {
        await using var server = await TestServer.StartAsync();
        var api = server.Api();
        string tag = Guid.NewGuid().ToString("N")[..6];
        var ann = await api.RegisterAsync($"ann{tag}", "password123", displayName: "Annabel Lee");
        var rob = await server.Api().RegisterAsync($"rob{tag}", "password123", displayName: $"Robert Ann{tag}son");

        var found = await server.GetAsync($"/api/users/search?q=ANN{tag}", ann.Token);
        found.AssertStatus(HttpStatusCode.OK);
        var users = found.Body.GetProperty("users").EnumerateArray().ToList();
        Assert.Equal([ann.UserId, rob.UserId], users.Select(u => u.Str("user_id")));
        Assert.Equal(["user_id", "username", "display_name"], users[0].EnumerateObject().Select(p => p.Name));
        Assert.Single((await server.GetAsync($"/api/users/search?q=rob{tag}&limit=1", ann.Token)).Body.GetProperty("users").EnumerateArray());
        (await server.GetAsync("/api/users/search?q=", ann.Token)).AssertError(HttpStatusCode.BadRequest, ErrorCodes.InvalidRequest);
        (await server.GetAsync("/api/users/search?q=ann", null)).AssertStatus(HttpStatusCode.Unauthorized);
    }
}
