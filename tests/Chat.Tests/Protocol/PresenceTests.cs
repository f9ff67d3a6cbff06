using System.Text.Json;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md presence: subscribe, online / away / offline with a grace period, last_seen, only real changes.</summary>
public sealed class PresenceTests
{
    private static Task<JsonElement> NextPresence(ChatSocket s, string userId) =>
        s.NextAsync(f => f.Type() == "presence_update" && f.Str("user_id") == userId, ProtocolKit.Wait);

    private static Task Subscribe(ChatSocket s, params string[] ids) => s.SendFrameAsync(new { type = "presence_subscribe", user_ids = ids });

    [Fact]
    public async Task Subscribe_gets_current_state_at_once_then_online_away_online_offline_with_last_seen()
    {
        await using var server = await TestServer.StartAsync(("Chat:Presence:GraceSeconds", "1"));
        var (_, watcher) = await server.NewUserAsync();
        var (_, u) = await server.NewUserAsync();
        var (_, u2) = await server.LoginAsync(u.Username);
        await using var w = await server.ConnectReadyAsync(watcher.Token);

        await Subscribe(w, u.UserId);
        var initial = await NextPresence(w, u.UserId);
        Assert.Equal("offline", initial.Str("status"));
        Assert.True(initial.TryGetProperty("last_seen", out _));

        var d1 = await server.ConnectReadyAsync(u.Token);
        var online = await NextPresence(w, u.UserId);
        Assert.Equal("online", online.Str("status"));
        Assert.InRange(online.Long("last_seen"), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 5_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 5_000);

        // Two devices: both must be away for "away".
        var d2 = await server.ConnectReadyAsync(u2.Token);
        await d2.SendFrameAsync(new { type = "set_status", status = "away" });
        await d2.FenceAsync();
        (await w.FenceAsync()).AssertNone("presence_update"); // second device online, one away: still online, no update
        Assert.Equal("online", (await server.GetAsync($"/api/users/{u.UserId}", watcher.Token)).Body.Str("status"));
        await d1.SendFrameAsync(new { type = "set_status", status = "away" });
        Assert.Equal("away", (await NextPresence(w, u.UserId)).Str("status"));
        Assert.Equal("away", (await server.GetAsync($"/api/users/{u.UserId}", watcher.Token)).Body.Str("status"));
        await d2.SendFrameAsync(new { type = "set_status", status = "online" });
        Assert.Equal("online", (await NextPresence(w, u.UserId)).Str("status"));

        // One device (online) leaves while the other (online again) stays: still online, no update.
        await d1.SendFrameAsync(new { type = "set_status", status = "online" });
        await d1.FenceAsync();
        await d2.DisposeAsync();
        await Task.Delay(1500); // longer than the grace period
        (await w.FenceAsync()).AssertNone("presence_update");
        Assert.Equal("online", (await server.GetAsync($"/api/users/{u.UserId}", watcher.Token)).Body.Str("status"));

        // The last device leaves: offline only after the grace period, last_seen = when it left.
        long leaving = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await d1.DisposeAsync();
        var offline = await NextPresence(w, u.UserId);
        long seenAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal("offline", offline.Str("status"));
        Assert.InRange(offline.Long("last_seen"), leaving - 1_000, leaving + 1_000);
        Assert.True(seenAt - leaving >= 900, $"offline came {seenAt - leaving} ms after leaving; the grace is 1 s");
        var rest = await server.GetAsync($"/api/users/{u.UserId}", watcher.Token);
        Assert.Equal("offline", rest.Body.Str("status"));
        Assert.Equal(offline.Long("last_seen"), rest.Body.Long("last_seen"));
        var viaPresence = await server.GetAsync($"/api/presence?user_ids={u.UserId}", watcher.Token);
        Assert.Equal("offline", viaPresence.Body.GetProperty("presence")[0].Str("status"));
    }

    [Fact]
    public async Task Quick_reconnect_within_the_grace_period_shows_no_flicker()
    {
        await using var server = await TestServer.StartAsync(("Chat:Presence:GraceSeconds", "2"));
        var (_, watcher) = await server.NewUserAsync();
        var (_, u) = await server.NewUserAsync();
        await using var w = await server.ConnectReadyAsync(watcher.Token);
        var d1 = await server.ConnectReadyAsync(u.Token);
        await Subscribe(w, u.UserId);
        Assert.Equal("online", (await NextPresence(w, u.UserId)).Str("status"));

        d1.Abort(); // vanished without a close handshake
        await Task.Delay(300);
        await using var d2 = await server.ConnectReadyAsync(u.Token);
        await d2.FenceAsync();
        await Task.Delay(2500); // past the grace period of the first connection
        (await w.FenceAsync()).AssertNone("presence_update");
        Assert.Equal("online", (await server.GetAsync($"/api/users/{u.UserId}", watcher.Token)).Body.Str("status"));
        await d1.DisposeAsync();
    }

    [Fact]
    public async Task Unsubscribe_stops_updates_and_updates_go_only_to_subscribers()
    {
        await using var server = await TestServer.StartAsync(("Chat:Presence:GraceSeconds", "1"));
        var (_, w1) = await server.NewUserAsync();
        var (_, w2) = await server.NewUserAsync();
        var (_, u) = await server.NewUserAsync();
        await using var s1 = await server.ConnectReadyAsync(w1.Token);
        await using var s2 = await server.ConnectReadyAsync(w2.Token);
        await Subscribe(s1, u.UserId);
        await NextPresence(s1, u.UserId);
        await using (var d = await server.ConnectReadyAsync(u.Token))
        {
            Assert.Equal("online", (await NextPresence(s1, u.UserId)).Str("status"));
            (await s2.FenceAsync()).AssertNone("presence_update");
            await s1.SendFrameAsync(new { type = "presence_unsubscribe", user_ids = new[] { u.UserId } });
            await s1.FenceAsync();
            await d.SendFrameAsync(new { type = "set_status", status = "away" });
            await d.FenceAsync();
        }
        await Task.Delay(1500);
        (await s1.FenceAsync()).AssertNone("presence_update");
        (await s2.FenceAsync()).AssertNone("presence_update");
    }

    [Fact]
    public async Task Subscriptions_per_connection_are_capped_with_a_clear_error()
    {
        await using var server = await TestServer.StartAsync(("Chat:Presence:MaxSubscriptionsPerConnection", "3"));
        var (_, w) = await server.NewUserAsync();
        await using var s = await server.ConnectReadyAsync(w.Token);
        await Subscribe(s, "u1", "u2", "u3");
        for (int i = 0; i < 3; i++) await s.NextAsync("presence_update", ProtocolKit.Wait);
        await Subscribe(s, "u4");
        var error = await s.NextAsync("error", ProtocolKit.Wait);
        Assert.False(string.IsNullOrEmpty(error.Str("code")));
        Assert.Contains("3", error.Str("error"));
    }

    [Fact]
    public async Task Default_grace_period_is_ten_seconds()
    {
        await using var server = await TestServer.StartAsync(); // the defaults: 10 s grace
        var (_, watcher) = await server.NewUserAsync();
        var (_, u) = await server.NewUserAsync();
        await using var w = await server.ConnectReadyAsync(watcher.Token);
        var d = await server.ConnectReadyAsync(u.Token);
        await Subscribe(w, u.UserId);
        Assert.Equal("online", (await NextPresence(w, u.UserId)).Str("status"));
        long left = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await d.DisposeAsync();
        await Task.Delay(3000);
        Assert.Equal("online", (await server.GetAsync($"/api/users/{u.UserId}", watcher.Token)).Body.Str("status"));
        var offline = await w.NextAsync(f => f.Type() == "presence_update" && f.Str("user_id") == u.UserId, TimeSpan.FromSeconds(20));
        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - left;
        Assert.Equal("offline", offline.Str("status"));
        Assert.InRange(after, 9_500, 20_000);
    }

    [Fact]
    public async Task A_silent_connection_times_out_with_4002_and_its_user_goes_offline_after_the_grace()
    {
        await using var server = await TestServer.StartAsync(("Chat:Gateway:IdleTimeoutSeconds", "3"), ("Chat:Presence:GraceSeconds", "1"));
        var (_, watcher) = await server.NewUserAsync();
        var (_, u) = await server.NewUserAsync();
        await using var w = await server.ConnectReadyAsync(watcher.Token);
        using var stop = new CancellationTokenSource();
        // The watcher heartbeats to stay connected; the watched device says nothing.
        var heartbeats = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await w.SendFrameAsync(new { type = "heartbeat" });
                await Task.Delay(200);
            }
        });
        await using var silent = await server.ConnectReadyAsync(u.Token);
        await Subscribe(w, u.UserId);
        Assert.Equal("online", (await NextPresence(w, u.UserId)).Str("status"));
        Assert.Equal(4002, await silent.ClosedWithAsync());
        var offline = await NextPresence(w, u.UserId);
        Assert.Equal("offline", offline.Str("status"));
        Assert.True(offline.Long("last_seen") > 0);
        await stop.CancelAsync();
        await heartbeats;
    }
}
