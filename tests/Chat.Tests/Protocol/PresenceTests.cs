using System.Text.Json;
using Chat.Client;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Chat.Tests.Protocol;

/// <summary>
/// PROTOCOL.md presence: subscribe, online / away / offline with a grace period, last_seen, only real changes.
/// The server runs on a fake clock where a grace period or idle timeout matters: the test moves time itself.
/// </summary>
public sealed class PresenceTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);

    private static Task<JsonElement> NextPresence(ChatSocket s, string userId) =>
        s.NextAsync(f => f.Type() == "presence_update" && f.Str("user_id") == userId, ProtocolKit.Wait);

    private static Task Subscribe(ChatSocket s, params string[] ids) => s.SendFrameAsync(new { type = "presence_subscribe", user_ids = ids });

    private static Task<JsonElement> NextPresenceAsTimePasses(FakeTimeProvider clock, ChatSocket s, string userId, Func<Task>? eachStep = null) =>
        clock.AdvanceUntilAsync(s, f => f.Type() == "presence_update" && f.Str("user_id") == userId, Step, TimeSpan.FromSeconds(30), eachStep);

    private static Task<TestServer> StartAsync(FakeTimeProvider clock, params (string Key, string Value)[] settings) =>
        TestServer.StartWithAsync(new TestServerSetup(clock), settings);

    [Fact]
    public async Task Subscribe_gets_current_state_at_once_then_online_away_online_offline_with_last_seen()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock, ("Chat:Presence:GraceSeconds", "1"));
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
        Assert.Equal(clock.NowMs(), online.Long("last_seen")); // the clock has not moved since the device connected

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
        await clock.AdvanceAsync(TimeSpan.FromSeconds(1.5), Step); // longer than the grace period
        (await w.FenceAsync()).AssertNone("presence_update");
        Assert.Equal("online", (await server.GetAsync($"/api/users/{u.UserId}", watcher.Token)).Body.Str("status"));

        // The last device leaves: offline only after the grace period, last_seen = when it left.
        long leaving = clock.NowMs();
        await d1.DisposeAsync();
        var offline = await NextPresenceAsTimePasses(clock, w, u.UserId);
        Assert.Equal("offline", offline.Str("status"));
        // last_seen is when the device left, and offline was announced only once the grace had passed since then.
        Assert.InRange(offline.Long("last_seen"), leaving, clock.NowMs() - 1_000);
        var rest = await server.GetAsync($"/api/users/{u.UserId}", watcher.Token);
        Assert.Equal("offline", rest.Body.Str("status"));
        Assert.Equal(offline.Long("last_seen"), rest.Body.Long("last_seen"));
        var viaPresence = await server.GetAsync($"/api/presence?user_ids={u.UserId}", watcher.Token);
        Assert.Equal("offline", viaPresence.Body.GetProperty("presence")[0].Str("status"));
    }

    [Fact]
    public async Task Quick_reconnect_within_the_grace_period_shows_no_flicker()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock, ("Chat:Presence:GraceSeconds", "2"));
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
        await clock.AdvanceAsync(TimeSpan.FromSeconds(2.5), Step); // past the grace period of the first connection
        (await w.FenceAsync()).AssertNone("presence_update");
        Assert.Equal("online", (await server.GetAsync($"/api/users/{u.UserId}", watcher.Token)).Body.Str("status"));
        await d1.DisposeAsync();
    }

    [Fact]
    public async Task Unsubscribe_stops_updates_and_updates_go_only_to_subscribers()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock, ("Chat:Presence:GraceSeconds", "1"));
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
        await clock.AdvanceAsync(TimeSpan.FromSeconds(1.5), Step); // past the grace: the user is offline now
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
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock); // the defaults: 10 s grace
        var (_, watcher) = await server.NewUserAsync();
        var (_, u) = await server.NewUserAsync();
        await using var w = await server.ConnectReadyAsync(watcher.Token);
        var d = await server.ConnectReadyAsync(u.Token);
        await Subscribe(w, u.UserId);
        Assert.Equal("online", (await NextPresence(w, u.UserId)).Str("status"));
        long left = clock.NowMs();
        await d.DisposeAsync();
        await clock.AdvanceAsync(TimeSpan.FromSeconds(3), Step);
        Assert.Equal("online", (await server.GetAsync($"/api/users/{u.UserId}", watcher.Token)).Body.Str("status"));
        var offline = await NextPresenceAsTimePasses(clock, w, u.UserId);
        Assert.Equal("offline", offline.Str("status"));
        Assert.InRange(offline.Long("last_seen"), left, clock.NowMs() - 10_000);
    }

    [Fact]
    public async Task A_silent_connection_times_out_with_4002_and_its_user_goes_offline_after_the_grace()
    {
        var clock = FakeClock.New();
        await using var server = await StartAsync(clock, ("Chat:Gateway:IdleTimeoutSeconds", "3"), ("Chat:Presence:GraceSeconds", "1"));
        var (_, watcher) = await server.NewUserAsync();
        var (_, u) = await server.NewUserAsync();
        await using var w = await server.ConnectReadyAsync(watcher.Token);
        // The watcher heartbeats at every step of the clock to stay connected; the watched device says nothing.
        Func<Task> heartbeat = () => w.SendFrameAsync(new { type = "heartbeat" });
        await using var silent = await server.ConnectReadyAsync(u.Token);
        long connected = clock.NowMs();
        await Subscribe(w, u.UserId);
        Assert.Equal("online", (await NextPresence(w, u.UserId)).Str("status"));
        for (var moved = TimeSpan.Zero; !silent.Closed.IsCompleted; moved += Step)
        {
            Assert.True(moved < TimeSpan.FromSeconds(30), "the silent socket was never closed");
            await heartbeat();
            clock.Advance(Step);
            await Task.WhenAny(silent.Closed, Task.Delay(60));
        }
        Assert.Equal(4002, await silent.ClosedWithAsync());
        Assert.True(clock.NowMs() - connected >= 3_000, "closed before the idle timeout");
        var offline = await NextPresenceAsTimePasses(clock, w, u.UserId, heartbeat);
        Assert.Equal("offline", offline.Str("status"));
        Assert.True(offline.Long("last_seen") > 0);
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, w.State); // the watcher, heartbeating, stayed connected
    }
}
