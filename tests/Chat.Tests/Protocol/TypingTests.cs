using Chat.Client;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Chat.Tests.Protocol;

/// <summary>
/// PROTOCOL.md typing: relayed to the other members' devices, never echoed, members only, server-side stop.
/// Timeouts run on a fake clock the test moves; where the clock stands still, a stop can only come from a disconnect.
/// </summary>
public sealed class TypingTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    private static Task<TestServer> StartAsync(FakeTimeProvider clock, params (string Key, string Value)[] settings) =>
        TestServer.StartWithAsync(new TestServerSetup(clock), settings);

    [Fact]
    public async Task Typing_is_relayed_to_other_members_devices_not_echoed_and_stop_is_relayed()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, a2) = await server.LoginAsync(a.Username);
        var (_, b) = await server.NewUserAsync();
        var (_, b2) = await server.LoginAsync(b.Username);
        var (_, c) = await server.NewUserAsync();
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sa2 = await server.ConnectReadyAsync(a2.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await using var sb2 = await server.ConnectReadyAsync(b2.Token);
        await using var sc = await server.ConnectReadyAsync(c.Token);
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);

        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        foreach (var s in new[] { sb, sb2 })
        {
            var t = await s.NextAsync("typing_start", ProtocolKit.Wait);
            Assert.Equal(chat, t.Str("chat_id"));
            Assert.Equal(a.UserId, t.Str("user_id"));
        }
        Assert.DoesNotContain(await sa.FenceAsync(), f => f.Type() is "typing_start" or "error");
        (await sa2.FenceAsync()).AssertNone("typing_start"); // the typer's own user is not "the other members"
        (await sc.FenceAsync()).AssertNone("typing_start");

        await sa.SendFrameAsync(new { type = "typing_stop", chat_id = chat });
        var stop = await sb.NextAsync("typing_stop", ProtocolKit.Wait);
        Assert.Equal(a.UserId, stop.Str("user_id"));
        Assert.Equal(chat, stop.Str("chat_id"));
        (await sc.FenceAsync()).AssertNone("typing_stop");

        // Never stored.
        Assert.Empty((await server.GetAsync($"/api/chats/{chat}/messages", a.Token)).Body.GetProperty("messages").EnumerateArray());

        // A non-member cannot type into the chat; nothing is relayed.
        await sc.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sc.ExpectErrorAsync("forbidden");
        await sc.SendFrameAsync(new { type = "typing_stop", chat_id = chat });
        await sc.ExpectErrorAsync("forbidden");
        await sc.SendFrameAsync(new { type = "typing_start", chat_id = "nosuchgroup" });
        await sc.ExpectErrorAsync("not_found");
        Assert.DoesNotContain(await sb.FenceAsync(), f => f.Type() is "typing_start" or "typing_stop");
    }

    [Fact]
    public async Task Server_stops_typing_after_the_timeout_and_when_the_typer_disconnects()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock, ("Chat:Presence:TypingTimeoutSeconds", "1"));
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string gid = (await server.PostAsync("/api/groups", new { name = "T", members = new[] { b.UserId } }, a.Token)).Body.Str("group_id")!;
        await using var sb = await server.ConnectReadyAsync(b.Token);

        await using (var sa = await server.ConnectReadyAsync(a.Token))
        {
            await sa.SendFrameAsync(new { type = "typing_start", chat_id = gid });
            await sb.NextAsync("typing_start", ProtocolKit.Wait);
            long started = clock.NowMs();
            var stop = await clock.AdvanceUntilAsync(sb, f => f.Type() == "typing_stop", Step, TimeSpan.FromSeconds(5));
            Assert.Equal(a.UserId, stop.Str("user_id"));
            Assert.Equal(gid, stop.Str("chat_id"));
            Assert.True(clock.NowMs() - started >= 1_000, "the stop came before the timeout");

            await sa.SendFrameAsync(new { type = "typing_start", chat_id = gid });
            await sb.NextAsync("typing_start", ProtocolKit.Wait);
        }
        // The typer's socket closed: typing_stop at once (the clock stands still: no timeout can have caused it).
        var gone = await sb.NextAsync("typing_stop", TimeSpan.FromSeconds(5));
        Assert.Equal(a.UserId, gone.Str("user_id"));
        (await sb.FenceAsync()).AssertNone("typing_stop"); // exactly one
    }

    [Fact]
    public async Task Stop_on_disconnect_comes_before_the_timeout()
    {
        // The clock never moves here, so the stop can only come from the disconnect.
        await using var server = await StartAsync(FakeClock.New(), ("Chat:Presence:TypingTimeoutSeconds", "30"));
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        var sa = await server.ConnectReadyAsync(a.Token);
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sb.NextAsync("typing_start", ProtocolKit.Wait);
        sa.Abort(); // vanished
        var stop = await sb.NextAsync("typing_stop", TimeSpan.FromSeconds(8));
        Assert.Equal(a.UserId, stop.Str("user_id"));
        await sa.DisposeAsync();
    }

    [Fact]
    public async Task Repeated_typing_start_is_not_rebroadcast_within_the_throttle_window()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock, ("Chat:Presence:TypingRebroadcastSeconds", "1"));
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);

        for (int i = 0; i < 5; i++) await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        // A message after the starts is a marker: anything relayed for them is queued before it.
        await sa.SendMessageAsync(chat, "marker", "mk1");
        await sb.NextAsync("new_message", ProtocolKit.Wait);
        Assert.Single((await sb.FenceAsync()).OfType("typing_start"));

        // After the window, a refresh is broadcast again (so a client that missed the first learns it).
        clock.Advance(TimeSpan.FromSeconds(1.2));
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sb.NextAsync("typing_start", ProtocolKit.Wait);
    }

    [Fact]
    public async Task Defaults_typing_stops_after_six_seconds()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock); // default 6 s timeout, 2 s throttle
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sb.NextAsync("typing_start", ProtocolKit.Wait);
        long started = clock.NowMs();
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat }); // within 2 s: not re-broadcast
        await sa.FenceAsync(); // handled before the clock moves (frames are handled in order)
        var stop = await clock.AdvanceUntilAsync(sb, f => f.Type() == "typing_stop", TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(15));
        Assert.InRange(clock.NowMs() - started, 6_000, 15_000);
        (await sb.FenceAsync()).AssertNone("typing_start");
        _ = stop;
    }
}
