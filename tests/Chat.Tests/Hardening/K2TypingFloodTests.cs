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

    /// <summary>Half the flood alternates typing_start / typing_stop (each would change what the members see), the other half is bare typing_stop.</summary>
    private static async Task FloodAsync(ChatSocket attacker, string chatId)
    {
        byte[] stop = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "typing_stop", chat_id = chatId }));
        byte[] start = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "typing_start", chat_id = chatId }));
        for (int i = 0; i < Flood / 2; i++) await attacker.SendBytesAsync(i % 2 == 0 ? start : stop, WebSocketMessageType.Text);
        for (int i = 0; i < Flood / 2; i++) await attacker.SendBytesAsync(stop, WebSocketMessageType.Text);
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
    public async Task A_typing_flood_into_a_direct_chat_reaches_the_victim_as_at_most_the_senders_typing_budget()
    {
        // The clock stands still: the socket's typing bucket (burst = the per-minute rate) never refills.
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock, ("Chat:Gateway:FrameLimits:TypingPerMinute", "50"));
        var (_, a) = await server.NewUserAsync("attacker");
        var (_, b) = await server.NewUserAsync("victim");
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var victim = await server.ConnectReadyAsync(b.Token);
        await using var attacker = await server.ConnectReadyAsync(a.Token);

        await FloodAsync(attacker, chat);

        int typing = await TypingFramesAfterMarkerAsync(attacker, victim, chat);
        // The first 50 frames alternate start/stop and each is relayed; the other 59,950 are over budget and dropped.
        Assert.Equal(50, typing);
        Assert.Equal(WebSocketState.Open, attacker.State); // the flood is dropped, not answered with a close
    }

    [Fact]
    public async Task Without_a_typing_budget_the_throttle_still_drops_repeated_starts_and_stops()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock, ("Chat:Gateway:FrameLimits:TypingPerMinute", "0"));
        var (_, a) = await server.NewUserAsync("attacker");
        var (_, b) = await server.NewUserAsync("victim");
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var victim = await server.ConnectReadyAsync(b.Token);
        await using var attacker = await server.ConnectReadyAsync(a.Token);

        byte[] stop = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "typing_stop", chat_id = chat }));
        byte[] start = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "typing_start", chat_id = chat }));
        for (int i = 0; i < Flood / 2; i++) await attacker.SendBytesAsync(start, WebSocketMessageType.Text);
        for (int i = 0; i < Flood / 2; i++) await attacker.SendBytesAsync(stop, WebSocketMessageType.Text);

        Assert.Equal(2, await TypingFramesAfterMarkerAsync(attacker, victim, chat)); // one start, one stop
    }

    [Fact]
    public async Task A_typing_flood_into_a_31_member_group_leaves_every_online_member_connected_with_a_bounded_count()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock); // default budgets (120 typing frames per socket)
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
                // The 120 frames of the default budget alternate start/stop and each is relayed; the rest are dropped.
                Assert.Equal(120, typing);
            }
        }
        finally
        {
            foreach (var s in online) await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Normal_typing_start_after_a_stop_is_shown_at_once_and_repeated_starts_once_per_window()
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

        // Typing again right after the stop (the clock has not moved) is shown at once.
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sb.NextAsync("typing_start", ProtocolKit.Wait);
        // A repeated start within the window (2 s by default) is dropped ...
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sa.FenceAsync();
        (await sb.FenceAsync()).AssertNone("typing_start");
        // ... and refreshes the indicator once the window passed.
        clock.Advance(TimeSpan.FromSeconds(2.1));
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sb.NextAsync("typing_start", ProtocolKit.Wait);
    }
}
