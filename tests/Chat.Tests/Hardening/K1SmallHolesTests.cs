using System.Net;
using Chat.Client;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Hardening;

/// <summary>Issue 17 "smaller holes": ack is no existence oracle, REST refuses numbers as strings, names lose bidi controls.</summary>
public sealed class K1SmallHolesTests
{
    [Fact]
    public async Task Acking_a_message_of_a_chat_you_are_not_in_answers_exactly_like_an_unknown_id()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, c) = await server.NewUserAsync();
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sc = await server.ConnectReadyAsync(c.Token);
        var m = await sa.SendMessageAsync(ProtocolKit.DirectId(a.UserId, b.UserId), "secret", "k1");

        await sc.AckAsync(m.Str("message_id")!);
        var foreign = await sc.ExpectErrorAsync("not_found");
        await sc.AckAsync(Guid.CreateVersion7().ToString());
        var unknown = await sc.ExpectErrorAsync("not_found");
        Assert.Equal(unknown.Str("error"), foreign.Str("error"));

        // read by message_id in one's own chat, naming another chat's message: the same not_found as an unknown id.
        string own = ProtocolKit.DirectId(a.UserId, c.UserId);
        await sc.SendFrameAsync(new { type = "read", chat_id = own, message_id = m.Str("message_id") });
        var foreignRead = await sc.ExpectErrorAsync("not_found");
        await sc.SendFrameAsync(new { type = "read", chat_id = own, message_id = Guid.CreateVersion7().ToString() });
        Assert.Equal((await sc.ExpectErrorAsync("not_found")).Str("error"), foreignRead.Str("error"));
    }

    [Fact]
    public async Task Rest_refuses_numbers_sent_as_strings_like_the_socket_does()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        await using var sa = await server.ConnectReadyAsync(a.Token);
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await sa.SendMessageAsync(chat, "one", "n1");

        (await server.PostAsync($"/api/chats/{chat}/read", """{"seq":"1"}""", b.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal(0, (await server.GetAsync($"/api/chats/{chat}/receipts", a.Token)).Body.GetProperty("members").EnumerateArray()
            .Single(m => m.Str("user_id") == b.UserId).Long("read_seq"));
        // The same call with a number works, so the refusal above is about the string.
        (await server.PostAsync($"/api/chats/{chat}/read", """{"seq":1}""", b.Token)).AssertStatus(HttpStatusCode.NoContent);
        // Unparseable JSON is still invalid_json.
        (await server.PostAsync($"/api/chats/{chat}/read", """{"seq":""", b.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_json");
    }

    [Fact]
    public async Task Display_names_and_device_names_lose_bidi_overrides_and_isolates()
    {
        await using var server = await TestServer.StartAsync();
        string username = "bidi" + Guid.NewGuid().ToString("N")[..8];
        var reg = await server.PostAsync("/api/auth/register",
            new { username, password = "correct horse battery", display_name = "ad\u202Emin\u202C\u2066x\u2069", device_name = "pho\u202Ene\u2067" }, null);
        Assert.True(reg.Status is HttpStatusCode.OK or HttpStatusCode.Created, reg.Body.ToString());
        string token = reg.Body.Str("token")!;
        var me = await server.GetAsync("/api/users/me", token);
        Assert.Equal("adminx", me.Body.Str("display_name"));
        var devices = await server.GetAsync("/api/devices", token);
        Assert.Equal("phone", devices.Body.GetProperty("devices").EnumerateArray().Single().Str("device_name"));
    }
}
