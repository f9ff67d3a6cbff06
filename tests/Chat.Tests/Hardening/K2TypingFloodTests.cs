using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Chat.Client;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17 "anyone can knock any online user off": a flood of typing frames into a direct chat or a group must never
/// close the victim's socket (4008) and must reach the victim only as a few relayed frames. The server's clock stands
/// still (a fake clock), so the throttle windows never pass during the flood and the bounds are exact.
/// </summary>
public sealed class K2TypingFloodTests
{
    private const int Flood = 60_000;

    private static Task<TestServer> StartAsync(FakeTimeProvider clock, params (string Key, string Value)[] settings) =>
        TestServer.StartWithAsync(new TestServerSetup(clock), settings);

    /// <summary>Half the flood is bare typing_stop, the other half alternates typing_start / typing_stop.</summary>
    private static async Task FloodAsync(ChatSocket attacker, string chatId)
    {
        byte[] stop = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "typing_stop", chat_id = chatId }));
        byte[] start = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "typing_start", chat_id = chatId }));
        for (int i = 0; i < Flood / 2; i++) await attacker.SendBytesAsync(stop, WebSocketMessageType.Text);
        for (int i = 0; i < Flood / 2; i++) await attacker.SendBytesAsync(i % 2 == 0 ? start : stop, WebSocketMessageType.Text);
    }

    /// <summary>The victim still gets a normal message afterwards, on the same open socket; returns its typing frames.</summary>
    private static async Task<int> TypingFramesAfterMarkerAsync(ChatSocket attacker, ChatSocket victim, string chatId)
    {
        await attacker.SendMessageAsync(chatId, "after the flood", "k2-marker", timeout: ProtocolKit.Wait);
        var marker = await victim.NextAsync(f => f.Type() == "new_message" && f.Str("client_msg_id") == "k2-marker", ProtocolKit.Wait);
        Assert.Equal("after the flood", marker.Str("content"));
        var rest = await victim.FenceAsync();
        Assert.Equal(WebSocketState.Open, victim.State);
        Assert.Null(victim.CloseCode);
        return rest.Count(f => f.Type() is "typing_start" or "typing_stop");
    }

    [Fact]
    public async Task A_typing_flood_into_a_direct_chat_reaches_the_victim_as_at_most_one_start_and_one_stop()
    {
        // The per-socket budget is switched off here: the typing throttle alone must bound what is relayed.
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock, ("Chat:Gateway:FrameLimits:TypingPerMinute", "0"));
        var (_, a) = await server.NewUserAsync("attacker");
        var (_, b) = await server.NewUserAsync("victim");
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var victim = await server.ConnectReadyAsync(b.Token);
        await using var attacker = await server.ConnectReadyAsync(a.Token);

        await FloodAsync(attacker, chat);

        int typing = await TypingFramesAfterMarkerAsync(attacker, victim, chat);
        Assert.InRange(typing, 1, 2); // the first start is relayed (and its stop), nothing else within the window
        Assert.Equal(WebSocketState.Open, attacker.State); // the flood is dropped, not answered with a close
    }

    [Fact]
    public async Task A_typing_flood_into_a_31_member_group_leaves_every_online_member_connected_with_a_bounded_count()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock); // default budgets
        var (_, a) = await server.NewUserAsync("attacker");
        var members = new List<Chat.Protocol.AuthResponse>();
        for (int i = 0; i < 30; i++) members.Add((await server.NewUserAsync("member")).Auth);
        var created = await server.PostAsync("/api/groups", new { name = "Flood", members = members.Select(m => m.UserId).ToArray() }, a.Token);
        string gid = created.Body.Str("group_id")!;
        var online = new List<ChatSocket>();
        try
        {
            foreach (var m in members.Take(3)) online.Add(await server.ConnectReadyAsync(m.Token));
            await using var attacker = await server.ConnectReadyAsync(a.Token);

            await FloodAsync(attacker, gid);

            foreach (var victim in online)
            {
                // The same marker (a retry answers the same ack, stores nothing new) reaches every member once.
                int typing = await TypingFramesAfterMarkerAsync(attacker, victim, gid);
                // Default budgets: the bare stops spend the socket's typing budget first, so even the start may be dropped.
                Assert.InRange(typing, 0, 2);
            }
        }
        finally
        {
            foreach (var s in online) await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Normal_typing_still_works_after_a_stop_once_the_window_passed()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock);
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await using var sa = await server.ConnectReadyAsync(a.Token);

        // A stop while nobody types is not relayed.
        await sa.SendFrameAsync(new { type = "typing_stop", chat_id = chat });
        await sa.FenceAsync();
        (await sb.FenceAsync()).AssertNone("typing_stop");

        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sb.NextAsync("typing_start", ProtocolKit.Wait);
        await sa.SendFrameAsync(new { type = "typing_stop", chat_id = chat });
        await sb.NextAsync("typing_stop", ProtocolKit.Wait);
        await sa.SendFrameAsync(new { type = "typing_stop", chat_id = chat }); // a repeat: dropped
        await sa.FenceAsync();
        (await sb.FenceAsync()).AssertNone("typing_stop");

        // A user who types again after the window (2 s by default) is shown typing again at once.
        clock.Advance(TimeSpan.FromSeconds(2.1));
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sb.NextAsync("typing_start", ProtocolKit.Wait);
    }
}
