using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Chat.Client;
using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Chat.Tests.Hosting;

/// <summary>
/// A dependency that throws must cost only the step that needed it: the typing expiry loop goes on and the host stays
/// up; a connection's teardown still removes presence and unregisters the route. The failure is injected into the real
/// single-node backplane (it fails its next typing_stop relay, then works again).
/// </summary>
public sealed class GatewayFailureTests
{
    private sealed class FailingBackplane(IBackplane inner) : IBackplane
    {
        private int _typingStopsToFail;
        public ConcurrentQueue<(UserId UserId, DeviceId DeviceId)> Unregistered { get; } = new();
        public int TypingStopsToFail => Volatile.Read(ref _typingStopsToFail);

        public void FailNextTypingStop() => Volatile.Write(ref _typingStopsToFail, 1);

        public ValueTask SendToUsersAsync(IReadOnlyCollection<UserId> userIds, OutboundEvent evt, CancellationToken ct)
        {
            if (Encoding.UTF8.GetString(evt.Payload.Span).Contains("\"type\":\"typing_stop\"", StringComparison.Ordinal)
                && Interlocked.CompareExchange(ref _typingStopsToFail, 0, 1) == 1)
                throw new InvalidOperationException("injected backplane failure");
            return inner.SendToUsersAsync(userIds, evt, ct);
        }

        public ValueTask UnregisterAsync(UserId userId, DeviceId deviceId, CancellationToken ct)
        {
            Unregistered.Enqueue((userId, deviceId));
            return inner.UnregisterAsync(userId, deviceId, ct);
        }

        public ValueTask CloseDeviceAsync(UserId userId, DeviceId deviceId, int closeCode, CancellationToken ct) => inner.CloseDeviceAsync(userId, deviceId, closeCode, ct);
        public ValueTask PublishPresenceAsync(UserId userId, ReadOnlyMemory<byte> presenceFrame, IReadOnlyCollection<UserId> hiddenFrom, CancellationToken ct) => inner.PublishPresenceAsync(userId, presenceFrame, hiddenFrom, ct);
        public ValueTask InvalidateChatAsync(ChatId chatId, CancellationToken ct) => inner.InvalidateChatAsync(chatId, ct);
        public ValueTask RegisterAsync(UserId userId, DeviceId deviceId, CancellationToken ct) => inner.RegisterAsync(userId, deviceId, ct);
    }

    private static async Task<(TestServer Server, FailingBackplane Backplane)> StartAsync(Microsoft.Extensions.Time.Testing.FakeTimeProvider clock,
        params (string Key, string Value)[] settings)
    {
        var server = await TestServer.StartWithAsync(new TestServerSetup(clock, services =>
        {
            services.AddSingleton(sp => new FailingBackplane(new LocalBackplane(sp.GetRequiredService<ILocalDelivery>())));
            services.AddSingleton<IBackplane>(sp => sp.GetRequiredService<FailingBackplane>());
        }), settings);
        return (server, server.Services.GetRequiredService<FailingBackplane>());
    }

    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task A_throw_in_the_typing_expiry_loop_is_logged_and_the_loop_and_the_host_go_on()
    {
        var clock = FakeClock.New();
        var (server, backplane) = await StartAsync(clock, ("Chat:Presence:TypingTimeoutSeconds", "1"));
        await using var _ = server;
        server.AllowErrors = true; // one error is expected: asserted below
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);

        backplane.FailNextTypingStop();
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sb.NextAsync("typing_start", ProtocolKit.Wait);
        for (var moved = TimeSpan.Zero; backplane.TypingStopsToFail > 0; moved += Step)
        {
            Assert.True(moved < TimeSpan.FromSeconds(10), "the expiry loop never relayed typing_stop");
            clock.Advance(Step);
            await Task.Delay(20);
        }
        await ProtocolKit.EventuallyAsync(() => Task.FromResult(server.Errors.Any(e => e.Contains("TypingService", StringComparison.Ordinal))),
            "the failed expiry step is logged");

        // The same loop still expires the next typer, and the host still serves.
        await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await sb.NextAsync("typing_start", ProtocolKit.Wait);
        var stop = await clock.AdvanceUntilAsync(sb, f => f.Type() == "typing_stop", Step, TimeSpan.FromSeconds(10));
        Assert.Equal(a.UserId, stop.Str("user_id"));
        Assert.False(server.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await server.GetAsync("/api/devices", a.Token)).Status);
        Assert.Single(server.Errors);
    }

    [Fact]
    public async Task A_throw_in_one_teardown_step_still_removes_presence_and_unregisters_the_route()
    {
        var clock = FakeClock.New();
        var (server, backplane) = await StartAsync(clock, ("Chat:Presence:GraceSeconds", "1"));
        await using var _ = server;
        var (_, watcher) = await server.NewUserAsync();
        var (_, u) = await server.NewUserAsync();
        var (_, peer) = await server.NewUserAsync();
        await using var w = await server.ConnectReadyAsync(watcher.Token);
        var su = await server.ConnectReadyAsync(u.Token);
        await w.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { u.UserId } });
        Assert.Equal("online", (await NextPresence(w, u.UserId)).Str("status"));

        // u is typing when its socket closes: the typing_stop relay of the teardown throws.
        await su.SendFrameAsync(new { type = "typing_start", chat_id = ProtocolKit.DirectId(u.UserId, peer.UserId) });
        await su.FenceAsync();
        backplane.FailNextTypingStop();
        await su.DisposeAsync();

        var offline = await clock.AdvanceUntilAsync(w, f => f.Type() == "presence_update" && f.Str("user_id") == u.UserId,
            Step, TimeSpan.FromSeconds(10));
        Assert.Equal("offline", offline.Str("status"));
        Assert.Equal(0, backplane.TypingStopsToFail); // the failure did happen
        await ProtocolKit.EventuallyAsync(() => Task.FromResult(backplane.Unregistered.Contains((new UserId(u.UserId), new DeviceId(u.DeviceId)))), "the route is unregistered");
        var devices = (await server.GetAsync("/api/devices", u.Token)).Body.GetProperty("devices");
        Assert.False(devices.EnumerateArray().Single(d => d.Str("device_id") == u.DeviceId).GetProperty("online").GetBoolean());
    }

    private static Task<JsonElement> NextPresence(ChatSocket s, string userId) =>
        s.NextAsync(f => f.Type() == "presence_update" && f.Str("user_id") == userId, ProtocolKit.Wait);
}
