using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Hardening;

/// <summary>Sessions expire after <c>Chat:Auth:SessionIdleDays</c> without use; last use is recorded at most hourly.</summary>
public sealed class K5SessionIdleTests
{
    private static JsonElement Device(JsonElement list, string deviceId) =>
        list.GetProperty("devices").EnumerateArray().Single(d => d.Str("device_id") == deviceId);

    [Fact]
    public async Task A_session_idle_beyond_the_limit_is_refused_on_rest_and_ws_and_removed()
    {
        var clock = FakeClock.New();
        await using var server = await TestServer.StartWithAsync(new TestServerSetup(Time: clock), ("Chat:Auth:SessionIdleDays", "30"));
        var (_, idle) = await server.NewUserAsync("k5idle");
        var (_, fresh) = await server.LoginAsync(idle.Username, "tablet");
        (await server.GetAsync("/api/users/me", idle.Token)).AssertStatus(HttpStatusCode.OK);

        clock.Advance(TimeSpan.FromDays(20));
        (await server.GetAsync("/api/users/me", fresh.Token)).AssertStatus(HttpStatusCode.OK);
        clock.Advance(TimeSpan.FromDays(11));

        // 31 days unused: refused; the other device, used 11 days ago, still works.
        (await server.GetAsync("/api/users/me", idle.Token)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        await using (var socket = await server.ConnectAsync(idle.Token))
            Assert.Equal(4001, await socket.ClosedWithAsync());
        var devices = await server.GetAsync("/api/devices", fresh.Token);
        devices.AssertStatus(HttpStatusCode.OK);
        var ids = devices.Body.GetProperty("devices").EnumerateArray().Select(d => d.Str("device_id")).ToList();
        Assert.DoesNotContain(idle.DeviceId, ids);
        Assert.Contains(fresh.DeviceId, ids);

        // Removed, not only refused: turning the clock back does not revive it.
        clock.Advance(TimeSpan.FromSeconds(10));
        (await server.GetAsync("/api/users/me", idle.Token)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Last_use_is_listed_and_rewritten_at_most_once_an_hour()
    {
        var clock = FakeClock.New();
        await using var server = await TestServer.StartWithAsync(new TestServerSetup(Time: clock));
        var (_, reg) = await server.NewUserAsync("k5last");
        long created = Device((await server.GetAsync("/api/devices", reg.Token)).Body, reg.DeviceId).GetProperty("last_used_at").GetInt64();

        clock.Advance(TimeSpan.FromMinutes(40));
        var listed = Device((await server.GetAsync("/api/devices", reg.Token)).Body, reg.DeviceId);
        Assert.Equal(created, listed.GetProperty("last_used_at").GetInt64());

        clock.Advance(TimeSpan.FromMinutes(30));
        long now = clock.NowMs();
        listed = Device((await server.GetAsync("/api/devices", reg.Token)).Body, reg.DeviceId);
        Assert.Equal(now, listed.GetProperty("last_used_at").GetInt64());

        clock.Advance(TimeSpan.FromMinutes(10));
        listed = Device((await server.GetAsync("/api/devices", reg.Token)).Body, reg.DeviceId);
        Assert.Equal(now, listed.GetProperty("last_used_at").GetInt64());
    }

    [Fact]
    public async Task Regular_use_keeps_a_session_and_zero_never_expires()
    {
        var clock = FakeClock.New();
        await using (var server = await TestServer.StartWithAsync(new TestServerSetup(Time: clock), ("Chat:Auth:SessionIdleDays", "30")))
        {
            var (_, reg) = await server.NewUserAsync("k5kept");
            for (int i = 0; i < 4; i++)
            {
                clock.Advance(TimeSpan.FromDays(25));
                (await server.GetAsync("/api/users/me", reg.Token)).AssertStatus(HttpStatusCode.OK);
            }
        }
        var still = FakeClock.New();
        await using (var server = await TestServer.StartWithAsync(new TestServerSetup(Time: still), ("Chat:Auth:SessionIdleDays", "0")))
        {
            var (_, reg) = await server.NewUserAsync("k5never");
            still.Advance(TimeSpan.FromDays(3650));
            (await server.GetAsync("/api/users/me", reg.Token)).AssertStatus(HttpStatusCode.OK);
        }
    }
}
